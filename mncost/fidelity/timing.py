"""How a benchmark times one network: pinned to a core, repeated until the spread is small.

:func:`time_until_steady` runs ``warmup`` untimed calls, then timed calls in rounds of
``runs`` until the noise figure (interquartile range / median of all timed calls) is at
most ``target_noise`` or ``max_runs`` calls have been timed. :func:`pinned` keeps the
process on one logical CPU while it measures (Linux ``sched_setaffinity``; elsewhere a
no-op), so a single-threaded run does not migrate between cores.

The noise figure travels with each measurement (``latency_iqr_ms``); :data:`NOISY` is the
figure above which ``bench`` warns loudly that the machine is too busy to measure.
"""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

NOISY = 0.10
"""IQR / median above which a measurement is flagged as too noisy to trust."""


@dataclass(frozen=True)
class Timing:
    samples: tuple[float, ...]

    @property
    def median_s(self) -> float:
        return statistics.median(self.samples)

    @property
    def iqr_s(self) -> float:
        if len(self.samples) < 2:
            return 0.0
        q = statistics.quantiles(self.samples, n=4)
        return q[2] - q[0]

    @property
    def min_s(self) -> float:
        return min(self.samples)

    @property
    def noise(self) -> float:
        """Interquartile range over median: the spread of the timed runs."""
        return self.iqr_s / self.median_s if self.median_s > 0 else float("inf")


def time_until_steady(fn: Callable[[], Any], *, warmup: int, runs: int, max_runs: int | None = None, target_noise: float = 0.02) -> Timing:
    """Time ``fn`` in rounds of ``runs`` calls until the noise is ≤ ``target_noise`` (or ``max_runs``)."""
    for _ in range(warmup):
        fn()
    cap = max(runs, max_runs if max_runs is not None else runs)
    samples: list[float] = []
    while len(samples) < cap:
        for _ in range(min(runs, cap - len(samples))):
            start = time.perf_counter()
            fn()
            samples.append(time.perf_counter() - start)
        if Timing(tuple(samples)).noise <= target_noise:
            break
    return Timing(tuple(samples))


@contextmanager
def pinned(threads: int | None) -> Iterator[bool]:
    """Pin this process to one logical CPU while a single-threaded run measures; yields whether it did."""
    if threads != 1 or not hasattr(os, "sched_setaffinity"):
        yield False
        return
    before = os.sched_getaffinity(0)
    try:
        os.sched_setaffinity(0, {max(before)})
    except OSError:
        yield False
        return
    try:
        yield True
    finally:
        os.sched_setaffinity(0, before)


def noise_check(rows: Iterable[Any], max_noise: float | None) -> None:
    """Warn (stderr) about every measurement noisier than :data:`NOISY`; refuse above ``max_noise``.

    ``rows`` are measurements (``name``, ``latency_ms``, ``latency_iqr_ms``, ``runs``).
    """
    import sys

    from ..errors import OptionError

    for r in rows:
        if getattr(r, "status", "ok") != "ok":  # a run that failed has no noise figure
            continue
        noise = (r.latency_iqr_ms or 0.0) / r.latency_ms
        if max_noise is not None and noise > max_noise:
            raise OptionError(f"{r.name}: noise {noise:.0%} (IQR / median of {r.runs} runs) is above --max-noise {max_noise:g}: the machine is too busy to measure")
        if noise > NOISY:
            print(f"warning: {r.name}: noise {noise:.0%} (IQR / median of {r.runs} runs) is above {NOISY:.0%}: "
                  "the machine is too busy for a trustworthy measurement", file=sys.stderr)
