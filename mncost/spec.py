"""Architecture specs: YAML files that read like the papers' tables, validated into records."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from . import builtin
from .blocks import BLOCK_TYPES, Block, SESettings
from .depth import DepthTrunc
from .errors import SpecError
from .schema import Context, describe, meta, parse_record, positive, require_list, require_mapping, suggest
from .width import WidthRule
from .yamlio import join_path, load_file


@dataclass(frozen=True, kw_only=True)
class Published:
    """Numbers the paper reports (metadata; the pinned tests use the reference implementation)."""

    source: str = ""
    macs: float | None = field(default=None, metadata=meta(check=positive))
    params: float | None = field(default=None, metadata=meta(check=positive))
    top1: float | None = field(default=None, metadata=meta(check=positive))


@dataclass(frozen=True, kw_only=True)
class Expected:
    """Exact counts of the reference implementation at α = 1 and the default resolution."""

    reference: str
    macs: int = field(metadata=meta(check=positive))
    params: int = field(metadata=meta(check=positive))
    attention_macs: int = 0


@dataclass(frozen=True, kw_only=True)
class Stage:
    name: str
    note: str = ""
    depth: Literal["scale", "fixed"] = "scale"  # "fixed": the depth multiplier leaves it alone (timm fix_first_last)
    blocks: tuple[Block, ...] = field(default=(), metadata=meta(internal=True))


@dataclass(frozen=True, kw_only=True)
class ArchSpec:
    """One architecture: its stages of blocks plus the rules that scale it."""

    name: str
    title: str = ""
    source: str = field(metadata=meta())
    reference: str = ""
    resolution: int = field(metadata=meta(check=positive))
    in_channels: int = field(default=3, metadata=meta(check=positive))
    published: Published = field(default_factory=Published, metadata=meta(internal=True))
    expected: Expected | None = field(default=None, metadata=meta(internal=True))
    divisor: int = field(default=8, metadata=meta(check=positive))
    round_limit: float = field(default=0.9, metadata=meta(check=positive))
    width_multiplier: float = field(default=1.0, metadata=meta(check=positive))  # the model's own α; --alpha multiplies it
    depth_multiplier: float = field(default=1.0, metadata=meta(check=positive))
    depth_trunc: DepthTrunc = "ceil"
    family: str = ""
    width_rules: dict[str, WidthRule] = field(default_factory=dict, metadata=meta(internal=True))
    default_width_rule: str = ""
    se: SESettings = field(default_factory=SESettings, metadata=meta(internal=True))
    stages: tuple[Stage, ...] = field(default=(), metadata=meta(internal=True))
    file: str = field(default="", metadata=meta(internal=True))

    def rule(self, name: str | None) -> tuple[str, WidthRule]:
        """The named width rule, or the spec's default."""
        chosen = name or self.default_width_rule
        if chosen not in self.width_rules:
            valid = ", ".join(self.width_rules)
            raise SpecError(
                f"no width rule {chosen!r}{suggest(chosen, self.width_rules)}; this spec defines: {valid}",
                file=self.file,
                key="width_rules",
            )
        return chosen, self.width_rules[chosen]

    @property
    def blocks(self) -> list[Block]:
        return [b for stage in self.stages for b in stage.blocks]


MAX_BLOCKS = 20_000

_DEFAULT_RULE = WidthRule(source="mncost default: make_divisible(c·α, 8), hidden = make_divisible(C_in·t, 8)")
_NESTED = ("published", "expected", "width_rules", "se", "stages")


def _parse_block(raw: Any, path: str, ctx: Context) -> Block:
    mapping = require_mapping(raw, path, ctx)
    if "type" not in mapping:
        raise ctx.fail(path, f"missing required key 'type' (one of: {', '.join(sorted(BLOCK_TYPES))})")
    type_name = mapping["type"]
    if not isinstance(type_name, str) or type_name not in BLOCK_TYPES:
        shown = type_name if isinstance(type_name, str) else describe(type_name)
        hint = suggest(type_name, BLOCK_TYPES) if isinstance(type_name, str) else ""
        raise ctx.fail(join_path(path, "type"), f"unknown block type {shown!r}{hint}; known types: {', '.join(sorted(BLOCK_TYPES))}")
    record = BLOCK_TYPES[type_name].record
    return parse_record(record, mapping, path, ctx, ignore=("type",), extra={"where": path, "line": ctx.doc.line_of(path)})


def parse_spec(data: Any, ctx: Context) -> ArchSpec:
    top = require_mapping(data, "", ctx)
    nested: dict[str, Any] = {}
    if "published" in top:
        nested["published"] = parse_record(Published, top["published"], "published", ctx)
    if "expected" in top:
        nested["expected"] = parse_record(Expected, top["expected"], "expected", ctx)
    if "se" in top:
        nested["se"] = parse_record(SESettings, top["se"], "se", ctx)
    rules_raw = require_mapping(top.get("width_rules", {}), "width_rules", ctx)
    rules = {str(name): parse_record(WidthRule, value, join_path("width_rules", str(name)), ctx) for name, value in rules_raw.items()}
    nested["width_rules"] = rules or {"default": _DEFAULT_RULE}

    stages_raw = require_list(top.get("stages"), "stages", ctx) if "stages" in top else None
    if not stages_raw:
        raise ctx.fail("stages", "expected a non-empty list of stages")
    stages = []
    for i, raw_stage in enumerate(stages_raw):
        spath = join_path("stages", i)
        stage_map = require_mapping(raw_stage, spath, ctx)
        blocks_raw = require_list(stage_map.get("blocks"), join_path(spath, "blocks"), ctx) if "blocks" in stage_map else []
        if not blocks_raw:
            raise ctx.fail(join_path(spath, "blocks"), "expected a non-empty list of blocks")
        blocks = tuple(_parse_block(b, join_path(join_path(spath, "blocks"), j), ctx) for j, b in enumerate(blocks_raw))
        stage = parse_record(Stage, stage_map, spath, ctx, ignore=("blocks",), extra={"blocks": blocks})
        stages.append(stage)
    names = [s.name for s in stages]
    for i, name in enumerate(names):
        if names.index(name) != i:
            raise ctx.fail(join_path(join_path("stages", i), "name"), f"duplicate stage name {name!r}")
    nested["stages"] = tuple(stages)
    declared = set(nested["width_rules"])
    for stage in stages:
        for block in stage.blocks:
            for rule in block.width:
                if rule != "*" and rule not in declared:
                    raise ctx.fail(f"{block.where}.width.{rule}", f"width rule {rule!r} is not declared in width_rules ({', '.join(sorted(declared))}){suggest(rule, declared)}")
    total = sum(b.n for stage in stages for b in stage.blocks)
    if total > MAX_BLOCKS:
        raise ctx.fail("stages", f"the spec expands to {total} blocks; the limit is {MAX_BLOCKS}")
    spec = parse_record(ArchSpec, top, "", ctx, ignore=_NESTED, extra={**nested, "file": ctx.doc.file})
    if not spec.default_width_rule:
        spec = dataclasses.replace(spec, default_width_rule=next(iter(spec.width_rules)))
    elif spec.default_width_rule not in spec.width_rules:
        raise ctx.fail("default_width_rule", f"names no rule in width_rules ({', '.join(spec.width_rules)})")
    return spec


def load_spec_file(path: Path, display: str | None = None) -> ArchSpec:
    doc = load_file(path, display)
    return parse_spec(doc.data, Context(doc, SpecError))


_load_builtin = lru_cache(maxsize=64)(load_spec_file)  # built-ins are parsed once per process


def load_spec(model: str | Path) -> ArchSpec:
    """A built-in name (``v3-large``), the path of a spec YAML file, or an ONNX file (imported as a spec)."""
    if str(model).lower().endswith(".onnx"):
        from .graph.importer import import_spec

        return import_spec(model)  # type: ignore[no-any-return]
    files = builtin.spec_files()
    load = load_spec_file if isinstance(model, Path) or builtin.is_path(str(model)) else _load_builtin
    return builtin.resolve(model, files, load, folder="specs", what="model", listing="built-in models", file_kind="spec", error=SpecError)
