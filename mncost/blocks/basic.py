"""Single-layer blocks: standard, depthwise and pointwise conv, global pooling, fully connected."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar, Literal

from .. import ops
from ..ops import Activation, LayerCost, Shape
from ..schema import meta, non_negative, positive
from .base import Block, BlockContext, register

AntiAlias = Literal["none", "avg", "blur"]


def anti_aliased(conv: LayerCost, name: str, aa: str, stride: int) -> list[LayerCost]:
    """A strided conv under anti-aliasing (timm ``aa_layer``): the conv ran at stride 1
    (``conv``), then ``avg`` = 2×2 average pool (``nn.AvgPool2d(stride)``) or ``blur`` = 3×3
    binomial blur pool carries the stride (``BlurPool2d``, MobileNetV4-Conv-AA/-Blur)."""
    if aa == "none" or stride == 1:
        return [conv]
    if aa == "avg":
        return [conv, ops.local_pool(f"{name}_aa", conv.kind, conv.out_shape, mode="avg", k=stride, stride=stride)]
    return [conv, ops.blur_pool(f"{name}_aa", conv.kind, conv.out_shape, k=3, stride=stride)]


def strided_conv(name: str, kind: str, shape: Shape, out: int, k: int, *, stride: int, aa: str, **kwargs: object) -> list[LayerCost]:
    """conv2d with its stride, or at stride 1 followed by the anti-aliasing pool."""
    conv_stride = 1 if aa != "none" and stride > 1 else stride
    conv = ops.conv2d(name, kind, shape, out, k, stride=conv_stride, **kwargs)  # type: ignore[arg-type]
    return anti_aliased(conv, name, aa, stride)


def scaled(layer: LayerCost, b: Conv | DWConv | PWConv) -> LayerCost:
    """``layer`` with the block's layer scale γ folded in (1 per output channel)."""
    if not b.layer_scale:
        return layer
    if b.act != "none":
        raise ValueError(f"layer_scale folds γ into a conv without an activation (this one has act: {b.act}); "
                         "write a layer_scale block after it instead")
    return ops.fold_affine(layer, layer.out_shape[0])


@dataclass(frozen=True, kw_only=True)
class Conv(Block):
    """Standard k×k convolution (+ folded BN + activation). ``layer_scale``: a learned per-channel γ
    after it (ConvNeXt, FastViT), folded into the conv like a BN (C more ``bn_params``), as a
    runtime folds a constant per-channel scale into the weights; only without an activation."""

    TYPE: ClassVar[str] = "conv"
    out: int = field(metadata=meta(check=positive))
    k: int = field(default=3, metadata=meta(check=positive))
    stride: int = field(default=1, metadata=meta(check=positive))
    groups: int = field(default=1, metadata=meta(check=positive))
    padding: int | None = field(default=None, metadata=meta(check=non_negative))
    bias: bool = False
    bn: bool = True
    act: Activation = "none"
    layer_scale: bool = False
    kind: str = "conv"


@register(Conv, "k×k convolution with optional groups, bias, folded BN and activation")
def expand_conv(b: Conv, ctx: BlockContext, shape: Shape, name: str) -> tuple[list[LayerCost], Shape]:
    out = ctx.channels(b.out, b.width, shape[0])
    if shape[0] % b.groups or out % b.groups:
        raise ValueError(f"groups={b.groups} must divide the input ({shape[0]}) and output ({out}) channels")
    layer = ops.conv2d(name, b.kind, shape, out, b.k, stride=b.stride, groups=b.groups, bias=b.bias, bn=b.bn, act=b.act, padding=b.padding)
    return [scaled(layer, b)], layer.out_shape


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
    layer_scale: bool = False
    kind: str = "dwconv"


@register(DWConv, "depthwise k×k convolution (groups = channels)")
def expand_dwconv(b: DWConv, ctx: BlockContext, shape: Shape, name: str) -> tuple[list[LayerCost], Shape]:
    c = shape[0]
    layer = ops.conv2d(name, b.kind, shape, c, b.k, stride=b.stride, groups=c, bias=b.bias, bn=b.bn, act=b.act, padding=b.padding)
    return [scaled(layer, b)], layer.out_shape


@dataclass(frozen=True, kw_only=True)
class PWConv(Block):
    """Pointwise (1×1) convolution."""

    TYPE: ClassVar[str] = "pwconv"
    out: int = field(metadata=meta(check=positive))
    groups: int = field(default=1, metadata=meta(check=positive))
    bias: bool = False
    bn: bool = True
    act: Activation = "none"
    layer_scale: bool = False
    kind: str = "pwconv"


@register(PWConv, "pointwise 1×1 convolution")
def expand_pwconv(b: PWConv, ctx: BlockContext, shape: Shape, name: str) -> tuple[list[LayerCost], Shape]:
    out = ctx.channels(b.out, b.width, shape[0])
    if shape[0] % b.groups or out % b.groups:
        raise ValueError(f"groups={b.groups} must divide the input ({shape[0]}) and output ({out}) channels")
    layer = ops.conv2d(name, b.kind, shape, out, 1, groups=b.groups, bias=b.bias, bn=b.bn, act=b.act)
    return [scaled(layer, b)], layer.out_shape


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
class Pool2d(Block):
    """Local k×k pooling (``nn.AvgPool2d`` / ``nn.MaxPool2d``); ``stride`` defaults to ``k``.
    ``count_include_pad`` changes only the values, not the counts; it is kept for the torch model.
    ``blur``: the fixed binomial k×k filter of timm's ``BlurPool2d``, depthwise with the stride and
    its own padding ((stride − 1) + (k − 1)) // 2 (the layer ``aa: blur`` adds to a block)."""

    TYPE: ClassVar[str] = "pool2d"
    mode: Literal["avg", "max", "blur"] = "avg"
    k: int = field(default=2, metadata=meta(check=positive))
    stride: int | None = field(default=None, metadata=meta(check=positive))
    padding: int = field(default=0, metadata=meta(check=non_negative))
    ceil_mode: bool = False
    count_include_pad: bool = True
    kind: str = "pool"


@register(Pool2d, "local k×k average, max or blur pooling")
def expand_pool2d(b: Pool2d, ctx: BlockContext, shape: Shape, name: str) -> tuple[list[LayerCost], Shape]:
    if b.mode == "blur":
        if b.padding or b.ceil_mode:
            raise ValueError("a blur pool pads itself ((stride − 1) + (k − 1)) // 2 and has no ceil_mode: leave padding and ceil_mode out")
        layer = ops.blur_pool(name, b.kind, shape, k=b.k, stride=b.stride or b.k)
        return [layer], layer.out_shape
    if 2 * b.padding > b.k:
        raise ValueError(f"padding {b.padding} is more than half the {b.k}x{b.k} pool (PyTorch refuses it)")
    layer = ops.local_pool(name, b.kind, shape, mode=b.mode, k=b.k, stride=b.stride or b.k, padding=b.padding, ceil_mode=b.ceil_mode)
    return [layer], layer.out_shape


@dataclass(frozen=True, kw_only=True)
class Norm(Block):
    """LayerNorm over channels (``layernorm``, timm ``LayerNorm2d``) or GroupNorm (``groupnorm``,
    ``groups`` groups): an element-wise layer of its own, never folded."""

    TYPE: ClassVar[str] = "norm"
    ACCEPTS_FLAT: ClassVar[bool] = True  # a LayerNorm may follow a linear layer (EfficientViT's head)
    mode: Literal["layernorm", "groupnorm"] = "layernorm"
    groups: int = field(default=1, metadata=meta(check=positive))
    affine: bool = True
    kind: str = "norm"


@register(Norm, "LayerNorm / GroupNorm as its own element-wise layer (not folded)")
def expand_norm(b: Norm, ctx: BlockContext, shape: Shape, name: str) -> tuple[list[LayerCost], Shape]:
    if b.mode == "groupnorm" and shape[0] % b.groups:
        raise ValueError(f"groups={b.groups} must divide the {shape[0]} channels")
    layer = ops.norm(name, b.kind, shape, affine=b.affine)
    return [layer], layer.out_shape


@dataclass(frozen=True, kw_only=True)
class Permute(Block):
    """A layout change between channels-first and channels-last (torchvision ConvNeXt's
    Transposes around its LayerNorm and Linear layers): a data-movement layer that reads
    and writes the map once, no ops. The spec keeps its C×H×W bookkeeping."""

    TYPE: ClassVar[str] = "permute"
    kind: str = "layout"


@register(Permute, "layout change channels-first ↔ channels-last (data movement)")
def expand_permute(b: Permute, ctx: BlockContext, shape: Shape, name: str) -> tuple[list[LayerCost], Shape]:
    layer = ops.data_movement(name, b.kind, ops.numel(shape), shape, shape)
    return [layer], shape


@dataclass(frozen=True, kw_only=True)
class Shuffle(Block):
    """Channel shuffle (ShuffleNet): the C channels, viewed as ``groups`` × C/groups, transposed
    to C/groups × ``groups``. A data-movement layer that reads and writes the map once, no ops."""

    TYPE: ClassVar[str] = "shuffle"
    groups: int = field(default=2, metadata=meta(check=positive))
    kind: str = "shuffle"


@register(Shuffle, "channel shuffle across groups (ShuffleNet; data movement)")
def expand_shuffle(b: Shuffle, ctx: BlockContext, shape: Shape, name: str) -> tuple[list[LayerCost], Shape]:
    if len(shape) != 3 or shape[0] % b.groups:
        raise ValueError(f"a channel shuffle of {b.groups} groups needs a C×H×W map whose C they divide, got {shape}")
    return [ops.data_movement(name, b.kind, ops.numel(shape), shape, shape)], shape


@dataclass(frozen=True, kw_only=True)
class LayerScale(Block):
    """A learned per-channel scale γ (ConvNeXt, CaiT): an element-wise layer; γ is not folded
    into a conv here because a residual add follows it."""

    TYPE: ClassVar[str] = "layer_scale"
    kind: str = "layer_scale"


@register(LayerScale, "learned per-channel scale (layer scale)")
def expand_layer_scale(b: LayerScale, ctx: BlockContext, shape: Shape, name: str) -> tuple[list[LayerCost], Shape]:
    layer = ops.layer_scale(name, b.kind, shape)
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
