"""Torch builders of the zoo's blocks (groups, Ghost modules, norms, attention variants), so
that ``crosscheck`` builds every spec; registered into ``mncost.torchnet.model.BUILDERS``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from ..blocks import BlockContext
from ..blocks.attention import MHSA, LiteMLA
from ..blocks.basic import Norm, Shuffle
from ..blocks.composite import SE as SEBlock
from ..blocks.composite import Concat, Ghost, Group, ghost_widths
from ..blocks.se import BlockSE, se_size
from .model import Add, Attention, LayerScale, SqueezeExcite, _single, apply, conv_layer


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


def chain(parent: nn.Module, blocks: Any, ctx: BlockContext, cin: int) -> tuple[list[str], int]:
    """Build ``blocks`` as children of ``parent`` named like the walker's labels (INDEX or NAME):
    their names in order and the channels they end with."""
    from .model import BUILDERS as ALL  # every block type, this module's included

    names = []
    channels = cin
    for i, inner in enumerate(blocks):
        module = ALL[inner.TYPE](inner, ctx, channels)
        channels = int(module.out_channels)  # type: ignore[arg-type]
        name = inner.name or str(i)
        parent.add_module(name, module)
        names.append(name)
    return names, channels


class GroupBlock(nn.Module):
    """Inner blocks as children named like the walker's labels (INDEX or NAME), an optional
    ``shortcut`` child holding the skip path's blocks, and the residual ``add``."""

    def __init__(self, b: Group, ctx: BlockContext, cin: int) -> None:
        super().__init__()
        self.body, self.out_channels = chain(self, b.blocks, ctx, cin)
        self.skip: list[str] = []
        if b.shortcut:
            self.shortcut = nn.Module()
            self.skip, _ = chain(self.shortcut, b.shortcut, ctx, cin)
        self.add = Add(b.act) if b.residual else None
        self.shortcut_first = b.shortcut_first


    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.shortcut_first:  # the walker's layer order: shortcut, then the blocks
            skip = apply(self.shortcut, self.skip, x)
        y = apply(self, self.body, x)
        if self.add is None:
            return y
        if not self.shortcut_first:
            skip = apply(self.shortcut, self.skip, x) if self.skip else x
        return self.add(y, skip)


class ConcatBlock(nn.Module):
    """One child per branch (named by its index, holding the branch's blocks), run in order
    on the input or on its equal channel parts (``split``), outputs concatenated."""

    def __init__(self, b: Concat, ctx: BlockContext, cin: int) -> None:
        super().__init__()
        self.split = len(b.branches) if b.split else 0
        part = cin // len(b.branches) if b.split else cin
        self.chains: list[tuple[str, list[str]]] = []
        channels = 0
        for i, branch in enumerate(b.branches):
            names, out = [], part
            if branch:
                holder = nn.Module()
                names, out = chain(holder, branch, ctx, part)
                self.add_module(str(i), holder)
            channels += out
            self.chains.append((str(i), names))
        self.out_channels = channels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        parts = torch.chunk(x, self.split, dim=1) if self.split else [x] * len(self.chains)
        return torch.cat([apply(getattr(self, i), names, p) if names else p for (i, names), p in zip(self.chains, parts)], dim=1)


class ChannelShuffle(nn.Module):
    def __init__(self, b: Shuffle, cin: int) -> None:
        super().__init__()
        self.groups, self.out_channels = b.groups, cin

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, c, h, w = x.shape
        return x.view(n, self.groups, c // self.groups, h, w).transpose(1, 2).reshape(n, c, h, w)


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


class Permute(nn.Module):
    """The map rewritten channels-last in memory (its N×C×H×W shape kept, as the walker's)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.contiguous(memory_format=torch.channels_last)


BUILDERS: dict[str, Callable[[Any, BlockContext, int], nn.Module]] = {
    "permute": lambda b, ctx, cin: _single(Permute(), cin),
    "norm": lambda b, ctx, cin: ChannelNorm(b, cin),
    "layer_scale": lambda b, ctx, cin: _single(LayerScale(cin), cin),
    "group": GroupBlock,
    "ghost": GhostModule,
    "concat": ConcatBlock,
    "shuffle": lambda b, ctx, cin: ChannelShuffle(b, cin),
    "se": _se_block,
    "mhsa": MHSABlock,
    "lite_mla": LiteMLABlock,
}
