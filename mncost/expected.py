"""A spec's ``expected:`` counts against its own walk.

``expected`` records the reference implementation's exact counts (fvcore: conv + linear
MACs, attention MACs apart; conv + linear params) at α = 1, the default resolution and
the default width rule, and applies only there. ``crosscheck`` fails when they disagree;
``analyze`` warns (one line on stderr) and goes on.
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING

from .errors import MncostWarning

if TYPE_CHECKING:
    from .walker import Walk


class ExpectedCountsWarning(MncostWarning):
    """The spec's own counts disagree with its ``expected:`` record."""


def applies(w: Walk) -> bool:
    """``expected`` describes this walk: α = 1, the default resolution and width rule."""
    spec = w.spec
    return spec.expected is not None and w.alpha == 1.0 and w.resolution == spec.resolution and w.width_rule == spec.default_width_rule


def expected_rows(w: Walk) -> list[tuple[str, int, int]]:
    """(quantity, mncost's count, the spec's expected count); empty where ``expected`` does not apply."""
    if not applies(w):
        return []
    assert w.spec.expected is not None
    exp = w.spec.expected
    attention = sum(x.attention_macs for x in w.layers)
    return [
        ("conv + linear MACs", sum(x.macs for x in w.layers) - attention, exp.macs),
        ("attention MACs", attention, exp.attention_macs),
        ("params", sum(x.params for x in w.layers), exp.params),
    ]


def mismatch_message(w: Walk) -> str | None:
    """One line naming every quantity that differs, or None."""
    wrong = [f"{q} {mine:,} vs expected {theirs:,}" for q, mine, theirs in expected_rows(w) if mine != theirs]
    if not wrong:
        return None
    where = f"{w.spec.file}: " if w.spec.file else ""
    return f"{where}expected: the spec's counts disagree with its expected counts ({'; '.join(wrong)})"


def warn_if_mismatched(w: Walk) -> None:
    """Warn (ExpectedCountsWarning) when ``expected`` applies and disagrees."""
    message = mismatch_message(w)
    if message is not None:
        warnings.warn(message, ExpectedCountsWarning, stacklevel=3)
