"""Speed of sweeps: prints numbers, asserts nothing.

    python benchmarks/bench_sweep.py

1. whole process: the issue's grid, 10 built-ins × 6 α × 6 resolutions × 4 profiles, as CSV;
2. in process: about 100,000 rows (models × α × resolutions × 4 profiles), with peak memory.
"""

from __future__ import annotations

import os
import resource
import shutil
import statistics
import subprocess
import sys
import time


def whole_process(runs: int = 5) -> None:
    exe = shutil.which("mncost")
    cmd = [exe] if exe else [sys.executable, "-m", "mncost"]
    cmd += ["sweep", "--models", "all", "--alpha", "0.5,0.75,1.0,1.25,1.5,2.0", "--resolution", "128,160,192,224,256,320", "--hw", "all", "--format", "csv"]
    times, rows = [], 0
    for _ in range(runs):
        start = time.perf_counter()
        out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
        times.append(time.perf_counter() - start)
        rows = out.count("\n") - 1
    print(f"whole process  sweep of {rows} rows as CSV: median {statistics.median(times):.2f} s (min {min(times):.2f}, max {max(times):.2f}, {runs} runs)")


def big_in_process() -> None:
    import mncost
    from mncost import builtin
    from mncost.hardware import builtin_hardware
    from mncost.sweep import sweep

    specs = [mncost.load_spec(n) for n in builtin.spec_files()]
    alphas = [round(0.25 + 0.05 * i, 2) for i in range(26)]          # 0.25 … 1.5
    resolutions = list(range(96, 384 + 1, 3))                          # 97 resolutions
    start = time.perf_counter()
    df = sweep(specs, builtin_hardware(), alphas=alphas, resolutions=resolutions)
    elapsed = time.perf_counter() - start
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"in process     sweep of {len(df):,} rows ({len(df) // 4:,} walks × 4 profiles): {elapsed:.1f} s, peak RSS {peak_mb:.0f} MB")


if __name__ == "__main__":
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cores")
    whole_process()
    big_in_process()
