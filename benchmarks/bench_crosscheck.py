"""Speed of `mncost crosscheck --all`: prints numbers, asserts nothing.

    python benchmarks/bench_crosscheck.py [--runs 3] [--jobs N]

Whole process, median of N runs of `mncost crosscheck --all --format json` (149
variants; the JSON says whether all were exact), beside the floor every run pays:
`python -c "import torch, fvcore"`. Target (2 cores): 30 s.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time

TARGET_S = 30.0


def timed(cmd: list[str]) -> tuple[float, str]:
    start = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, "COLUMNS": "160"})
    seconds = time.perf_counter() - start
    if done.returncode not in (0, 1):
        sys.exit(f"{' '.join(cmd)} failed ({done.returncode}): {done.stderr.strip()[-500:]}")
    return seconds, done.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--jobs", type=int, default=None, help="passed to --jobs (default: one per CPU)")
    args = parser.parse_args()
    exe = shutil.which("mncost")
    cmd = ([exe] if exe else [sys.executable, "-m", "mncost"]) + ["crosscheck", "--all", "--format", "json"]
    if args.jobs is not None:
        cmd += ["--jobs", str(args.jobs)]
    floor = [timed([sys.executable, "-c", "import torch, fvcore"])[0] for _ in range(args.runs)]
    runs = []
    summary: dict = {}
    for _ in range(args.runs):
        seconds, out = timed(cmd)
        runs.append(seconds)
        summary = json.loads(out)
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"machine: {cpus} CPUs, load average {load:.1f}")
    print(f"floor   python -c 'import torch, fvcore': median {statistics.median(floor):.2f} s ({args.runs} runs)")
    print(f"crosscheck --all ({summary.get('variants')} variants, {summary.get('exact')} exact): median {statistics.median(runs):.1f} s "
          f"(min {min(runs):.1f}, max {max(runs):.1f}, {args.runs} runs); target {TARGET_S:.0f} s")


if __name__ == "__main__":
    main()
