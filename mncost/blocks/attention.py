"""Multi-head self-attention over the positions of a C×H×W map (FastViT-SA, ViT-style hybrids).

timm ``fastvit.Attention``: an optional pre-norm (BatchNorm, folded into the QKV projection
like Mobile MQA's), a linear QKV projection C → 3·heads·head_dim over the H·W tokens, the
attention core (heads × (H·W)² scores), and a linear output projection back to ``out``.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import ClassVar, Literal

from .. import ops
from ..ops import LayerCost, Shape
from ..schema import meta, positive
from .base import Block, BlockContext, register


@dataclass(frozen=True, kw_only=True)
class MHSA(Block):
    """Multi-head self-attention: ``head_dim`` per head, heads = C / head_dim (timm FastViT).

    ``norm: batchnorm`` adds a folded pre-norm (2·C) to the QKV projection; ``qkv_bias`` and
    ``proj_bias`` are the projections' biases. The block's output is C×H×W (no residual:
    wrap it in a ``group`` with ``residual: true``)."""

    TYPE: ClassVar[str] = "mhsa"
    head_dim: int = field(default=32, metadata=meta(check=positive))
    qkv_bias: bool = False
    proj_bias: bool = True
    norm: Literal["none", "batchnorm"] = "none"
    kind: str = "MHSA"


@register(MHSA, "multi-head self-attention over the H·W positions (linear QKV and output projections)")
def expand_mhsa(b: MHSA, ctx: BlockContext, shape: Shape, name: str) -> tuple[list[LayerCost], Shape]:
    c, h, w = shape
    if c % b.head_dim:
        raise ValueError(f"head_dim {b.head_dim} must divide the {c} channels")
    heads, tokens = c // b.head_dim, h * w
    qkv = ops.token_linear(f"{name}.qkv", b.kind, shape, 3 * heads * b.head_dim, bias=b.qkv_bias)
    if b.norm == "batchnorm":
        qkv = replace(qkv, bn_params=qkv.bn_params + 2 * c)
    core = ops.attention_matmuls(
        f"{name}.attention", b.kind, heads=heads, q_len=tokens, kv_len=tokens, key_dim=b.head_dim,
        value_dim=b.head_dim, materialize_scores=not ctx.fused_attention, kv_heads=heads,
    )
    proj = ops.token_linear(f"{name}.proj", b.kind, (heads * b.head_dim, h, w), c, bias=b.proj_bias)
    return [qkv, core, proj], proj.out_shape


@dataclass(frozen=True, kw_only=True)
class LiteMLA(Block):
    """EfficientViT-B's lightweight multi-scale linear attention (Cai et al., ICCV 2023, Fig. 4;
    timm ``efficientvit_mit.LiteMLA``): 1×1 QKV conv C → 3·C; per ``scales`` entry k an
    aggregation of a k×k depthwise conv and a 1×1 conv grouped per head (3·heads groups);
    ReLU linear attention over the (1 + len(scales))·heads heads of ``head_dim``; 1×1
    projection (+BN) to ``out``. No residual: wrap it in a ``group``."""

    TYPE: ClassVar[str] = "lite_mla"
    out: int = field(metadata=meta(check=positive))
    head_dim: int = field(default=16, metadata=meta(check=positive))
    scales: tuple[int, ...] = field(default=(5,), metadata=meta(parse=lambda raw, path, ctx: _kernels(raw, path, ctx)))
    kind: str = "LiteMLA"


def _kernels(raw: object, path: str, ctx: object) -> tuple[int, ...]:
    from ..schema import Context, describe

    assert isinstance(ctx, Context)
    if not isinstance(raw, list) or not all(isinstance(k, int) and not isinstance(k, bool) and k > 0 and k % 2 for k in raw):
        raise ctx.fail(path, f"expected a list of odd positive kernel sizes, got {describe(raw)}")
    return tuple(raw)


@register(LiteMLA, "EfficientViT-B multi-scale ReLU linear attention (LiteMLA)")
def expand_lite_mla(b: LiteMLA, ctx: BlockContext, shape: Shape, name: str) -> tuple[list[LayerCost], Shape]:
    c, h, w = shape
    if c % b.head_dim:
        raise ValueError(f"head_dim {b.head_dim} must divide the {c} channels")
    heads = c // b.head_dim
    total = heads * b.head_dim
    out = ctx.channels(b.out, b.width, c)
    qkv = ops.conv2d(f"{name}.qkv", b.kind, shape, 3 * total, 1, bn=False)
    layers = [qkv]
    for k in b.scales:
        dw = ops.conv2d(f"{name}.aggreg{k}.dw", b.kind, qkv.out_shape, 3 * total, k, groups=3 * total, bn=False)
        pw = ops.conv2d(f"{name}.aggreg{k}.pw", b.kind, dw.out_shape, 3 * total, 1, groups=3 * heads, bn=False)
        layers += [dw, pw]
    branches = 1 + len(b.scales)
    layers.append(ops.linear_attention(f"{name}.attention", b.kind, heads=branches * heads, length=h * w, dim=b.head_dim))
    proj = ops.conv2d(f"{name}.proj", b.kind, (branches * total, h, w), out, 1)
    layers.append(proj)
    return layers, proj.out_shape
