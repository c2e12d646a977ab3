"""Layer-level count formulas: the only place where MACs, params and traffic are computed.

Conventions (see README, "Counting conventions"):
- one multiply-accumulate is one MAC; BatchNorm is folded into the preceding conv,
  so it adds no MACs and its parameters are reported apart (``bn_params``);
- ``params`` are conv / linear weights and biases;
- activation traffic is counted in elements, per image: a layer reads its input(s)
  and writes its output once (conv + BN + activation run fused). Bytes are applied
  later, from the hardware profile's dtypes;
- element-wise work (activations, residual adds, gating, pooling, softmax) is not a
  MAC: it is reported as ``elementwise_ops``, one per element touched.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal, get_args

Shape = tuple[int, ...]
Activation = Literal[
    "none", "relu", "relu6", "hswish", "hsigmoid", "gelu", "swish", "sigmoid", "silu", "hardswish", "hardsigmoid",
]

ACTIVATIONS: tuple[str, ...] = get_args(Activation)
ACTIVATION_ALIASES: dict[str, str] = {"silu": "swish", "hardswish": "hswish", "hardsigmoid": "hsigmoid"}
"""PyTorch's names for the same functions (nn.SiLU, nn.Hardswish, nn.Hardsigmoid)."""


def canonical_activation(name: str) -> str:
    """mncost's name of an activation: ``silu`` is ``swish``, ``hardswish`` is ``hswish``.

    >>> canonical_activation("silu"), canonical_activation("relu6")
    ('swish', 'relu6')
    """
    return ACTIVATION_ALIASES.get(name, name)

Op = Literal["conv", "pwconv", "dwconv", "fc", "se_fc", "attention", "pool", "add", "scale", "upsample",
             "deconv", "act", "norm", "softmax", "eltwise", "move", "blur"]  # deconv..move: layers of ONNX graphs
"""What a layer computes. Every layer is made by one function of this module, which sets it."""
OPS: tuple[str, ...] = get_args(Op)

MAC_OPS: frozenset[str] = frozenset({"conv", "dwconv", "pwconv", "se_fc", "fc", "attention", "deconv", "blur"})
"""Ops whose MACs fvcore counts (conv, linear, the attention matmuls by mncost's handle, the ONNX
graphs' transposed convs, and the fixed-filter depthwise conv of a blur pool, which is a
convolution to fvcore)."""

Group = Literal["dense", "depthwise", "large_depthwise", "attention", "se", "elementwise", "norm"]
"""The layer groups of the refinements' per-group slowdowns: dense = full, pointwise and
fully connected convolutions; depthwise (up to 5×5); large_depthwise (larger kernels,
:data:`LARGE_KERNEL_TAPS`); attention = the Q·Kᵀ / A·V core; se = every
layer of a squeeze-excite (its pool, two 1×1 convs and the gating); elementwise =
residual adds, pooling and resampling; norm = normalisations that do not fold into a conv
(LayerNorm, GroupNorm: a reduction over channels, then a second pass). Set by the block
that makes the layer."""
GROUPS: tuple[str, ...] = get_args(Group)

GROUP_FALLBACK: dict[str, str] = {"large_depthwise": "depthwise"}
"""A group with no slowdown of its own takes its parent's: a profile (or a fit) that slows
``depthwise`` alone slows every depthwise layer, as it did before large kernels had a group."""


def fallback_children(group: str) -> tuple[str, ...]:
    """The groups that take ``group``'s slowdown when they have none of their own."""
    return tuple(child for child, parent in GROUP_FALLBACK.items() if parent == group)


def group_slowdown(slowdown: Mapping[str, float], group: str) -> float:
    """The slowdown factor of ``group`` under a ``{group: factor}`` refinement (1 where none applies)."""
    if group in slowdown:
        return slowdown[group]
    parent = GROUP_FALLBACK.get(group)
    return slowdown.get(parent, 1.0) if parent else 1.0

ACTIVATION_CLASSES: dict[str, tuple[str, ...]] = {
    "hard": ("hswish", "hsigmoid"),
    "smooth": ("gelu", "swish", "sigmoid", "tanh", "mish", "softplus", "elu", "selu", "celu"),
}
"""Activations that an inference kernel cannot apply as a clamp on a conv's output, by cost class:
*hard* = piecewise-linear with a multiply (hard-swish, hard-sigmoid), *smooth* = needs an
exponential, tanh or erf (GELU, swish/SiLU, sigmoid, …; ONNX graphs name more), a table lookup in int8. ReLU and ReLU6 (and
none) fuse into the conv's output clamp and belong to no class. The refinements' activation
cost (``act_s_per_elem``) is a time per output element of a layer whose activation is in a class."""


def activation_class(act: str) -> str:
    """The :data:`ACTIVATION_CLASSES` key of an activation ('' for relu, relu6 and none).

    >>> activation_class("silu"), activation_class("relu6"), activation_class("hardswish")
    ('smooth', '', 'hard')
    """
    act = canonical_activation(act)
    return next((c for c, members in ACTIVATION_CLASSES.items() if act in members), "")


ACT_CLASSES: tuple[str, ...] = ("", *ACTIVATION_CLASSES)
"""Activation cost classes as indexed in arrays: 0 = none (a fused clamp), then the classes."""


@dataclass(frozen=True, slots=True)
class LayerCost:
    """Hardware-independent cost of one executed layer, per image (batch 1)."""

    name: str
    op: Op
    kind: str
    in_shape: Shape
    out_shape: Shape
    macs: int
    params: int
    bn_params: int
    act_read_elems: int
    act_write_elems: int
    elementwise_ops: int
    attention_macs: int = 0  # the share of ``macs`` spent in Q·Kᵀ and A·V products
    group: Group = "dense"  # set by the function below that makes the layer, never guessed from names
    act: str = "none"  # the activation applied to the output (canonical name), set where the layer is made
    # The sizes a quantized ONNX graph stores this layer's weights, inputs and output at
    # (mncost.graph.quant); None, as for every spec layer: the hardware profile's dtypes.
    weight_bytes_per_param: float | None = None
    read_bytes_per_elem: float | None = None
    write_bytes_per_elem: float | None = None

    @property
    def act_elems(self) -> int:
        return self.act_read_elems + self.act_write_elems

    @property
    def act_class_index(self) -> int:
        """The :data:`ACT_CLASSES` index of this layer's activation (0: none / a fused clamp)."""
        return ACT_CLASSES.index(activation_class(self.act))


def numel(shape: Shape) -> int:
    total = 1
    for dim in shape:
        total *= dim
    return total


def conv_out_size(size: int, k: int, stride: int, padding: int) -> int:
    """floor((size + 2·padding − k) / stride) + 1, the PyTorch Conv2d rule."""
    return (size + 2 * padding - k) // stride + 1


def same_padding(k: int) -> int:
    """Symmetric padding that keeps size/stride: (k − 1) // 2, as torchvision and timm use."""
    return (k - 1) // 2


LARGE_KERNEL_TAPS = 25
"""A depthwise kernel of more taps than this (larger than 5×5) is its own layer group,
``large_depthwise``: XNNPACK (LiteRT's CPU runtime, the papers') runs depthwise kernels up to
25 taps through specialised kernels and larger ones through a generic path. Measured
(``benchmarks/dwconv_kernels.py``, ai-edge-litert 2.3.0, one core of two AMD EPYC hosts, 2026-12-04): 3×3
and 5×5 at 18–45 (9–19) GMAC/s, 7×7 and 9×9 at 3.0–3.7 (1.6–2.4) GMAC/s, fp32 and int8 alike. A property of the
runtime, measured without any network's latency; the fit decides per device whether it matters."""


def conv_group(op: str, taps: int) -> Group:
    """The layer group of a convolution: dense, depthwise, or large_depthwise (> 25 taps)."""
    if op != "dwconv":
        return "dense"
    return "large_depthwise" if taps > LARGE_KERNEL_TAPS else "depthwise"


def conv2d(
    name: str,
    kind: str,
    in_shape: Shape,
    out_channels: int,
    k: int,
    *,
    stride: int = 1,
    groups: int = 1,
    bias: bool = False,
    bn: bool = True,
    act: str = "none",
    padding: int | None = None,
    op: Op | None = None,
    group: Group | None = None,
) -> LayerCost:
    """Conv2d (+ folded BN + activation).

    MACs = C_out · H_out · W_out · (C_in / groups) · k²;
    params = C_out · (C_in / groups) · k² (+ C_out bias); BN params = 2 · C_out.
    """
    c_in, h, w = in_shape
    if c_in % groups or out_channels % groups:
        raise ValueError(f"{name}: groups={groups} must divide in ({c_in}) and out ({out_channels}) channels")
    pad = same_padding(k) if padding is None else padding
    h_out, w_out = conv_out_size(h, k, stride, pad), conv_out_size(w, k, stride, pad)
    if h_out < 1 or w_out < 1:
        raise ValueError(f"{name}: a {h}x{w} input shrinks to nothing under k={k}, stride={stride}")
    weights = out_channels * (c_in // groups) * k * k
    out_shape = (out_channels, h_out, w_out)
    out_elems = numel(out_shape)
    if op is None:
        if groups == c_in and groups == out_channels and groups > 1:
            op = "dwconv"
        elif k == 1:
            op = "pwconv"
        else:
            op = "conv"
    return LayerCost(
        name=name,
        op=op,
        kind=kind,
        in_shape=in_shape,
        out_shape=out_shape,
        macs=weights * h_out * w_out,
        params=weights + (out_channels if bias else 0),
        bn_params=2 * out_channels if bn else 0,
        act_read_elems=numel(in_shape),
        act_write_elems=out_elems,
        elementwise_ops=out_elems if act != "none" else 0,
        group=group or conv_group(op, k * k),
        act=canonical_activation(act),
    )


def linear(name: str, kind: str, in_features: int, out_features: int, *, bias: bool = True, act: str = "none") -> LayerCost:
    """Fully connected layer: MACs = in · out; params = in · out (+ out bias)."""
    return LayerCost(
        name=name,
        op="fc",
        kind=kind,
        in_shape=(in_features,),
        out_shape=(out_features,),
        macs=in_features * out_features,
        params=in_features * out_features + (out_features if bias else 0),
        bn_params=0,
        act_read_elems=in_features,
        act_write_elems=out_features,
        elementwise_ops=out_features if act != "none" else 0,
        act=canonical_activation(act),
    )


def global_pool(name: str, kind: str, in_shape: Shape, *, group: Group = "elementwise") -> LayerCost:
    """Global average pool: C·H·W additions, no MACs; reads C·H·W, writes C."""
    c = in_shape[0]
    return LayerCost(
        name=name,
        op="pool",
        kind=kind,
        in_shape=in_shape,
        out_shape=(c, 1, 1),
        macs=0,
        params=0,
        bn_params=0,
        act_read_elems=numel(in_shape),
        act_write_elems=c,
        elementwise_ops=numel(in_shape),
        group=group,
    )


def avg_pool_ceil(name: str, kind: str, in_shape: Shape, stride: int) -> LayerCost:
    """Average pool by ``stride`` with ceil rounding (Mobile MQA's query downsampling):
    one addition per input element, no MACs; reads C·H·W, writes the pooled map."""
    c, h, w = in_shape
    out_shape = (c, -(-h // stride), -(-w // stride))
    return LayerCost(
        name=name, op="pool", kind=kind, in_shape=in_shape, out_shape=out_shape, macs=0, params=0, bn_params=0,
        act_read_elems=numel(in_shape), act_write_elems=numel(out_shape), elementwise_ops=numel(in_shape), group="elementwise",
    )


def upsample_bilinear(name: str, kind: str, in_shape: Shape, out_shape: Shape) -> LayerCost:
    """Bilinear upsampling: reads the small map, writes the large one; 4 ops per output element."""
    return LayerCost(
        name=name, op="upsample", kind=kind, in_shape=in_shape, out_shape=out_shape, macs=0, params=0, bn_params=0,
        act_read_elems=numel(in_shape), act_write_elems=numel(out_shape), elementwise_ops=4 * numel(out_shape), group="elementwise",
    )


def residual_add(name: str, kind: str, shape: Shape, *, act: str = "none") -> LayerCost:
    """x + f(x): reads both operands, writes the sum; one op per element, one more for an
    activation fused after the add (ResNet's ReLU)."""
    elems = numel(shape)
    return LayerCost(
        name=name, op="add", kind=kind, in_shape=shape, out_shape=shape, macs=0, params=0, bn_params=0,
        act_read_elems=2 * elems, act_write_elems=elems, elementwise_ops=(2 if act != "none" else 1) * elems, group="elementwise",
        act=canonical_activation(act),
    )


def channel_scale(name: str, kind: str, shape: Shape, *, params: int = 0, group: Group = "se") -> LayerCost:
    """x · g with a per-channel gate (SE gating, layer scale): reads x and the C gates."""
    elems = numel(shape)
    c = shape[0]
    gate_reads = c if params == 0 else 0  # a learned scale is a weight, not an activation
    return LayerCost(
        name=name, op="scale", kind=kind, in_shape=shape, out_shape=shape, macs=0, params=params, bn_params=0,
        act_read_elems=elems + gate_reads, act_write_elems=elems, elementwise_ops=elems, group=group,
    )


def attention_matmuls(
    name: str,
    kind: str,
    *,
    heads: int,
    q_len: int,
    kv_len: int,
    key_dim: int,
    value_dim: int,
    materialize_scores: bool = True,
    kv_heads: int = 1,
) -> LayerCost:
    """Attention core: Q·Kᵀ then softmax then A·V (multi-query: ``kv_heads`` = 1; multi-head:
    ``kv_heads`` = ``heads``).

    MACs = heads · Lq · Lk · d_k  +  heads · Lq · Lk · d_v.
    Reads Q (heads·Lq·d_k), K (kv_heads·Lk·d_k), V (kv_heads·Lk·d_v); writes heads·Lq·d_v. When the
    attention matrix is materialized (no fused kernel) it is written once and read
    once more: + 2·heads·Lq·Lk. Softmax is heads·Lq·Lk element-wise ops.
    """
    scores = heads * q_len * kv_len
    macs = scores * key_dim + scores * value_dim
    reads = heads * q_len * key_dim + kv_heads * (kv_len * key_dim + kv_len * value_dim)
    writes = heads * q_len * value_dim
    if materialize_scores:
        reads += scores
        writes += scores
    return LayerCost(
        name=name,
        op="attention",
        kind=kind,
        in_shape=(heads, q_len, key_dim),
        out_shape=(heads, q_len, value_dim),
        macs=macs,
        params=0,
        bn_params=0,
        act_read_elems=reads,
        act_write_elems=writes,
        elementwise_ops=scores,
        attention_macs=macs,
        group="attention",
    )


# -- Layers read from ONNX graphs (mncost.graph): what the spec blocks never make ----------
# Shapes come from the graph (shape inference), so these take them instead of
# recomputing them; the counting conventions are the ones above.


def conv_from_graph(
    name: str,
    kind: str,
    in_shape: Shape,
    out_shape: Shape,
    weight_shape: Shape,
    *,
    groups: int,
    bias: bool,
    act: str = "none",
    transposed: bool = False,
    op: Op | None = None,
    group: Group | None = None,
) -> LayerCost:
    """Any convolution (kernel, strides, pads, dilations already in the shapes).

    MACs = weight elements · output positions (= C_out·H_out·W_out·(C_in/groups)·kh·kw);
    transposed: weight elements · input positions (= C_in·H_in·W_in·(C_out/groups)·kh·kw).
    params = weight elements (+ C_out bias).
    """
    weights = numel(weight_shape)
    c_out = out_shape[0]
    positions = numel(in_shape[1:]) if transposed else numel(out_shape[1:])
    if op is None:
        if transposed:
            op = "deconv"
        elif groups > 1 and groups == in_shape[0] == c_out:
            op = "dwconv"
        elif all(k == 1 for k in weight_shape[2:]):
            op = "pwconv"
        else:
            op = "conv"
    out_elems = numel(out_shape)
    return LayerCost(
        name=name, op=op, kind=kind, in_shape=in_shape, out_shape=out_shape, macs=weights * positions,
        params=weights + (c_out if bias else 0), bn_params=0, act_read_elems=numel(in_shape), act_write_elems=out_elems,
        elementwise_ops=out_elems if act != "none" else 0, group=group or conv_group(op, numel(weight_shape[2:])),
        act=canonical_activation(act),
    )


def matmul(
    name: str,
    kind: str,
    a_shape: Shape,
    b_shape: Shape,
    out_shape: Shape,
    *,
    weight: bool,
    bias: int = 0,
    act: str = "none",
) -> LayerCost:
    """A·B over the trailing two axes (leading axes broadcast): MACs = output elements · K.

    ``weight``: B is a learned matrix (a token-wise linear layer: params = B + bias, reads A);
    otherwise both are activations (Q·Kᵀ, A·V: attention MACs, reads A and B).
    """
    k = a_shape[-1] if a_shape else 1
    out_elems = numel(out_shape)
    macs = out_elems * k
    return LayerCost(
        name=name, op="fc" if weight else "attention", kind=kind, in_shape=a_shape, out_shape=out_shape, macs=macs,
        params=numel(b_shape) + bias if weight else 0, bn_params=0,
        act_read_elems=numel(a_shape) + (0 if weight else numel(b_shape)), act_write_elems=out_elems,
        elementwise_ops=out_elems if act != "none" else 0, attention_macs=0 if weight else macs,
        group="dense" if weight else "attention", act=canonical_activation(act),
    )


def window_pool(name: str, kind: str, in_shape: Shape, out_shape: Shape, window: int) -> LayerCost:
    """Max / average pooling over a window: one op per window element per output, no MACs."""
    return LayerCost(
        name=name, op="pool", kind=kind, in_shape=in_shape, out_shape=out_shape, macs=0, params=0, bn_params=0,
        act_read_elems=numel(in_shape), act_write_elems=numel(out_shape), elementwise_ops=numel(out_shape) * window,
        group="elementwise",
    )


def elementwise(
    name: str,
    kind: str,
    in_elems: int,
    in_shape: Shape,
    out_shape: Shape,
    *,
    op: Op,
    ops_per_elem: int = 1,
    params: int = 0,
    bn_params: int = 0,
    group: Group = "elementwise",
    act: str = "none",
) -> LayerCost:
    """An element-wise layer (activation, arithmetic, norm, softmax) that runs alone:
    reads its ``in_elems`` activation elements, writes its output, ``ops_per_elem`` per output element;
    ``act`` names the activation it applies (an ``act`` layer, or one fused into it)."""
    out_elems = numel(out_shape)
    return LayerCost(
        name=name, op=op, kind=kind, in_shape=in_shape, out_shape=out_shape, macs=0, params=params, bn_params=bn_params,
        act_read_elems=in_elems, act_write_elems=out_elems, elementwise_ops=ops_per_elem * out_elems, group=group,
        act=canonical_activation(act),
    )


def data_movement(name: str, kind: str, in_elems: int, in_shape: Shape, out_shape: Shape, *, out_elems: int | None = None) -> LayerCost:
    """Transpose, concat, slice, pad, gather…: bytes moved (reads its inputs, writes its outputs), no MACs, no ops."""
    return LayerCost(
        name=name, op="move", kind=kind, in_shape=in_shape, out_shape=out_shape, macs=0, params=0, bn_params=0,
        act_read_elems=in_elems, act_write_elems=numel(out_shape) if out_elems is None else out_elems, elementwise_ops=0,
        group="elementwise",
    )


def fold_affine(layer: LayerCost, folded_params: int) -> LayerCost:
    """``layer`` with a folded per-channel affine (BN, layer scale) in its ``bn_params``."""
    from dataclasses import replace

    return replace(layer, bn_params=layer.bn_params + folded_params)


def with_group(layer: LayerCost, group: Group, op: Op | None = None) -> LayerCost:
    """``layer`` re-labelled as part of a structure found around it (a squeeze-excite)."""
    from dataclasses import replace

    return replace(layer, group=group, op=op or layer.op)


# -- Layers of the zoo's blocks (pooling, anti-aliasing, norms, attention variants) ----------


def pool_out_size(size: int, k: int, stride: int, padding: int, ceil_mode: bool) -> int:
    """PyTorch's pooling rule: floor (or ceil) of (size + 2·padding − k) / stride, plus 1; with
    ceil, a last window that would start in the right padding is dropped."""
    span = size + 2 * padding - k
    out = (-(-span // stride) if ceil_mode else span // stride) + 1
    if ceil_mode and (out - 1) * stride >= size + padding:
        out -= 1
    return out


def local_pool(
    name: str, kind: str, in_shape: Shape, *, mode: str, k: int, stride: int, padding: int = 0, ceil_mode: bool = False,
) -> LayerCost:
    """k×k average or max pool: no MACs, no params; k² element-wise ops per output element
    (additions or comparisons); reads the input map, writes the pooled one."""
    c, h, w = in_shape
    h_out, w_out = pool_out_size(h, k, stride, padding, ceil_mode), pool_out_size(w, k, stride, padding, ceil_mode)
    if h_out < 1 or w_out < 1:
        raise ValueError(f"{name}: a {h}x{w} input shrinks to nothing under a {k}x{k} {mode} pool, stride {stride}")
    out_shape = (c, h_out, w_out)
    return LayerCost(
        name=name, op="pool", kind=kind, in_shape=in_shape, out_shape=out_shape, macs=0, params=0, bn_params=0,
        act_read_elems=numel(in_shape), act_write_elems=numel(out_shape), elementwise_ops=numel(out_shape) * k * k,
        group="elementwise",
    )


def blur_pool(name: str, kind: str, in_shape: Shape, *, k: int = 3, stride: int = 2) -> LayerCost:
    """Anti-aliasing blur pool (Zhang 2019; timm ``BlurPool2d``): a fixed binomial k×k filter
    applied depthwise with stride, padding ((stride − 1) + (k − 1)) // 2.

    MACs = C · H_out · W_out · k² (the filter is a buffer, so params = 0). It is a
    convolution, so fvcore counts its MACs; it is mncost's ``blur`` op.
    """
    c, h, w = in_shape
    pad = ((stride - 1) + (k - 1)) // 2
    h_out, w_out = conv_out_size(h, k, stride, pad), conv_out_size(w, k, stride, pad)
    if h_out < 1 or w_out < 1:
        raise ValueError(f"{name}: a {h}x{w} input shrinks to nothing under a {k}x{k} blur pool")
    out_shape = (c, h_out, w_out)
    return LayerCost(
        name=name, op="blur", kind=kind, in_shape=in_shape, out_shape=out_shape, macs=c * h_out * w_out * k * k,
        params=0, bn_params=0, act_read_elems=numel(in_shape), act_write_elems=numel(out_shape), elementwise_ops=0,
        group="depthwise",
    )


NORM_OPS_PER_ELEMENT = 4
"""LayerNorm / GroupNorm: mean and variance (2 per element), normalise and affine (2 per element)."""


def norm(name: str, kind: str, shape: Shape, *, affine: bool = True) -> LayerCost:
    """A normalisation that does not fold into a conv (LayerNorm, GroupNorm): no MACs; its
    affine weight and bias (2·C) are reported with the folded norms as ``bn_params``;
    reads and writes the map once; 4 element-wise ops per element."""
    elems = numel(shape)
    return LayerCost(
        name=name, op="norm", kind=kind, in_shape=shape, out_shape=shape, macs=0, params=0,
        bn_params=2 * shape[0] if affine else 0, act_read_elems=elems, act_write_elems=elems,
        elementwise_ops=NORM_OPS_PER_ELEMENT * elems, group="norm",
    )


def layer_scale(name: str, kind: str, shape: Shape) -> LayerCost:
    """x · γ with a learned per-channel γ (CaiT / ConvNeXt layer scale): no MACs; γ (C values)
    is reported with the norm parameters (``bn_params``), not as a conv/linear weight."""
    elems = numel(shape)
    return LayerCost(
        name=name, op="scale", kind=kind, in_shape=shape, out_shape=shape, macs=0, params=0, bn_params=shape[0],
        act_read_elems=elems, act_write_elems=elems, elementwise_ops=elems, group="elementwise",
    )


def token_linear(name: str, kind: str, in_shape: Shape, out_features: int, *, bias: bool = True) -> LayerCost:
    """A linear layer applied at every position of a C×H×W map (attention projections over
    tokens): exactly a 1×1 conv, MACs = H·W·C·out, params = C·out (+ out); op ``fc``."""
    c, h, w = in_shape
    out_shape = (out_features, h, w)
    return LayerCost(
        name=name, op="fc", kind=kind, in_shape=in_shape, out_shape=out_shape, macs=h * w * c * out_features,
        params=c * out_features + (out_features if bias else 0), bn_params=0, act_read_elems=numel(in_shape),
        act_write_elems=numel(out_shape), elementwise_ops=0,
    )


def linear_attention(name: str, kind: str, *, heads: int, length: int, dim: int) -> LayerCost:
    """ReLU linear attention (EfficientViT-B's LiteMLA): per head kv = Kᵀ·[V, 1] then Q·kv,
    then a division by the last column (element-wise).

    MACs = heads · (L·d·(d+1) + L·d·(d+1)); reads Q, K, V (3·heads·L·d), writes heads·L·d;
    the small d×(d+1) kv matrices are written and read once; ReLU on Q and K, the padding
    and the normalising division are element-wise."""
    kv = heads * dim * (dim + 1)
    macs = 2 * heads * length * dim * (dim + 1)
    return LayerCost(
        name=name, op="attention", kind=kind, in_shape=(heads, length, dim), out_shape=(heads, length, dim), macs=macs,
        params=0, bn_params=0, act_read_elems=3 * heads * length * dim + kv, act_write_elems=heads * length * dim + kv,
        elementwise_ops=heads * length * (2 * dim + dim + 1), attention_macs=macs, group="attention",
    )
