"""Build a real ``torch.nn.Module`` from a spec, one torch module per mncost layer.

Module paths equal mncost layer names (``stage2.0.expand``), so fvcore's per-module
counts and forward-hook shapes line up with the walker's rows. Channel widths come
from the spec's width rule (shared with the walker: the reference comparison checks
that arithmetic); everything else — convolution arithmetic, spatial shapes,
attention — is torch's own.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from ..blocks import BlockContext
from ..blocks.attention import MHSA, LiteMLA
from ..blocks.basic import Conv, Norm, Pool2d
from ..blocks.composite import SE as SEBlock
from ..blocks.composite import Ghost, Group, ghost_widths
from ..blocks.mobilenet import DepthwiseSeparable, InvertedResidual
from ..blocks.se import SE, BlockSE, SESize, se_size
from ..blocks.v4 import MQA, UIB, FusedIB
from ..ops import canonical_activation, same_padding
from ..spec import ArchSpec
from ..walk import block_instances, make_context

_ACTIVATIONS: dict[str, Callable[[], nn.Module]] = {
    "none": nn.Identity,
    "relu": nn.ReLU,
    "relu6": nn.ReLU6,
    "hswish": nn.Hardswish,
    "hsigmoid": nn.Hardsigmoid,
    "gelu": nn.GELU,
    "swish": nn.SiLU,
    "sigmoid": nn.Sigmoid,
}


def activation(name: str) -> nn.Module:
    return _ACTIVATIONS[canonical_activation(name)]()


def conv_layer(cin: int, cout: int, k: int, *, stride: int = 1, groups: int = 1, bias: bool = False,
               bn: bool = True, act: str = "none", padding: int | None = None) -> nn.Sequential:
    pad = same_padding(k) if padding is None else padding
    parts: list[nn.Module] = [nn.Conv2d(cin, cout, k, stride, pad, groups=groups, bias=bias)]
    if bn:
        parts.append(nn.BatchNorm2d(cout))
    parts.append(activation(act))
    return nn.Sequential(*parts)


class Add(nn.Module):
    """Residual add, a module so that it has a name and a hookable output."""

    def forward(self, x: torch.Tensor, shortcut: torch.Tensor) -> torch.Tensor:
        return x + shortcut


class Scale(nn.Module):
    """Per-channel gating x · g."""

    def forward(self, x: torch.Tensor, gate: torch.Tensor) -> torch.Tensor:
        return x * gate


class LayerScale(nn.Module):
    def __init__(self, channels: int) -> None:
        super().__init__()
        self.gamma = nn.Parameter(torch.full((channels,), 1e-5))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.gamma.view(1, -1, 1, 1)


class SqueezeExcite(nn.Module):
    def __init__(self, channels: int, size: SESize) -> None:
        super().__init__()
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.reduce = conv_layer(channels, size.squeeze, 1, bias=True, bn=False, act=size.act)
        self.expand = conv_layer(size.squeeze, channels, 1, bias=True, bn=False, act=size.gate)
        self.scale = Scale()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.scale(x, self.expand(self.reduce(self.pool(x))))


def make_se(se: SE, ctx: BlockContext, *, in_channels: int, channels: int, block_act: str) -> SqueezeExcite | None:
    size = se_size(se, ctx, in_channels=in_channels, channels=channels, block_act=block_act)
    return None if size is None else SqueezeExcite(channels, size)


class BlurPool(nn.Module):
    """timm's ``BlurPool2d`` (constant padding): a fixed binomial filter, depthwise, strided."""

    def __init__(self, channels: int, k: int = 3, stride: int = 2) -> None:
        super().__init__()
        import math

        coeffs = torch.tensor([math.comb(k - 1, i) for i in range(k)], dtype=torch.float32) / 2 ** (k - 1)
        self.register_buffer("filt", (coeffs[:, None] * coeffs[None, :]).repeat(channels, 1, 1, 1))
        self.stride, self.channels, self.pad = stride, channels, ((stride - 1) + (k - 1)) // 2

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.conv2d(F.pad(x, [self.pad] * 4), self.filt, stride=self.stride, groups=self.channels)


def aa_layer(aa: str, channels: int, stride: int) -> nn.Module | None:
    if aa == "none" or stride == 1:
        return None
    return nn.AvgPool2d(stride) if aa == "avg" else BlurPool(channels, 3, stride)


def add_strided(parent: nn.Module, name: str, cin: int, cout: int, k: int, *, stride: int, aa: str, **kwargs: Any) -> list[str]:
    """Register a strided conv as ``parent.NAME``; under anti-aliasing it runs at stride 1 and
    ``parent.NAME_aa`` carries the stride (the walker's rows). Returns the names to apply in order."""
    pool = aa_layer(aa, cout, stride)
    parent.add_module(name, conv_layer(cin, cout, k, stride=1 if pool is not None else stride, **kwargs))
    if pool is None:
        return [name]
    parent.add_module(f"{name}_aa", pool)
    return [name, f"{name}_aa"]


def apply(parent: nn.Module, names: list[str], x: torch.Tensor) -> torch.Tensor:
    for name in names:
        x = getattr(parent, name)(x)
    return x


class ChannelNorm(nn.Module):
    """LayerNorm over the channels of an N×C×H×W map (timm ``LayerNorm2d``), or GroupNorm."""

    def __init__(self, b: Norm, channels: int) -> None:
        super().__init__()
        self.mode = b.mode
        if b.mode == "layernorm":
            self.norm: nn.Module = nn.LayerNorm(channels, elementwise_affine=b.affine)
        else:
            self.norm = nn.GroupNorm(b.groups, channels, affine=b.affine)
        self.out_channels = channels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.mode == "layernorm" and x.dim() == 2:
            return self.norm(x)
        if self.mode == "layernorm":
            return self.norm(x.permute(0, 2, 3, 1)).permute(0, 3, 1, 2)
        return self.norm(x)


class FullyConnected(nn.Module):
    """Linear on the flattened input; in_features is inferred (the input may be C×H×W)."""

    def __init__(self, fout: int, bias: bool, act: str) -> None:
        super().__init__()
        self.linear = nn.LazyLinear(fout, bias=bias)
        self.act = activation(act)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(self.linear(torch.flatten(x, 1)))


class DSBlock(nn.Module):
    def __init__(self, b: DepthwiseSeparable, ctx: BlockContext, cin: int) -> None:
        super().__init__()
        self.out_channels = ctx.channels(b.out, b.width, cin)
        self.dw = conv_layer(cin, cin, b.k, stride=b.stride, groups=cin, act=b.act, bias=b.bias)
        self.se = make_se(b.se, ctx, in_channels=cin, channels=cin, block_act=b.act)
        self.pw = conv_layer(cin, self.out_channels, 1, act=b.act if b.pw_act else "none", bias=b.bias)
        self.add = Add() if b.skip and b.stride == 1 and self.out_channels == cin else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.dw(x)
        if self.se is not None:
            y = self.se(y)
        y = self.pw(y)
        return self.add(y, x) if self.add is not None else y


class IRBlock(nn.Module):
    def __init__(self, b: InvertedResidual, ctx: BlockContext, cin: int) -> None:
        super().__init__()
        self.out_channels = ctx.channels(b.out, b.width, cin)
        hidden = ctx.hidden(cin, b.expand, b.exp, b.width)
        self.expand = conv_layer(cin, hidden, 1, act=b.act, bias=b.bias) if hidden != cin or b.keep_expand else None
        self.dw = conv_layer(hidden, hidden, b.k, stride=b.stride, groups=hidden, act=b.act, bias=b.bias)
        self.se = make_se(b.se, ctx, in_channels=cin, channels=hidden, block_act=b.act)
        self.project = conv_layer(hidden, self.out_channels, 1, bias=b.bias)
        self.add = Add() if b.skip and b.stride == 1 and self.out_channels == cin else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.expand(x) if self.expand is not None else x
        y = self.dw(y)
        if self.se is not None:
            y = self.se(y)
        y = self.project(y)
        return self.add(y, x) if self.add is not None else y


class UIBBlock(nn.Module):
    def __init__(self, b: UIB, ctx: BlockContext, cin: int) -> None:
        super().__init__()
        self.out_channels = ctx.channels(b.out, b.width, cin)
        hidden = ctx.divisible(cin * b.expand)
        start_stride = 1 if b.mid_dw else b.stride
        self.start = add_strided(self, "dw_start", cin, cin, b.start_dw, stride=start_stride, aa=b.aa, groups=cin, bias=b.bias) if b.start_dw else []
        self.expand = conv_layer(cin, hidden, 1, act=b.act, bias=b.bias)
        self.mid = add_strided(self, "dw_mid", hidden, hidden, b.mid_dw, stride=b.stride, aa=b.aa, groups=hidden, act=b.act, bias=b.bias) if b.mid_dw else []
        self.project = conv_layer(hidden, self.out_channels, 1, bias=b.bias)
        if b.layer_scale:
            self.project.append(LayerScale(self.out_channels))
        self.add = Add() if b.skip and b.stride == 1 and self.out_channels == cin else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = apply(self, self.start, x)
        y = self.expand(y)
        y = apply(self, self.mid, y)
        y = self.project(y)
        return self.add(y, x) if self.add is not None else y


class FusedIBBlock(nn.Module):
    def __init__(self, b: FusedIB, ctx: BlockContext, cin: int) -> None:
        super().__init__()
        self.out_channels = ctx.channels(b.out, b.width, cin)
        hidden = ctx.divisible(cin * b.expand)
        self.first = add_strided(self, "expand", cin, hidden, b.k, stride=b.stride, aa=b.aa, act=b.act, bias=b.bias)
        self.project = conv_layer(hidden, self.out_channels, 1, bias=b.bias)
        self.add = Add() if b.skip and b.stride == 1 and self.out_channels == cin else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.project(apply(self, self.first, x))
        return self.add(y, x) if self.add is not None else y


class Attention(nn.Module):
    """softmax(Q·Kᵀ/√d)·V with one shared K/V head broadcast over the query heads."""

    def forward(self, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        return F.scaled_dot_product_attention(q, k, v)


class MQABlock(nn.Module):
    def __init__(self, b: MQA, ctx: BlockContext, cin: int) -> None:
        super().__init__()
        self.out_channels = ctx.channels(b.out, b.width, cin)
        self.heads, self.key_dim, self.value_dim, self.query_stride = b.heads, b.key_dim, b.value_dim, b.query_stride
        self.norm = nn.BatchNorm2d(cin)
        self.q_pool = nn.Sequential(nn.AvgPool2d(b.query_stride, ceil_mode=True), nn.BatchNorm2d(cin)) if b.query_stride > 1 else None
        self.q = conv_layer(cin, b.heads * b.key_dim, 1, bn=False)
        self.k_down = conv_layer(cin, cin, b.kv_k, stride=b.kv_stride, groups=cin) if b.kv_stride > 1 else None
        self.k = conv_layer(cin, b.key_dim, 1, bn=False)
        self.v_down = conv_layer(cin, cin, b.kv_k, stride=b.kv_stride, groups=cin) if b.kv_stride > 1 else None
        self.v = conv_layer(cin, b.value_dim, 1, bn=False)
        self.attention = Attention()
        self.o = conv_layer(b.heads * b.value_dim, self.out_channels, 1, bn=False)
        if b.layer_scale:
            self.o.append(LayerScale(self.out_channels))
        self.upsample = nn.Identity() if b.query_stride > 1 else None
        self.add = Add() if b.skip and self.out_channels == cin else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, _, h, w = x.shape
        xn = self.norm(x)
        q_in = self.q_pool(xn) if self.q_pool is not None else xn
        qh, qw = q_in.shape[-2:]
        q = self.q(q_in).reshape(n, self.heads, self.key_dim, qh * qw).transpose(-1, -2)
        kx = self.k_down(xn) if self.k_down is not None else xn
        k = self.k(kx).reshape(n, 1, self.key_dim, -1).transpose(-1, -2)
        vx = self.v_down(xn) if self.v_down is not None else xn
        v = self.v(vx).reshape(n, 1, self.value_dim, -1).transpose(-1, -2)
        o = self.attention(q, k, v)
        o = o.transpose(-1, -2).reshape(n, self.heads * self.value_dim, qh, qw)
        y = self.o(o)
        if self.upsample is not None:
            y = self.upsample(F.interpolate(y, size=(h, w), mode="bilinear", align_corners=False))
        return self.add(y, x) if self.add is not None else y


class GroupBlock(nn.Module):
    """Inner blocks as children named like the walker's labels (INDEX or NAME), an optional
    ``shortcut`` child holding the skip path's blocks, and the residual ``add``."""

    def __init__(self, b: Group, ctx: BlockContext, cin: int) -> None:
        super().__init__()
        self.body = self._chain(self, b.blocks, ctx, cin)
        self.out_channels = self._channels
        self.skip: list[str] = []
        if b.shortcut:
            self.shortcut = nn.Module()
            self.skip = self._chain(self.shortcut, b.shortcut, ctx, cin)
        self.add = Add() if b.residual else None

    def _chain(self, parent: nn.Module, blocks: Any, ctx: BlockContext, cin: int) -> list[str]:
        names = []
        channels = cin
        for i, inner in enumerate(blocks):
            module = BUILDERS[inner.TYPE](inner, ctx, channels)
            channels = int(module.out_channels)  # type: ignore[arg-type]
            name = inner.name or str(i)
            parent.add_module(name, module)
            names.append(name)
        self._channels = channels
        return names

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = apply(self, self.body, x)
        if self.add is None:
            return y
        skip = apply(self.shortcut, self.skip, x) if self.skip else x
        return self.add(y, skip)


class GhostModule(nn.Module):
    def __init__(self, b: Ghost, ctx: BlockContext, cin: int) -> None:
        super().__init__()
        self.out_channels = ctx.channels(b.out, b.width, cin)
        primary, cheap = ghost_widths(self.out_channels, b.ratio)
        self.primary = conv_layer(cin, primary, b.k, stride=b.stride, act=b.act, padding=b.k // 2)
        self.cheap = conv_layer(primary, cheap, b.dw_k, groups=primary, act=b.act, padding=b.dw_k // 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x1 = self.primary(x)
        return torch.cat([x1, self.cheap(x1)], dim=1)[:, : self.out_channels]


class TokenLinear(nn.Module):
    """nn.Linear at every position of an N×C×H×W map, returning N×out×H×W (the walker's shape)."""

    def __init__(self, cin: int, cout: int, bias: bool) -> None:
        super().__init__()
        self.linear = nn.Linear(cin, cout, bias=bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, _, h, w = x.shape
        return self.linear(x.flatten(2).transpose(1, 2)).transpose(1, 2).reshape(n, -1, h, w)


class MHSABlock(nn.Module):
    """Linear QKV over the H·W tokens, scaled-dot-product attention per head, linear output."""

    def __init__(self, b: MHSA, ctx: BlockContext, cin: int) -> None:
        super().__init__()
        self.out_channels = cin
        self.heads, self.head_dim = cin // b.head_dim, b.head_dim
        self.norm = nn.BatchNorm2d(cin) if b.norm == "batchnorm" else nn.Identity()
        self.qkv = TokenLinear(cin, 3 * cin, b.qkv_bias)
        self.attention = Attention()
        self.proj = TokenLinear(cin, cin, b.proj_bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, c, h, w = x.shape
        qkv = self.qkv(self.norm(x)).reshape(n, 3, self.heads, self.head_dim, h * w)
        q, k, v = (qkv[:, i].transpose(-1, -2) for i in range(3))
        o = self.attention(q, k, v)  # n, heads, hw, head_dim
        return self.proj(o.transpose(-1, -2).reshape(n, c, h, w))


class LinearAttention(nn.Module):
    """kv = relu(K)ᵀ·[V, 1], out = relu(Q)·kv, normalised by the last column (explicit matmuls)."""

    def forward(self, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        q, k = F.relu(q), F.relu(k)
        v = F.pad(v, (0, 1), mode="constant", value=1.0)
        out = torch.matmul(q, torch.matmul(k.transpose(-1, -2), v))
        return out[..., :-1] / (out[..., -1:] + 1e-5)


class LiteMLABlock(nn.Module):
    def __init__(self, b: LiteMLA, ctx: BlockContext, cin: int) -> None:
        super().__init__()
        self.out_channels = ctx.channels(b.out, b.width, cin)
        self.head_dim = b.head_dim
        total = cin // b.head_dim * b.head_dim
        self.qkv = conv_layer(cin, 3 * total, 1, bn=False)
        self.scales = list(b.scales)
        for k in b.scales:
            branch = nn.Module()
            branch.dw = conv_layer(3 * total, 3 * total, k, groups=3 * total, bn=False)
            branch.pw = conv_layer(3 * total, 3 * total, 1, groups=3 * (total // b.head_dim), bn=False)
            self.add_module(f"aggreg{k}", branch)
        self.attention = LinearAttention()
        self.proj = conv_layer((1 + len(b.scales)) * total, self.out_channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, _, h, w = x.shape
        qkv = self.qkv(x)
        parts = [qkv] + [getattr(self, f"aggreg{k}").pw(getattr(self, f"aggreg{k}").dw(qkv)) for k in self.scales]
        multi = torch.cat(parts, dim=1).reshape(n, -1, 3 * self.head_dim, h * w).transpose(-1, -2)
        q, k, v = multi.chunk(3, dim=-1)
        o = self.attention(q, k, v)  # n, heads, hw, head_dim
        return self.proj(o.transpose(-1, -2).reshape(n, -1, h, w))


def _se_block(b: SEBlock, ctx: BlockContext, cin: int) -> nn.Module:
    size = se_size(BlockSE(ratio=b.ratio, base="expanded", round=b.round, divisor=b.divisor, act=b.act, gate=b.gate),
                   ctx, in_channels=cin, channels=cin, block_act=b.act)
    assert size is not None
    return _single(SqueezeExcite(cin, size), cin)


def _single(module: nn.Module, out_channels: int) -> nn.Module:
    module.out_channels = out_channels  # type: ignore[assignment]
    return module


def _conv(b: Conv, ctx: BlockContext, cin: int) -> nn.Module:
    out = ctx.channels(b.out, b.width, cin)
    return _single(conv_layer(cin, out, b.k, stride=b.stride, groups=b.groups, bias=b.bias, bn=b.bn, act=b.act, padding=b.padding), out)


def _pool2d(b: Pool2d, ctx: BlockContext, cin: int) -> nn.Module:
    stride = b.stride or b.k
    if b.mode == "max":
        return _single(nn.MaxPool2d(b.k, stride, b.padding, ceil_mode=b.ceil_mode), cin)
    return _single(nn.AvgPool2d(b.k, stride, b.padding, ceil_mode=b.ceil_mode, count_include_pad=b.count_include_pad), cin)


BUILDERS: dict[str, Callable[[Any, BlockContext, int], nn.Module]] = {
    "conv": _conv,
    "pool2d": _pool2d,
    "group": GroupBlock,
    "mhsa": MHSABlock,
    "lite_mla": LiteMLABlock,
    "layer_scale": lambda b, ctx, cin: _single(LayerScale(cin), cin),
    "ghost": GhostModule,
    "se": _se_block,
    "norm": lambda b, ctx, cin: ChannelNorm(b, cin),
    "dwconv": lambda b, ctx, cin: _single(
        conv_layer(cin, cin, b.k, stride=b.stride, groups=cin, bias=b.bias, bn=b.bn, act=b.act, padding=b.padding), cin),
    "pwconv": lambda b, ctx, cin: _single(
        conv_layer(cin, c := ctx.channels(b.out, b.width, cin), 1, groups=b.groups, bias=b.bias, bn=b.bn, act=b.act), c),
    "pool": lambda b, ctx, cin: _single(nn.AdaptiveAvgPool2d(1), cin),
    "fc": lambda b, ctx, cin: _single(FullyConnected(c := ctx.channels(b.out, b.width, cin), b.bias, b.act), c),
    "dsconv": DSBlock,
    "ir": IRBlock,
    "uib": UIBBlock,
    "fused_ib": FusedIBBlock,
    "mqa": MQABlock,
}


class SpecNet(nn.Module):
    """The blocks in order; ``named_modules`` paths are mncost layer names.

    Call it once (``materialize``) before counting: fully connected layers infer
    their input width on the first forward pass.
    """

    def __init__(self, spec: ArchSpec, *, alpha: float = 1.0, width_rule: str | None = None) -> None:
        super().__init__()
        ctx = make_context(spec, alpha=alpha, width_rule=width_rule)
        self.order: list[str] = []
        channels = spec.in_channels
        for label, block in block_instances(spec):
            builder = BUILDERS.get(block.TYPE)
            if builder is None:
                raise NotImplementedError(f"no torch builder for block type {block.TYPE!r}")
            module = builder(block, ctx, channels)
            channels = int(module.out_channels)  # type: ignore[arg-type]
            parent: nn.Module = self
            parts = label.split(".")
            for part in parts[:-1]:
                if not hasattr(parent, part):
                    parent.add_module(part, nn.Module())
                parent = getattr(parent, part)
            parent.add_module(parts[-1], module)
            self.order.append(label)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for label in self.order:
            x = self.get_submodule(label)(x)
        return x
