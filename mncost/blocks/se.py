"""Squeeze-and-excitation: the spec-wide form (``se: true``) and the per-block form (``se: {...}``).

A block's ``se`` key is either a boolean (the spec's top-level ``se:`` settings, the
MobileNetV3 convention: squeeze = make_divisible(expanded · ratio) under the width
rule) or a mapping that sizes this block's SE itself. The mapping expresses both
reference implementations:

- timm ``SqueezeExcite(rd_ratio, rd_round_fn, force_act_layer, gate_layer)``: EfficientNet,
  MnasNet, TinyNet squeeze the *block input* (``se_from_exp=False``) by 0.25 and round with
  Python ``round``; the SE activation is the block's unless ``force_act_layer`` (``act:``) is set;
  GhostNet rounds to a multiple of 4 (``round: divisible, divisor: 4``);
- torchvision ``efficientnet.py``: ``max(1, input_channels // 4)``, SiLU, sigmoid gate
  (``{base: input, round: floor, act: silu, gate: sigmoid}``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Literal

from .. import ops
from ..ops import Activation, LayerCost, Shape
from ..schema import Context, describe, fraction, meta, parse_record, positive
from ..width import make_divisible
from .base import BlockContext

SEBase = Literal["input", "expanded"]
SERounding = Literal["round", "floor", "divisible"]


@dataclass(frozen=True, kw_only=True)
class BlockSE:
    """One block's squeeze-excite: S = rounding(base · ratio), at least 1.

    ``base``: the block's input width (``input``) or the width the SE sits on (``expanded``);
    ``round``: Python ``round`` (timm's default), ``floor`` (torchvision's ``// 4``) or
    ``divisible`` (make_divisible by ``divisor``, default the spec's divisor);
    ``act``: the reduce activation, default the block's own; ``gate``: the expand activation.
    """

    ratio: float = field(default=0.25, metadata=meta(check=fraction))
    base: SEBase = "input"
    round: SERounding = "round"
    divisor: int | None = field(default=None, metadata=meta(check=positive))
    act: Activation | None = None
    gate: Activation = "sigmoid"


SE = bool | BlockSE


def parse_se(raw: Any, path: str, ctx: Context) -> SE:
    """``se: true|false`` or ``se: {ratio, base, round, divisor, act, gate}``."""
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, dict):
        return parse_record(BlockSE, raw, path, ctx)
    raise ctx.fail(path, f"expected true, false or a mapping of SE settings, got {describe(raw)}")


@dataclass(frozen=True)
class SESize:
    """The resolved SE of one block instance: squeeze width and its two activations."""

    squeeze: int
    act: str
    gate: str


def se_size(se: SE, ctx: BlockContext, *, in_channels: int, channels: int, block_act: str) -> SESize | None:
    """The SE a block carries on a ``channels``-wide map, or None.

    >>> from mncost.width import WidthRule
    >>> from mncost.blocks.base import SESettings
    >>> ctx = BlockContext(alpha=1.0, rule_name="x", rule=WidthRule(source=""), divisor=8, round_limit=0.9, se=SESettings())
    >>> se_size(BlockSE(), ctx, in_channels=32, channels=32, block_act="swish")   # EfficientNet-B0's first block
    SESize(squeeze=8, act='swish', gate='sigmoid')
    >>> se_size(BlockSE(), ctx, in_channels=24, channels=144, block_act="swish").squeeze
    6
    """
    if se is False:
        return None
    if se is True:
        if ctx.se.base is None:
            return SESize(ctx.squeeze(channels, ctx.se.ratio), ctx.se.act, ctx.se.gate)
        spec_wide = ctx.se
        se = BlockSE(ratio=spec_wide.ratio, base=spec_wide.base, round=spec_wide.round, divisor=spec_wide.divisor, act=spec_wide.act, gate=spec_wide.gate)
    base = in_channels if se.base == "input" else channels
    value = base * se.ratio
    if se.round == "round":
        squeeze = round(value)
    elif se.round == "floor":
        squeeze = math.floor(value)
    else:
        squeeze = make_divisible(value, se.divisor or ctx.divisor, round_limit=ctx.round_limit)
    return SESize(max(1, squeeze), se.act or block_act, se.gate)


def squeeze_excite(name: str, kind: str, shape: Shape, size: SESize) -> list[LayerCost]:
    """SE on a C×H×W map: pool → 1×1 conv C→S (+bias, act) → 1×1 conv S→C (+bias, gate) → scale."""
    c = shape[0]
    pool = ops.global_pool(f"{name}.pool", kind, shape, group="se")
    reduce = ops.conv2d(f"{name}.reduce", kind, pool.out_shape, size.squeeze, 1, bias=True, bn=False, act=size.act, op="se_fc", group="se")
    expand = ops.conv2d(f"{name}.expand", kind, reduce.out_shape, c, 1, bias=True, bn=False, act=size.gate, op="se_fc", group="se")
    scale = ops.channel_scale(f"{name}.scale", kind, shape, group="se")
    return [pool, reduce, expand, scale]


def block_se(se: SE, ctx: BlockContext, name: str, kind: str, shape: Shape, *, in_channels: int, block_act: str) -> list[LayerCost]:
    """The SE layers of a block (none when ``se`` is false)."""
    size = se_size(se, ctx, in_channels=in_channels, channels=shape[0], block_act=block_act)
    return [] if size is None else squeeze_excite(name, kind, shape, size)
