"""Whole-process timing for the benchmark scripts: wall time (time.perf_counter around the
child), its CPU time and peak RSS (os.wait4's resource usage of that child alone).

Runs of the measured commands and of the floors are interleaved, so that a busy shared
machine slows them alike; medians are reported, and ratios to the floors.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@dataclass
class Samples:
    label: str
    argv: list[str]
    env: dict[str, str] = field(default_factory=dict)
    wall_s: list[float] = field(default_factory=list)
    cpu_s: list[float] = field(default_factory=list)
    rss_mib: list[float] = field(default_factory=list)

    def run_once(self) -> None:
        env = {**os.environ, "PYTHONPATH": REPO, **self.env}
        start = time.perf_counter()
        # a neutral working directory: `python -m` puts the cwd first on sys.path
        child = subprocess.Popen(self.argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, cwd=tempfile.gettempdir())
        _, status, usage = os.wait4(child.pid, 0)
        self.wall_s.append(time.perf_counter() - start)
        child.returncode = os.waitstatus_to_exitcode(status)
        if child.returncode != 0:
            raise SystemExit(f"{self.label}: exit {child.returncode} ({' '.join(self.argv)})")
        self.cpu_s.append(usage.ru_utime + usage.ru_stime)
        self.rss_mib.append(usage.ru_maxrss / 1024)  # kB on Linux

    @property
    def wall(self) -> float:
        return statistics.median(self.wall_s)

    @property
    def cpu(self) -> float:
        return statistics.median(self.cpu_s)

    @property
    def rss(self) -> float:
        return statistics.median(self.rss_mib)


def python(*args: str) -> list[str]:
    return [sys.executable, *args]


def measure(samples: list[Samples], runs: int, warmup: int = 1) -> None:
    for _ in range(warmup):  # page cache, __pycache__, mncost's cache of parsed built-ins
        for s in samples:
            s.run_once()
            s.wall_s.clear(), s.cpu_s.clear(), s.rss_mib.clear()
    for _ in range(runs):
        for s in samples:
            s.run_once()


def machine() -> str:
    import platform

    load = os.getloadavg() if hasattr(os, "getloadavg") else ("?",) * 3
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return (f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {platform.machine()} {platform.system()}, "
            f"{cpus} cores, Python {platform.python_version()}, load average {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}")


def row(s: Samples, target: str = "", floors: tuple[Samples, ...] = ()) -> str:
    ratios = "  ".join(f"{s.wall / f.wall:4.1f}× {f.label}" for f in floors)
    return (f"{s.label:<44} wall {s.wall * 1e3:8.1f} ms  cpu {s.cpu * 1e3:8.1f} ms  rss {s.rss:6.1f} MiB"
            f"  {target:<22} {ratios}")
