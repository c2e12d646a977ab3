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
from ..blocks.basic import Conv, Pool2d
from ..blocks.mobilenet import DepthwiseSeparable, InvertedResidual
from ..blocks.se import SE, SESize, se_size
from ..blocks.v4 import MQA, UIB, FusedIB
from ..errors import SpecError
from ..ops import canonical_activation, same_padding
from ..spec import ArchSpec
from ..walker import block_instances, make_context

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
    """Residual add, a module so that it has a name and a hookable output; ``act`` runs after it."""

    def __init__(self, act: str = "none") -> None:
        super().__init__()
        self.act = activation(act)

    def forward(self, x: torch.Tensor, shortcut: torch.Tensor) -> torch.Tensor:
        return self.act(x + shortcut)


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


def _single(module: nn.Module, out_channels: int) -> nn.Module:
    module.out_channels = out_channels  # type: ignore[assignment]
    return module


def _scaled(conv: nn.Sequential, b: Any, out: int) -> nn.Module:
    """The conv with its layer scale γ after it (``layer_scale: true``)."""
    if b.layer_scale:
        conv.append(LayerScale(out))
    return _single(conv, out)


def _conv(b: Conv, ctx: BlockContext, cin: int) -> nn.Module:
    out = ctx.channels(b.out, b.width, cin)
    return _scaled(conv_layer(cin, out, b.k, stride=b.stride, groups=b.groups, bias=b.bias, bn=b.bn, act=b.act, padding=b.padding), b, out)


def _pool2d(b: Pool2d, ctx: BlockContext, cin: int) -> nn.Module:
    stride = b.stride or b.k
    if b.mode == "blur":
        return _single(BlurPool(cin, b.k, stride), cin)
    if b.mode == "max":
        return _single(nn.MaxPool2d(b.k, stride, b.padding, ceil_mode=b.ceil_mode), cin)
    return _single(nn.AvgPool2d(b.k, stride, b.padding, ceil_mode=b.ceil_mode, count_include_pad=b.count_include_pad), cin)


BUILDERS: dict[str, Callable[[Any, BlockContext, int], nn.Module]] = {
    "conv": _conv,
    "pool2d": _pool2d,
    "dwconv": lambda b, ctx, cin: _scaled(
        conv_layer(cin, cin, b.k, stride=b.stride, groups=cin, bias=b.bias, bn=b.bn, act=b.act, padding=b.padding), b, cin),
    "pwconv": lambda b, ctx, cin: _scaled(
        conv_layer(cin, c := ctx.channels(b.out, b.width, cin), 1, groups=b.groups, bias=b.bias, bn=b.bn, act=b.act), b, c),
    "pool": lambda b, ctx, cin: _single(nn.AdaptiveAvgPool2d(1), cin),
    "fc": lambda b, ctx, cin: _single(FullyConnected(c := ctx.channels(b.out, b.width, cin), b.bias, b.act), c),
    "dsconv": DSBlock,
    "ir": IRBlock,
    "uib": UIBBlock,
    "fused_ib": FusedIBBlock,
    "mqa": MQABlock,
}


from . import zoo  # noqa: E402  (the zoo's builders use the pieces above)

BUILDERS.update(zoo.BUILDERS)

_BARE_MODULE = nn.Module()  # the attribute names a block name must not take


class SpecNet(nn.Module):
    """The blocks in order; ``named_modules`` paths are mncost layer names.

    Call it once (``materialize``) before counting: fully connected layers infer
    their input width on the first forward pass.
    """

    def __init__(self, spec: ArchSpec, *, alpha: float = 1.0, width_rule: str | None = None) -> None:
        super().__init__()
        ctx = make_context(spec, alpha=alpha, width_rule=width_rule)
        self._layer_order: list[str] = []
        channels = spec.in_channels
        for label, block in block_instances(spec):
            builder = BUILDERS.get(block.TYPE)
            if builder is None:
                raise NotImplementedError(f"no torch builder for block type {block.TYPE!r}")
            module = builder(block, ctx, channels)
            channels = int(module.out_channels)  # type: ignore[arg-type]
            parent: nn.Module = self
            parts = label.split(".")
            reserved = [p for p in parts if hasattr(_BARE_MODULE, p)]
            if reserved:
                raise SpecError(f"block name {label!r}: {reserved[0]!r} is an attribute of torch modules, so crosscheck cannot build it; rename the block",
                                file=spec.file, key=block.where, line=block.line)
            for part in parts[:-1]:
                if not hasattr(parent, part):
                    parent.add_module(part, nn.Module())
                parent = getattr(parent, part)
            parent.add_module(parts[-1], module)
            self._layer_order.append(label)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for label in self._layer_order:
            x = self.get_submodule(label)(x)
        return x
