"""The block registry, the fields every block shares, and the per-walk context.

A block type is a frozen record class (its YAML keys) plus an ``expand`` function
that turns one block instance into executed layers. Registering a type twice is a
bug and raises; an unknown ``type:`` in a spec is a user error with suggestions.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal, TypeVar

from ..ops import Activation, LayerCost, Shape
from ..schema import between, fraction, meta, positive
from ..width import SCALE, WidthPolicy, WidthRule, make_divisible, parse_width_policy


MAX_REPEATS = 1000  # per block; a typo like n: 1000000 must not hang the walker

_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_-]*(\.[A-Za-z0-9][A-Za-z0-9_-]*)*")


def layer_name(value: Any) -> str | None:
    """Block names become layer names and torch module paths: dot-separated words of
    letters, digits, ``_`` and ``-``, each word starting with a letter or digit."""
    return None if _NAME.fullmatch(value) else "a name of letters, digits, '_', '-' and '.' that starts with a letter"


@dataclass(frozen=True, kw_only=True)
class Block:
    """Keys every block accepts: ``n`` repeats (only the first keeps its stride),
    an optional ``name`` and the ``width`` policy of its channel counts."""

    TYPE: ClassVar[str] = ""
    ACCEPTS_FLAT: ClassVar[bool] = False  # True: may follow a flattened (fc) tensor

    n: int = field(default=1, metadata=meta(check=between(1, MAX_REPEATS)))
    name: str | None = field(default=None, metadata=meta(check=layer_name))
    width: WidthPolicy = field(default_factory=dict, metadata=meta(parse=parse_width_policy))
    where: str = field(default="", metadata=meta(internal=True))
    line: int | None = field(default=None, metadata=meta(internal=True))


@dataclass(frozen=True, kw_only=True)
class SESettings:
    """Squeeze-and-excitation shared by a spec's blocks (``se: true``; V3 paper, Sec. 5.3).

    Without ``base`` the squeeze is make_divisible(expanded · ratio) under the width rule's
    ``se_round`` (MobileNetV3). With ``base`` (``input`` | ``expanded``) every ``se: true`` block
    is sized like a per-block SE mapping with these ``round`` / ``divisor`` settings (see blocks.se).
    """

    ratio: float = field(default=0.25, metadata=meta(check=fraction))
    act: Activation = "relu"
    gate: Activation = "hsigmoid"
    base: Literal["input", "expanded"] | None = None
    round: Literal["round", "floor", "divisible"] = "round"
    divisor: int | None = field(default=None, metadata=meta(check=positive))


class BlockContext:
    """What a block needs to know during a walk: α, the width rule and spec-wide settings."""

    def __init__(
        self,
        *,
        alpha: float,
        rule_name: str,
        rule: WidthRule,
        divisor: int,
        round_limit: float,
        se: SESettings,
        fused_attention: bool = False,
    ) -> None:
        self.alpha = alpha
        self.rule_name = rule_name
        self.rule = rule
        self.divisor = divisor
        self.round_limit = round_limit
        self.se = se
        self.fused_attention = fused_attention

    def channels(self, count: int, policy: WidthPolicy, in_channels: int) -> int:
        """A channel count from the spec, scaled by α under the block's width policy."""
        mode = policy.get(self.rule_name) or policy.get("*") or SCALE
        return mode.apply(count, self.alpha, self.divisor, self.round_limit, in_channels)

    def divisible(self, value: float) -> int:
        return make_divisible(value, self.divisor, round_limit=self.round_limit)

    def hidden(self, in_channels: int, ratio: float | None, exp: int | None, policy: WidthPolicy) -> int:
        """Expanded width of an inverted bottleneck under the active width rule."""
        how = self.rule.hidden
        if how == "exp_scaled":
            if exp is None:
                raise ValueError(f"width rule {self.rule_name!r} derives the hidden width from 'exp', which this block lacks")
            return self.channels(exp, policy, in_channels)
        if ratio is None:
            raise ValueError(f"width rule {self.rule_name!r} derives the hidden width from 'expand', which this block lacks")
        if how == "round_ratio":
            return int(round(in_channels * ratio))
        return self.divisible(in_channels * ratio)

    def squeeze(self, channels: int, ratio: float) -> int:
        """Squeeze-excite bottleneck width: make_divisible(C·ratio) (``floor``: C // (1/ratio))."""
        if self.rule.se_round == "floor":
            return self.divisible(channels // round(1 / ratio))
        return self.divisible(channels * ratio)


Expand = Callable[[Any, BlockContext, Shape, str], "tuple[list[LayerCost], Shape]"]


@dataclass(frozen=True)
class BlockType:
    name: str
    record: type[Block]
    expand: Expand
    summary: str


BLOCK_TYPES: dict[str, BlockType] = {}

B = TypeVar("B", bound=Block)


def register(record: type[B], summary: str) -> Callable[[Callable[[B, BlockContext, Shape, str], tuple[list[LayerCost], Shape]]], Any]:
    """Register ``record.TYPE`` with the decorated expand function; duplicates raise."""

    def decorate(fn: Callable[[B, BlockContext, Shape, str], tuple[list[LayerCost], Shape]]) -> Any:
        name = record.TYPE
        if not name:
            raise TypeError(f"{record.__name__} has no TYPE")
        if name in BLOCK_TYPES:
            raise KeyError(f"block type {name!r} registered twice")
        BLOCK_TYPES[name] = BlockType(name, record, fn, summary)
        return fn

    return decorate
