"""MobileNetV4 blocks (Qin et al. 2024, Sec. 3–4): UIB, FusedIB and Mobile MQA.

Stride placement and layer order follow the reference implementation (timm
``UniversalInvertedResidual``, ``EdgeResidual``, ``MultiQueryAttention2d``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar, Literal

from .. import ops
from ..ops import Activation, LayerCost, Shape
from ..schema import at_least, meta, non_negative, positive
from .base import Block, BlockContext, register
from .basic import AntiAlias, strided_conv

UIBKind = Literal["IB", "ConvNext", "ExtraDW", "FFN"]


def uib_kind(start_dw: int, mid_dw: int) -> str:
    """The paper's name for a UIB instance, from which optional depthwise convs exist."""
    if start_dw and mid_dw:
        return "ExtraDW"
    if start_dw:
        return "ConvNext"
    if mid_dw:
        return "IB"
    return "FFN"


def _fold_into(layer: LayerCost, extra_folded: int) -> LayerCost:
    """Add per-channel affine parameters (layer scale, a pre-norm) folded into ``layer``."""
    from dataclasses import replace

    return replace(layer, bn_params=layer.bn_params + extra_folded)



@dataclass(frozen=True, kw_only=True)
class UIB(Block):
    """Universal Inverted Bottleneck: [dw start] → pw expand → [dw mid] → pw project.

    ``start_dw`` / ``mid_dw`` are kernel sizes, 0 when absent. The stride sits on the
    middle depthwise conv when there is one, else on the starting one (timm
    ``dw_start_stride = stride if not dw_kernel_size_mid else 1``). The starting dw
    has BN but no activation; expand and middle dw have BN + act; project has BN only.
    ``kind`` is optional and, when given, must agree with the kernels.
    """

    TYPE: ClassVar[str] = "uib"
    out: int = field(metadata=meta(check=positive))
    start_dw: int = field(default=0, metadata=meta(check=non_negative))
    mid_dw: int = field(default=0, metadata=meta(check=non_negative))
    expand: float = field(metadata=meta(check=at_least(1.0)))
    stride: int = field(default=1, metadata=meta(check=positive))
    act: Activation = "relu"
    skip: bool = True
    layer_scale: bool = False
    bias: bool = False
    aa: AntiAlias = "none"
    kind: UIBKind | None = None


@register(UIB, "MobileNetV4 Universal Inverted Bottleneck (IB, ConvNext, ExtraDW, FFN)")
def expand_uib(b: UIB, ctx: BlockContext, shape: Shape, name: str) -> tuple[list[LayerCost], Shape]:
    kind = uib_kind(b.start_dw, b.mid_dw)
    if b.kind is not None and b.kind != kind:
        raise ValueError(f"kind {b.kind} does not match the kernels (start_dw={b.start_dw}, mid_dw={b.mid_dw} make a {kind})")
    if kind == "FFN" and b.stride != 1:
        raise ValueError("an FFN UIB has no depthwise conv to carry stride > 1")
    c = shape[0]
    out = ctx.channels(b.out, b.width, c)
    hidden = ctx.divisible(c * b.expand)
    layers: list[LayerCost] = []
    x = shape
    if b.start_dw:
        stride = 1 if b.mid_dw else b.stride
        layers += strided_conv(f"{name}.dw_start", kind, x, c, b.start_dw, stride=stride, aa=b.aa, groups=c, bias=b.bias)
        x = layers[-1].out_shape
    expand = ops.conv2d(f"{name}.expand", kind, x, hidden, 1, act=b.act, bias=b.bias)
    layers.append(expand)
    x = expand.out_shape
    if b.mid_dw:
        layers += strided_conv(f"{name}.dw_mid", kind, x, hidden, b.mid_dw, stride=b.stride, aa=b.aa, groups=hidden, act=b.act, bias=b.bias)
        x = layers[-1].out_shape
    project = ops.conv2d(f"{name}.project", kind, x, out, 1, bias=b.bias)
    if b.layer_scale:
        project = _fold_into(project, out)
    layers.append(project)
    if b.skip and b.stride == 1 and out == c:
        layers.append(ops.residual_add(f"{name}.add", kind, project.out_shape))
    return layers, project.out_shape


@dataclass(frozen=True, kw_only=True)
class FusedIB(Block):
    """FusedIB: a full k×k conv expansion (carrying the stride) then a linear 1×1 projection."""

    TYPE: ClassVar[str] = "fused_ib"
    out: int = field(metadata=meta(check=positive))
    k: int = field(default=3, metadata=meta(check=positive))
    expand: float = field(metadata=meta(check=at_least(1.0)))
    stride: int = field(default=1, metadata=meta(check=positive))
    act: Activation = "relu"
    skip: bool = True
    bias: bool = False
    aa: AntiAlias = "none"


@register(FusedIB, "FusedIB: k×k conv expansion → pw project (MobileNetV4 stems)")
def expand_fused_ib(b: FusedIB, ctx: BlockContext, shape: Shape, name: str) -> tuple[list[LayerCost], Shape]:
    c = shape[0]
    out = ctx.channels(b.out, b.width, c)
    hidden = ctx.divisible(c * b.expand)
    layers = strided_conv(f"{name}.expand", "FusedIB", shape, hidden, b.k, stride=b.stride, aa=b.aa, act=b.act, bias=b.bias)
    project = ops.conv2d(f"{name}.project", "FusedIB", layers[-1].out_shape, out, 1, bias=b.bias)
    layers.append(project)
    if b.skip and b.stride == 1 and out == c:
        layers.append(ops.residual_add(f"{name}.add", "FusedIB", project.out_shape))
    return layers, project.out_shape


@dataclass(frozen=True, kw_only=True)
class MQA(Block):
    """Mobile multi-query attention: ``heads`` query heads share one key and one value head.

    Q = 1×1 conv C → heads·key_dim (after an avg-pool when ``query_stride`` > 1);
    K, V = each its own [dw ``kv_k``×``kv_k`` stride ``kv_stride`` + BN] then 1×1 conv
    C → key_dim / value_dim; attention Q·Kᵀ, softmax, A·V; output 1×1 conv
    heads·value_dim → out (upsampled back when ``query_stride`` > 1); the pre-norm BN
    and the layer scale fold into the projections; residual when shapes allow.
    """

    TYPE: ClassVar[str] = "mqa"
    out: int = field(metadata=meta(check=positive))
    heads: int = field(metadata=meta(check=positive))
    key_dim: int = field(metadata=meta(check=positive))
    value_dim: int = field(metadata=meta(check=positive))
    kv_stride: int = field(default=1, metadata=meta(check=positive))
    kv_k: int = field(default=3, metadata=meta(check=positive))
    query_stride: int = field(default=1, metadata=meta(check=positive))
    skip: bool = True
    layer_scale: bool = False


@register(MQA, "MobileNetV4 Mobile MQA: multi-query attention with optional K/V (and Q) downsampling")
def expand_mqa(b: MQA, ctx: BlockContext, shape: Shape, name: str) -> tuple[list[LayerCost], Shape]:
    c, h, w = shape
    out = ctx.channels(b.out, b.width, c)
    layers: list[LayerCost] = []
    q_in = shape
    if b.query_stride > 1:
        pool = _fold_into(ops.avg_pool_ceil(f"{name}.q_pool", "MQA", shape, b.query_stride), 2 * c)  # the query path's pre-norm
        layers.append(pool)
        q_in = pool.out_shape
    query = ops.conv2d(f"{name}.q", "MQA", q_in, b.heads * b.key_dim, 1, bn=False)
    layers.append(_fold_into(query, 2 * c))  # the block's pre-norm BN folds into the projections
    kv_in = shape
    for part, dim in (("k", b.key_dim), ("v", b.value_dim)):
        x = shape
        if b.kv_stride > 1:
            down = ops.conv2d(f"{name}.{part}_down", "MQA", x, c, b.kv_k, stride=b.kv_stride, groups=c)
            layers.append(down)
            x = down.out_shape
        kv_in = x
        layers.append(ops.conv2d(f"{name}.{part}", "MQA", x, dim, 1, bn=False))
    q_len = q_in[1] * q_in[2]
    kv_len = kv_in[1] * kv_in[2]
    layers.append(
        ops.attention_matmuls(
            f"{name}.attention", "MQA", heads=b.heads, q_len=q_len, kv_len=kv_len,
            key_dim=b.key_dim, value_dim=b.value_dim, materialize_scores=not ctx.fused_attention,
        )
    )
    o_in = (b.heads * b.value_dim, q_in[1], q_in[2])
    output = ops.conv2d(f"{name}.o", "MQA", o_in, out, 1, bn=False)
    if b.layer_scale:
        output = _fold_into(output, out)
    layers.append(output)
    y: Shape = output.out_shape
    if b.query_stride > 1:
        up = (out, h, w)
        layers.append(ops.upsample_bilinear(f"{name}.upsample", "MQA", y, up))
        y = up
    if b.skip and y == shape:
        layers.append(ops.residual_add(f"{name}.add", "MQA", y))
    return layers, y
