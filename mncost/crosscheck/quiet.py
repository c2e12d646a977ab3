"""Silence the deprecation chatter of torch and its tracing stack, and nothing else.

torch 2.14 warns ``FutureWarning: `torch.jit.script` is deprecated`` when fvcore is
imported, and the tracer may add similar notices. They say nothing about the counts,
so they are ignored while a dependency is imported or a model is traced; the filter
matches by the module that raises, so a warning raised by mncost itself still shows.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager

# Where the chatter comes from: torch (jit, tracer), fvcore and its iopath, and the
# model zoos a reference is built from.
DEPENDENCIES = r"(torch|fvcore|iopath|torchvision|timm)(\..*)?$"


@contextmanager
def quiet_dependencies() -> Iterator[None]:
    """Inside: FutureWarning / DeprecationWarning raised by a dependency are ignored."""
    with warnings.catch_warnings():
        for category in (FutureWarning, DeprecationWarning, PendingDeprecationWarning):
            warnings.filterwarnings("ignore", category=category, module=DEPENDENCIES)
        yield
