"""Walk a spec at a given α, resolution and width rule into the list of executed layers."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

from collections.abc import Iterator

from .blocks import BLOCK_TYPES, Block, BlockContext
from .depth import scale_repeats
from .errors import OptionError, SpecError
from .ops import LayerCost, Shape
from .spec import ArchSpec


@dataclass(frozen=True, slots=True)
class Walk:
    """Per-image layer costs of one configuration of one spec."""

    spec: ArchSpec
    alpha: float
    resolution: int
    width_rule: str
    layers: tuple[LayerCost, ...]
    out_shape: Shape


MAX_ALPHA = 100.0
MAX_RESOLUTION = 1_000_000


def resolve_resolution(spec: ArchSpec, resolution: int | None = None, rho: float | None = None) -> int:
    """``--resolution N`` or ``--rho R`` (N = round(R × default)); neither: the spec's default."""
    if resolution is not None and rho is not None:
        raise OptionError("give --resolution or --rho, not both")
    if rho is not None:
        if isinstance(rho, bool) or not isinstance(rho, (int, float)) or not (math.isfinite(rho) and rho > 0):
            raise OptionError(f"--rho must be a positive finite number, got {rho!r}")
        if rho * spec.resolution > MAX_RESOLUTION:
            raise OptionError(f"--rho {rho:g} gives a resolution above {MAX_RESOLUTION} for {spec.name}")
        resolution = round(rho * spec.resolution)
        if resolution < 1:
            raise OptionError(f"--rho {rho} gives resolution {resolution} for {spec.name}; expected at least 1")
    if resolution is None:
        return spec.resolution
    if isinstance(resolution, bool) or not isinstance(resolution, int) or not 1 <= resolution <= MAX_RESOLUTION:
        raise OptionError(f"--resolution must be an integer from 1 to {MAX_RESOLUTION}, got {resolution!r}")
    return resolution


def check_alpha(alpha: float) -> float:
    if isinstance(alpha, bool) or not isinstance(alpha, (int, float)) or not math.isfinite(alpha) or not 0 < alpha <= MAX_ALPHA:
        raise OptionError(f"--alpha must be a number above 0 and at most {MAX_ALPHA:g}, got {alpha!r}")
    return float(alpha)


def make_context(spec: ArchSpec, *, alpha: float, width_rule: str | None, fused_attention: bool = False) -> BlockContext:
    rule_name, rule = spec.rule(width_rule)
    return BlockContext(
        alpha=check_alpha(alpha) * spec.width_multiplier,
        rule_name=rule_name,
        rule=rule,
        divisor=spec.divisor,
        round_limit=spec.round_limit,
        se=spec.se,
        fused_attention=fused_attention,
    )


def instance_label(stage_name: str, block: Block, index: int) -> str:
    """A block's own ``name`` when it runs once, else ``STAGE.INDEX`` (index of the
    executed block within its stage): the layer-name prefix of every walked layer."""
    return block.name if block.name and block.n == 1 else f"{stage_name}.{index}"


def block_instances(spec: ArchSpec) -> Iterator[tuple[str, Block]]:
    """(label, block) for every executed block: repeats expanded, only the first keeps its stride."""
    for stage in spec.stages:
        index = 0
        repeats = [block.n for block in stage.blocks]
        if spec.depth_multiplier != 1.0 and stage.depth == "scale":
            repeats = scale_repeats(repeats, spec.depth_multiplier, spec.depth_trunc)
        for block, n in zip(stage.blocks, repeats):
            for repeat in range(n):
                instance = block
                if repeat and getattr(block, "stride", 1) != 1:
                    instance = dataclasses.replace(block, stride=1)  # type: ignore[call-arg]
                yield instance_label(stage.name, block, index), instance
                index += 1


def walk(
    spec: ArchSpec,
    *,
    alpha: float = 1.0,
    resolution: int | None = None,
    rho: float | None = None,
    width_rule: str | None = None,
    fused_attention: bool = False,
) -> Walk:
    """Expand repeats, scale widths and track shapes through every block of ``spec``."""
    ctx = make_context(spec, alpha=alpha, width_rule=width_rule, fused_attention=fused_attention)
    res = resolve_resolution(spec, resolution, rho)
    shape: Shape = (spec.in_channels, res, res)
    layers: list[LayerCost] = []
    seen: set[str] = set()
    for label, block in block_instances(spec):
        if len(shape) != 3 and not block.ACCEPTS_FLAT:
            raise SpecError(f"a {block.TYPE} block needs a C×H×W input, but follows a flattened tensor of {shape[0]} features (after an fc)",
                            file=spec.file, key=block.where, line=block.line)
        try:
            new, shape = BLOCK_TYPES[block.TYPE].expand(block, ctx, shape, label)
        except ValueError as exc:
            raise SpecError(f"{exc} (α={check_alpha(alpha):g}, resolution {res})", file=spec.file, key=block.where, line=block.line) from None
        for layer in new:
            if layer.name in seen:
                raise SpecError(f"layer name {layer.name!r} is used twice; give each block a unique name (automatic labels are STAGE.INDEX)",
                                file=spec.file, key=block.where, line=block.line)
            seen.add(layer.name)
        layers.extend(new)
    return Walk(spec=spec, alpha=check_alpha(alpha), resolution=res, width_rule=ctx.rule_name, layers=tuple(layers), out_shape=shape)
