"""Speed of the analyze path: prints numbers, asserts nothing.

    python benchmarks/bench_analyze.py [--runs 15]

1. whole process: `mncost analyze v3-large --hw edgetpu` (median and spread of N runs);
2. in process: walking every built-in over the pinned α × resolution grids;
3. which heavy modules the analyze path imports (torch, pandas and matplotlib must not).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time

GRIDS = {
    "v1": ([0.25, 0.5, 0.75, 1.0, 1.25], [128, 160, 192, 224]),
    "v1-cifar": ([0.25, 0.5, 0.75, 1.0, 1.25], [32]),
    "v2": ([0.35, 0.5, 0.75, 1.0, 1.3, 1.4], [96, 128, 160, 192, 224]),
    "v3-large": ([0.5, 0.75, 1.0, 1.25], [160, 192, 224, 256]),
    "v3-small": ([0.5, 0.75, 1.0, 1.25], [160, 192, 224, 256]),
    "v4-conv-s": ([0.5, 0.75, 1.0, 1.25], [224, 256, 384]),
    "v4-conv-m": ([0.5, 0.75, 1.0, 1.25], [224, 256, 384]),
    "v4-conv-l": ([0.5, 0.75, 1.0, 1.25], [224, 256, 384]),
    "v4-hybrid-m": ([0.5, 0.75, 1.0, 1.25], [224, 256, 384]),
    "v4-hybrid-l": ([0.5, 0.75, 1.0, 1.25], [224, 256, 384]),
}


def whole_process(runs: int) -> None:
    exe = shutil.which("mncost")
    cmd = [exe] if exe else [sys.executable, "-m", "mncost"]
    cmd += ["analyze", "v3-large", "--hw", "edgetpu"]
    times = []
    for _ in range(runs + 1):
        start = time.perf_counter()
        subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True, env={**os.environ, "COLUMNS": "160"})
        times.append(time.perf_counter() - start)
    times = times[1:]  # the first run warms the page cache
    print(f"whole process  {' '.join(cmd[-4:])}: median {statistics.median(times) * 1e3:.0f} ms "
          f"(min {min(times) * 1e3:.0f}, max {max(times) * 1e3:.0f}, {runs} runs)")


def in_process(repeats: int) -> None:
    import mncost

    specs = {name: mncost.load_spec(name) for name in GRIDS}  # parse once, as a sweep does
    best = float("inf")
    configs = 0
    for _ in range(repeats):
        start = time.perf_counter()
        configs = 0
        for name, (alphas, resolutions) in GRIDS.items():
            spec = specs[name]
            for rule in spec.width_rules:
                for alpha in alphas:
                    for res in resolutions:
                        mncost.walk(spec, alpha=alpha, resolution=res, width_rule=rule)
                        configs += 1
        best = min(best, time.perf_counter() - start)
    print(f"in process     counting {configs} configurations of all built-ins: {best * 1e3:.1f} ms (best of {repeats})")
    start = time.perf_counter()
    mncost.load_spec.__wrapped__ if hasattr(mncost.load_spec, "__wrapped__") else None
    from mncost.spec import load_spec_file
    from mncost import builtin

    for path in builtin.spec_files().values():
        load_spec_file(path)
    print(f"in process     parsing all {len(builtin.spec_files())} built-in specs from YAML: {(time.perf_counter() - start) * 1e3:.1f} ms")


def heavy_imports() -> None:
    code = (
        "import sys; from mncost.cli import main; "
        "main(['analyze', 'v3-large', '--hw', 'edgetpu', '--format', 'json']); "
        "print([m for m in ('torch', 'pandas', 'matplotlib', 'numpy') if m in sys.modules], file=sys.stderr)"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    print(f"analyze path imports of torch/pandas/matplotlib/numpy: {proc.stderr.strip()}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cores")
    whole_process(args.runs)
    in_process(5)
    heavy_imports()
