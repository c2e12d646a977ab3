"""MobileNet V1–V3 blocks: depthwise-separable, inverted residual, squeeze-and-excitation."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

from .. import ops
from ..ops import Activation, LayerCost, Shape
from ..schema import at_least, meta, positive
from .base import Block, BlockContext, register
from .se import SE, block_se, parse_se


@dataclass(frozen=True, kw_only=True)
class DepthwiseSeparable(Block):
    """MobileNetV1 block: depthwise k×k (+BN, act), optional SE, pointwise 1×1 (+BN, act)."""

    TYPE: ClassVar[str] = "dsconv"
    out: int = field(metadata=meta(check=positive))
    k: int = field(default=3, metadata=meta(check=positive))
    stride: int = field(default=1, metadata=meta(check=positive))
    act: Activation = "relu"
    pw_act: bool = True
    se: SE = field(default=False, metadata=meta(parse=parse_se))
    skip: bool = False  # residual when stride 1 and in == out (timm's ds blocks; not in V1)
    bias: bool = False  # biased convs (re-parameterized or norm-free nets)
    kind: str = "ds"


@register(DepthwiseSeparable, "V1 depthwise-separable block: dw k×k → (SE) → pw 1×1")
def expand_dsconv(b: DepthwiseSeparable, ctx: BlockContext, shape: Shape, name: str) -> tuple[list[LayerCost], Shape]:
    c = shape[0]
    out = ctx.channels(b.out, b.width, shape[0])
    dw = ops.conv2d(f"{name}.dw", b.kind, shape, c, b.k, stride=b.stride, groups=c, act=b.act, bias=b.bias)
    layers = [dw]
    layers += block_se(b.se, ctx, f"{name}.se", b.kind, dw.out_shape, in_channels=c, block_act=b.act)
    pw = ops.conv2d(f"{name}.pw", b.kind, dw.out_shape, out, 1, act=b.act if b.pw_act else "none", bias=b.bias)
    layers.append(pw)
    if b.skip and b.stride == 1 and out == c:
        layers.append(ops.residual_add(f"{name}.add", b.kind, pw.out_shape))
    return layers, pw.out_shape


@dataclass(frozen=True, kw_only=True)
class InvertedResidual(Block):
    """MobileNetV2/V3 inverted residual: expand 1×1 → depthwise k×k → (SE) → linear project 1×1.

    The expansion is given as a ratio ``expand`` (t, of the input width) and/or as
    the paper table's absolute ``exp`` size; the width rule picks which one is used.
    The expand conv is skipped when the hidden width equals the input width (unless
    ``keep_expand: true``: FBNet, SPNASNet and MNASNet keep a 1×1 C→C conv at t = 1), and
    the residual is added when stride is 1 and in == out (unless ``skip: false``).
    ``se`` is a boolean (the spec-wide SE) or a per-block SE mapping (see ``blocks.se``).
    """

    TYPE: ClassVar[str] = "ir"
    out: int = field(metadata=meta(check=positive))
    k: int = field(default=3, metadata=meta(check=positive))
    stride: int = field(default=1, metadata=meta(check=positive))
    expand: float | None = field(default=None, metadata=meta(check=at_least(1.0)))
    exp: int | None = field(default=None, metadata=meta(check=positive))
    se: SE = field(default=False, metadata=meta(parse=parse_se))
    act: Activation = "relu6"
    skip: bool = True
    keep_expand: bool = False
    bias: bool = False
    kind: str = "ir"


@register(InvertedResidual, "V2/V3 inverted residual: pw expand → dw k×k → (SE) → pw project, residual")
def expand_ir(b: InvertedResidual, ctx: BlockContext, shape: Shape, name: str) -> tuple[list[LayerCost], Shape]:
    c = shape[0]
    out = ctx.channels(b.out, b.width, shape[0])
    hidden = ctx.hidden(c, b.expand, b.exp, b.width)
    layers: list[LayerCost] = []
    x = shape
    if hidden != c or b.keep_expand:
        expand = ops.conv2d(f"{name}.expand", b.kind, x, hidden, 1, act=b.act, bias=b.bias)
        layers.append(expand)
        x = expand.out_shape
    dw = ops.conv2d(f"{name}.dw", b.kind, x, hidden, b.k, stride=b.stride, groups=hidden, act=b.act, bias=b.bias)
    layers.append(dw)
    layers += block_se(b.se, ctx, f"{name}.se", b.kind, dw.out_shape, in_channels=c, block_act=b.act)
    project = ops.conv2d(f"{name}.project", b.kind, dw.out_shape, out, 1, bias=b.bias)
    layers.append(project)
    if b.skip and b.stride == 1 and out == c:
        layers.append(ops.residual_add(f"{name}.add", b.kind, project.out_shape))
    return layers, project.out_shape
