"""Blocks made of other blocks, and the multi-branch pieces of the zoo.

- ``group``: a list of blocks run in order, optionally with a residual around them whose
  shortcut may have its own layers (GhostNet's dw + pw projection, a pool + conv); ``n``
  repeats the whole group (MobileOne stages, ConvNeXt stages written as layers).
- ``se``: a squeeze-excite on the current map, for nets that put it after any conv
  (MobileOne-S4's deployed blocks).
- ``ghost``: the Ghost module (Han et al., CVPR 2020, Fig. 2): a primary conv to
  ceil(out / ratio) channels, a cheap depthwise conv making (ratio − 1) times as many,
  their concatenation sliced to ``out`` channels (timm ``GhostModule``).
- ``concat``: parallel branches on the same input (or, with ``split``, on equal channel
  parts of it) whose outputs are concatenated along the channels: SqueezeNet's Fire
  expand convs, ShuffleNetV2's units, Inception-style blocks; an empty branch passes
  its input (part) through.

Concatenation and channel slicing are views: they add no layer (README, "Counting conventions").
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, ClassVar

from .. import ops
from ..ops import Activation, LayerCost, Shape
from ..schema import Context, fraction, meta, positive, require_list
from ..yamlio import join_path
from .base import BLOCK_TYPES, Block, BlockContext, register
from .se import BlockSE, SERounding, se_size, squeeze_excite


def parse_blocks(raw: Any, path: str, ctx: Context) -> tuple[Block, ...]:
    """A non-empty list of blocks, each validated like a stage's blocks."""
    from ..spec import _parse_block  # the block grammar lives with the spec; imported late (spec imports blocks)

    items = require_list(raw, path, ctx)
    if not items:
        raise ctx.fail(path, "expected a non-empty list of blocks")
    return tuple(_parse_block(item, join_path(path, i), ctx) for i, item in enumerate(items))


def parse_optional_blocks(raw: Any, path: str, ctx: Context) -> tuple[Block, ...]:
    if raw is None:
        return ()
    return parse_blocks(raw, path, ctx)


@dataclass(frozen=True, kw_only=True)
class Group(Block):
    """``blocks`` in order; with ``residual: true`` the group's input is added back, through
    the ``shortcut`` blocks when given (else unchanged), and ``act`` runs after the add
    (ResNet's ReLU; fused into the add). ``shortcut_first`` lists the shortcut's layers before
    the blocks' (torchvision RegNet computes ``proj(x)`` first): the order only, no count
    changes. ``n`` repeats the group; a repeated group may not contain strides (write the
    downsampling group once, then the repeats)."""

    TYPE: ClassVar[str] = "group"
    blocks: tuple[Block, ...] = field(metadata=meta(parse=parse_blocks))
    shortcut: tuple[Block, ...] = field(default=(), metadata=meta(parse=parse_optional_blocks))
    residual: bool = False
    act: Activation = "none"
    shortcut_first: bool = False
    kind: str = "group"


def run_blocks(blocks: tuple[Block, ...], ctx: BlockContext, shape: Shape, prefix: str) -> tuple[list[LayerCost], Shape]:
    """Expand inner blocks in order; an inner block's layers are named PREFIX.INDEX (or PREFIX.NAME)."""
    layers: list[LayerCost] = []
    for i, block in enumerate(blocks):
        new, shape = BLOCK_TYPES[block.TYPE].expand(block, ctx, shape, f"{prefix}.{block.name or i}")
        layers += new
    return layers, shape


def strided(blocks: tuple[Block, ...]) -> bool:
    return any(getattr(b, "stride", 1) != 1 or (isinstance(b, Group) and (strided(b.blocks) or strided(b.shortcut)))
               or (isinstance(b, Concat) and any(strided(branch) for branch in b.branches)) for b in blocks)


@register(Group, "a group of blocks, optionally residual with its own shortcut layers; n repeats the group")
def expand_group(b: Group, ctx: BlockContext, shape: Shape, name: str) -> tuple[list[LayerCost], Shape]:
    if b.n > 1 and (strided(b.blocks) or strided(b.shortcut)):
        raise ValueError("a repeated group (n > 1) cannot contain strides: write the downsampling group once, then the repeats")
    if b.shortcut and not b.residual:
        raise ValueError("a shortcut needs residual: true")
    if b.act != "none" and not b.residual:
        raise ValueError("act runs after the residual add: it needs residual: true (else give the last block its act)")
    if b.shortcut_first and not b.shortcut:
        raise ValueError("shortcut_first needs a shortcut")
    layers, out = run_blocks(b.blocks, ctx, shape, name)
    if not b.residual:
        return layers, out
    skip: Shape = shape
    if b.shortcut:
        short, skip = run_blocks(b.shortcut, ctx, shape, f"{name}.shortcut")
        layers = short + layers if b.shortcut_first else layers + short
    if skip != out:
        raise ValueError(f"the residual adds {out} to a shortcut of shape {skip}; give the group a shortcut that matches")
    layers.append(ops.residual_add(f"{name}.add", b.kind, out, act=b.act))
    return layers, out


@dataclass(frozen=True, kw_only=True)
class SE(Block):
    """Squeeze-excite on the current C×H×W map: S = rounding(C · ratio) (see ``blocks.se``)."""

    TYPE: ClassVar[str] = "se"
    ratio: float = field(default=0.25, metadata=meta(check=fraction))
    round: SERounding = "round"
    divisor: int | None = field(default=None, metadata=meta(check=positive))
    act: Activation = "relu"
    gate: Activation = "sigmoid"
    kind: str = "se"


@register(SE, "squeeze-and-excitation on the current map")
def expand_se(b: SE, ctx: BlockContext, shape: Shape, name: str) -> tuple[list[LayerCost], Shape]:
    size = se_size(BlockSE(ratio=b.ratio, base="expanded", round=b.round, divisor=b.divisor, act=b.act, gate=b.gate),
                   ctx, in_channels=shape[0], channels=shape[0], block_act=b.act)
    assert size is not None
    return squeeze_excite(name, b.kind, shape, size), shape


def parse_branches(raw: Any, path: str, ctx: Context) -> tuple[tuple[Block, ...], ...]:
    """At least two lists of blocks; an empty list is a branch that passes its input through."""
    items = require_list(raw, path, ctx)
    if len(items) < 2:
        raise ctx.fail(path, f"expected a list of at least two branches (each a list of blocks, [] for the input itself), got {len(items)}")
    branches = []
    for i, item in enumerate(items):
        where = join_path(path, i)
        branches.append(() if require_list(item, where, ctx) == [] else parse_blocks(item, where, ctx))
    return tuple(branches)


@dataclass(frozen=True, kw_only=True)
class Concat(Block):
    """``branches`` run on the block's input and concatenated along the channels, in the order
    listed (the order of their layers too). With ``split: true`` the input's channels are cut
    into as many equal parts as there are branches, the i-th branch reading the i-th part
    (ShuffleNetV2's channel split). Every branch must keep the same H×W."""

    TYPE: ClassVar[str] = "concat"
    branches: tuple[tuple[Block, ...], ...] = field(metadata=meta(parse=parse_branches))
    split: bool = False
    kind: str = "concat"


@register(Concat, "parallel branches concatenated along the channels (Fire, ShuffleNetV2, Inception); split: equal channel parts")
def expand_concat(b: Concat, ctx: BlockContext, shape: Shape, name: str) -> tuple[list[LayerCost], Shape]:
    if len(shape) != 3:
        raise ValueError(f"concat needs a C×H×W map, got the shape {shape}")
    if b.n > 1 and any(strided(branch) for branch in b.branches):
        raise ValueError("a repeated concat (n > 1) cannot contain strides: write the downsampling one once, then the repeats")
    part = shape
    if b.split:
        if shape[0] % len(b.branches):
            raise ValueError(f"split: {shape[0]} channels do not cut into {len(b.branches)} equal parts")
        part = (shape[0] // len(b.branches), *shape[1:])
    layers: list[LayerCost] = []
    outs: list[Shape] = []
    for i, branch in enumerate(b.branches):
        new, out = run_blocks(branch, ctx, part, f"{name}.{i}")
        if len(out) != 3:
            raise ValueError(f"branch {i} ends flattened ({out}): only C×H×W maps concatenate along the channels")
        layers += new
        outs.append(out)
    if any(o[1:] != outs[0][1:] for o in outs):
        raise ValueError(f"the branches end at {', '.join('×'.join(map(str, o)) for o in outs)}: only maps of one H×W concatenate")
    return layers, (sum(o[0] for o in outs), *outs[0][1:])


def ghost_widths(out: int, ratio: int) -> tuple[int, int]:
    """(primary, cheap) output channels of a Ghost module: ceil(out / ratio) and (ratio − 1) times that.

    >>> ghost_widths(16, 2), ghost_widths(72, 2), ghost_widths(30, 3)
    ((8, 8), (36, 36), (10, 20))
    """
    primary = math.ceil(out / ratio)
    return primary, primary * (ratio - 1)


@dataclass(frozen=True, kw_only=True)
class Ghost(Block):
    """Ghost module: primary k×k conv C → ceil(out/ratio) (+BN, act), cheap ``dw_k``×``dw_k``
    conv grouped per primary channel → (ratio − 1)·that (+BN, act), concatenated, sliced to ``out``."""

    TYPE: ClassVar[str] = "ghost"
    out: int = field(metadata=meta(check=positive))
    k: int = field(default=1, metadata=meta(check=positive))
    ratio: int = field(default=2, metadata=meta(check=positive))
    dw_k: int = field(default=3, metadata=meta(check=positive))
    stride: int = field(default=1, metadata=meta(check=positive))
    act: Activation = "relu"
    kind: str = "ghost"


@register(Ghost, "Ghost module: primary conv + cheap depthwise conv, concatenated and sliced (GhostNet)")
def expand_ghost(b: Ghost, ctx: BlockContext, shape: Shape, name: str) -> tuple[list[LayerCost], Shape]:
    if b.ratio < 2:
        raise ValueError(f"a Ghost module needs ratio >= 2, got {b.ratio}")
    out = ctx.channels(b.out, b.width, shape[0])
    primary_chs, cheap_chs = ghost_widths(out, b.ratio)
    primary = ops.conv2d(f"{name}.primary", b.kind, shape, primary_chs, b.k, stride=b.stride, act=b.act, padding=b.k // 2)
    cheap = ops.conv2d(f"{name}.cheap", b.kind, primary.out_shape, cheap_chs, b.dw_k, groups=primary_chs, act=b.act, padding=b.dw_k // 2)
    return [primary, cheap], (out, *primary.out_shape[1:])

