"""Depth multipliers: how a stage's block repeats follow a model's depth coefficient.

One named rule, timm's ``_scale_stage_depth`` (EfficientNet, TinyNet, MobileNetV2-110d/120d),
which also reproduces torchvision's EfficientNet (``ceil(n · d)`` per one-row stage):
the stage's total repeats are scaled (``ceil`` or ``round``, at least 1 for ``round``), then
shared out over its rows from the last row backwards, each row ``max(1, round(r / total ·
scaled))`` of what is left.
"""

from __future__ import annotations

import math
from typing import Literal

DepthTrunc = Literal["ceil", "round"]


def scale_repeats(repeats: list[int], multiplier: float, trunc: DepthTrunc = "ceil") -> list[int]:
    """The stage's rows' repeats under ``multiplier``.

    >>> scale_repeats([2], 1.1)          # EfficientNet-B1 stage 2: ceil(2.2)
    [3]
    >>> scale_repeats([1, 3], 1.2)       # two rows: total ceil(4.8) = 5, last row first
    [1, 4]
    >>> scale_repeats([3], 0.85, "round")
    [3]
    """
    total = sum(repeats)
    if multiplier == 1.0:
        return list(repeats)
    if trunc == "round":
        scaled = max(1, round(total * multiplier))
    else:
        scaled = int(math.ceil(total * multiplier))
    out: list[int] = []
    for r in reversed(repeats):
        share = max(1, round(r / total * scaled))
        out.append(share)
        total -= r
        scaled -= share
    return out[::-1]
