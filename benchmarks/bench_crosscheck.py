"""Speed of `mncost crosscheck --all`: prints numbers, asserts nothing.

    python benchmarks/bench_crosscheck.py [--runs 3] [--jobs N]

Whole process, median of N runs of `mncost crosscheck --all --format json` (every
built-in's pinned grid, 238 variants; the JSON says whether all were exact), with its CPU
time (parent and workers: on a shared machine, wall time over CPU time / cores says how loaded it was), beside the floor every run pays:
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
import tempfile
import time

TARGET_S = 30.0


def timed(cmd: list[str]) -> tuple[float, float, str]:
    """Wall seconds, CPU seconds of the child and its workers (os.wait4), and its stdout."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        start = time.perf_counter()
        child = subprocess.Popen(cmd, stdout=out, stderr=err, text=True, env={**os.environ, "COLUMNS": "160"})
        _, status, usage = os.wait4(child.pid, 0)
        seconds = time.perf_counter() - start
        code = os.waitstatus_to_exitcode(status)
        out.seek(0), err.seek(0)
        if code not in (0, 1):
            sys.exit(f"{' '.join(cmd)} failed ({code}): {err.read().strip()[-500:]}")
        return seconds, usage.ru_utime + usage.ru_stime, out.read()


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
    runs, cpu = [], []
    summary: dict = {}
    for _ in range(args.runs):
        seconds, used, out = timed(cmd)
        runs.append(seconds)
        cpu.append(used)
        summary = json.loads(out)
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {cpus} CPUs, load average {load:.1f}")
    print(f"floor   python -c 'import torch, fvcore': median {statistics.median(floor):.2f} s ({args.runs} runs)")
    print(f"crosscheck --all ({summary.get('variants')} variants, {summary.get('exact')} exact): median {statistics.median(runs):.1f} s "
          f"(min {min(runs):.1f}, max {max(runs):.1f}, {args.runs} runs), CPU {statistics.median(cpu):.1f} s (parent and workers); "
          f"target {TARGET_S:.0f} s: {'met' if statistics.median(runs) <= TARGET_S else 'NOT met'}")


if __name__ == "__main__":
    main()
