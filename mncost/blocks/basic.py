"""Single-layer blocks: standard, depthwise and pointwise conv, global pooling, fully connected."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar, Literal

from .. import ops
from ..ops import Activation, LayerCost, Shape
from ..schema import meta, non_negative, positive
from .base import Block, BlockContext, register


@dataclass(frozen=True, kw_only=True)
class Conv(Block):
    """Standard k×k convolution (+ folded BN + activation)."""

    TYPE: ClassVar[str] = "conv"
    out: int = field(metadata=meta(check=positive))
    k: int = field(default=3, metadata=meta(check=positive))
    stride: int = field(default=1, metadata=meta(check=positive))
    groups: int = field(default=1, metadata=meta(check=positive))
    padding: int | None = field(default=None, metadata=meta(check=non_negative))
    bias: bool = False
    bn: bool = True
    act: Activation = "none"
    kind: str = "conv"


@register(Conv, "k×k convolution with optional groups, bias, folded BN and activation")
def expand_conv(b: Conv, ctx: BlockContext, shape: Shape, name: str) -> tuple[list[LayerCost], Shape]:
    out = ctx.channels(b.out, b.width, shape[0])
    if shape[0] % b.groups or out % b.groups:
        raise ValueError(f"groups={b.groups} must divide the input ({shape[0]}) and output ({out}) channels")
    layer = ops.conv2d(name, b.kind, shape, out, b.k, stride=b.stride, groups=b.groups, bias=b.bias, bn=b.bn, act=b.act, padding=b.padding)
    return [layer], layer.out_shape


@dataclass(frozen=True, kw_only=True)
class DWConv(Block):
    """Depthwise k×k convolution: one filter per channel (groups = channels)."""

    TYPE: ClassVar[str] = "dwconv"
    k: int = field(default=3, metadata=meta(check=positive))
    stride: int = field(default=1, metadata=meta(check=positive))
    padding: int | None = field(default=None, metadata=meta(check=non_negative))
    bias: bool = False
    bn: bool = True
    act: Activation = "none"
    kind: str = "dwconv"


@register(DWConv, "depthwise k×k convolution (groups = channels)")
def expand_dwconv(b: DWConv, ctx: BlockContext, shape: Shape, name: str) -> tuple[list[LayerCost], Shape]:
    c = shape[0]
    layer = ops.conv2d(name, b.kind, shape, c, b.k, stride=b.stride, groups=c, bias=b.bias, bn=b.bn, act=b.act, padding=b.padding)
    return [layer], layer.out_shape


@dataclass(frozen=True, kw_only=True)
class PWConv(Block):
    """Pointwise (1×1) convolution."""

    TYPE: ClassVar[str] = "pwconv"
    out: int = field(metadata=meta(check=positive))
    groups: int = field(default=1, metadata=meta(check=positive))
    bias: bool = False
    bn: bool = True
    act: Activation = "none"
    kind: str = "pwconv"


@register(PWConv, "pointwise 1×1 convolution")
def expand_pwconv(b: PWConv, ctx: BlockContext, shape: Shape, name: str) -> tuple[list[LayerCost], Shape]:
    out = ctx.channels(b.out, b.width, shape[0])
    if shape[0] % b.groups or out % b.groups:
        raise ValueError(f"groups={b.groups} must divide the input ({shape[0]}) and output ({out}) channels")
    layer = ops.conv2d(name, b.kind, shape, out, 1, groups=b.groups, bias=b.bias, bn=b.bn, act=b.act)
    return [layer], layer.out_shape


@dataclass(frozen=True, kw_only=True)
class Pool(Block):
    """Global average pooling to C×1×1."""

    TYPE: ClassVar[str] = "pool"
    mode: Literal["avg"] = "avg"
    kind: str = "head"


@register(Pool, "global average pooling")
def expand_pool(b: Pool, ctx: BlockContext, shape: Shape, name: str) -> tuple[list[LayerCost], Shape]:
    if len(shape) != 3:
        raise ValueError(f"global pooling needs a C×H×W input, got {shape}")
    layer = ops.global_pool(name, b.kind, shape)
    return [layer], layer.out_shape


@dataclass(frozen=True, kw_only=True)
class FC(Block):
    """Fully connected layer on the flattened input (classifier, V3 head)."""

    TYPE: ClassVar[str] = "fc"
    ACCEPTS_FLAT: ClassVar[bool] = True
    out: int = field(metadata=meta(check=positive))
    bias: bool = True
    act: Activation = "none"
    kind: str = "head"


@register(FC, "fully connected layer on the flattened input")
def expand_fc(b: FC, ctx: BlockContext, shape: Shape, name: str) -> tuple[list[LayerCost], Shape]:
    out = ctx.channels(b.out, b.width, shape[0])
    layer = ops.linear(name, b.kind, ops.numel(shape), out, bias=b.bias, act=b.act)
    return [layer], layer.out_shape
