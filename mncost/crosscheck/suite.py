"""``crosscheck --all``: every built-in over its pinned α × resolution grid, in parallel."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from .compare import CrossCheck


@dataclass
class Suite:
    """The results of :func:`check_all`, in grid order, and the wall time they took."""

    results: list[CrossCheck] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return all(r.ok for r in self.results)


def check_all(*, jobs: int | None = None, on_result: Callable[[CrossCheck, int], None] | None = None) -> Suite:
    """Cross-check every point of :func:`mncost.crosscheck.grid` on ``jobs`` processes;
    ``on_result(result, total)`` is called as each one arrives (a progress bar)."""
    from . import crosscheck_many, grid

    points = grid()
    suite = Suite()
    start = time.perf_counter()
    for result in crosscheck_many(points, jobs=jobs):
        suite.results.append(result)
        if on_result is not None:
            on_result(result, len(points))
    suite.seconds = time.perf_counter() - start
    return suite
