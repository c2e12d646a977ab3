"""Width-multiplier (α) arithmetic and the named rounding rules a spec can choose.

Rounding replicates the reference implementations bit for bit, including their
floating-point products (``in_chs * 2.3`` in timm), because a channel count that
lands one ulp below a rounding boundary changes the network.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from .schema import Context, describe, parse_record, suggest

WidthModeName = Literal["scale", "fixed", "at_least_1", "times_input"]
MODE_NAMES = ("scale", "fixed", "at_least_1", "times_input")
HiddenRule = Literal["exp_scaled", "round_ratio", "divisible_ratio"]
SERound = Literal["floor", "exact"]


def make_divisible(value: float, divisor: int = 8, min_value: int | None = None, round_limit: float = 0.9) -> int:
    """Round to the nearest multiple of ``divisor``, never more than 10% below ``value``.

    The rule of torchvision's ``_make_divisible`` and timm's ``make_divisible``:

    >>> make_divisible(32 * 0.35)
    16
    >>> make_divisible(24 * 0.5)
    16
    >>> make_divisible(1280 * 1.4)
    1792
    """
    floor = divisor if min_value is None else min_value
    rounded = max(floor, int(value + divisor / 2) // divisor * divisor)
    if rounded < round_limit * value:
        rounded += divisor
    return rounded


@dataclass(frozen=True, kw_only=True)
class WidthMode:
    """How one channel count follows α.

    ``scale``: make_divisible(c·α); ``fixed``: c; ``at_least_1``: make_divisible(c·max(1, α));
    ``times_input``: ``factor`` × the (already scaled) input width, e.g. torchvision's
    V3 head conv ``6 * lastconv_input_channels``.
    With ``fixed_below`` set, the count stays c while α < fixed_below (timm's fix_stem).
    """

    mode: WidthModeName = "scale"
    fixed_below: float | None = None
    factor: int | None = None

    def apply(self, channels: int, alpha: float, divisor: int, round_limit: float, in_channels: int) -> int:
        if self.mode == "times_input":
            if self.factor is None or self.factor < 1:
                raise ValueError("width mode times_input needs a positive integer 'factor'")
            return self.factor * in_channels
        if self.mode == "fixed" or (self.fixed_below is not None and alpha < self.fixed_below):
            return channels
        factor = max(1.0, alpha) if self.mode == "at_least_1" else alpha
        return make_divisible(channels * factor, divisor, round_limit=round_limit)


SCALE = WidthMode()

# A block's ``width:`` maps width-rule names to modes; "*" applies to every rule.
WidthPolicy = dict[str, WidthMode]


def parse_width_policy(raw: Any, path: str, ctx: Context) -> WidthPolicy:
    """``scale`` | ``{mode: scale, fixed_below: 0.75}`` | ``{RULE: mode-or-mapping, ...}``."""
    if isinstance(raw, str):
        return {"*": _parse_mode(raw, path, ctx)}
    if isinstance(raw, dict):
        if "mode" in raw or "fixed_below" in raw or "factor" in raw:
            return {"*": _parse_mode(raw, path, ctx)}
        return {str(rule): _parse_mode(value, f"{path}.{rule}", ctx) for rule, value in raw.items()}
    raise ctx.fail(path, f"expected a width mode ({', '.join(MODE_NAMES)}) or a mapping, got {describe(raw)}")


def _parse_mode(raw: Any, path: str, ctx: Context) -> WidthMode:
    if isinstance(raw, str):
        if raw not in MODE_NAMES:
            raise ctx.fail(path, f"expected one of {', '.join(MODE_NAMES)}, got {raw!r}{suggest(raw, MODE_NAMES)}")
        if raw == "times_input":
            raise ctx.fail(path, "times_input needs a factor: {mode: times_input, factor: N}")
        return WidthMode(mode=raw)  # type: ignore[arg-type]
    mode = parse_record(WidthMode, raw, path, ctx)
    if mode.mode == "times_input" and (mode.factor is None or mode.factor < 1):
        raise ctx.fail(path, "times_input needs a positive integer factor")
    return mode


@dataclass(frozen=True, kw_only=True)
class WidthRule:
    """A named family of rounding rules (``--width-rule``), with the implementation it follows.

    hidden: how an expansion layer's width is derived —
      ``exp_scaled``: make_divisible(exp·α) from the table's expanded size (torchvision V3);
      ``round_ratio``: round(C_in·t) with no divisor (torchvision V2);
      ``divisible_ratio``: make_divisible(C_in·t) (timm, all versions).
    se_round: squeeze width = make_divisible(C·ratio) on ``exact`` C·ratio (timm) or on
      ``floor`` C // (1/ratio) (torchvision).
    """

    source: str
    hidden: HiddenRule = "divisible_ratio"
    se_round: SERound = "exact"
    note: str = ""
