"""Pure comparisons of mncost's walk against torch/fvcore counts and reference tables.

Nothing here imports torch, so the comparison logic is tested on its own.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from ..ops import LayerCost, Shape
from ..walker import Walk

from ..ops import MAC_OPS as MAC_OPS  # noqa: E402


class Counts(Protocol):
    @property
    def macs(self) -> dict[str, int]: ...
    @property
    def attention_macs(self) -> dict[str, int]: ...
    @property
    def params(self) -> dict[str, int]: ...
    @property
    def folded_params(self) -> dict[str, int]: ...
    @property
    def out_shapes(self) -> dict[str, tuple[int, ...]]: ...
    @property
    def unsupported_ops(self) -> dict[str, int]: ...
    @property
    def total_macs(self) -> int: ...


@dataclass(frozen=True)
class LayerDiff:
    """One mncost layer beside what torch/fvcore measured for the module of the same name."""

    name: str
    op: str
    macs: int
    torch_macs: int | None
    params: int
    torch_params: int | None
    shape: Shape
    torch_shape: Shape | None

    @property
    def problems(self) -> list[str]:
        if self.torch_macs is None and self.torch_shape is None:
            return ["no torch module of this name"]
        found = []
        if self.torch_macs != self.macs:
            found.append(f"MACs {self.macs:,} vs fvcore {self.torch_macs if self.torch_macs is None else format(self.torch_macs, ',')}")
        if self.torch_params is not None and self.torch_params != self.params:
            found.append(f"params {self.params:,} vs torch {self.torch_params:,}")
        if self.torch_shape is not None and self.torch_shape != self.shape:
            found.append(f"shape {self.shape} vs torch {self.torch_shape}")
        return found

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass(frozen=True)
class Total:
    quantity: str
    mncost: int
    other: int

    @property
    def ok(self) -> bool:
        return self.mncost == self.other


@dataclass(frozen=True)
class ReferenceCheck:
    """Totals (and, where committed, per-layer rows) of an independent implementation."""

    reference: str
    source: Literal["live", "committed"]
    totals: tuple[Total, ...]
    layer_problems: tuple[str, ...] = ()
    note: str = ""

    @property
    def ok(self) -> bool:
        return all(t.ok for t in self.totals) and not self.layer_problems


@dataclass(frozen=True)
class CrossCheck:
    model: str
    alpha: float
    resolution: int
    width_rule: str
    layers: tuple[LayerDiff, ...]
    totals: tuple[Total, ...]
    unsupported_ops: dict[str, int]
    reference: ReferenceCheck | None = None
    reference_note: str = ""
    extra: dict[str, Any] = field(default_factory=dict)
    expected: tuple[Total, ...] = ()  # the spec's ``expected:`` counts, where they apply

    @property
    def expected_ok(self) -> bool:
        return all(t.ok for t in self.expected)

    @property
    def mismatched_layers(self) -> list[LayerDiff]:
        return [layer for layer in self.layers if not layer.ok]

    @property
    def ok(self) -> bool:
        reference_ok = self.reference is None or self.reference.ok
        return not self.mismatched_layers and all(t.ok for t in self.totals) and not self.unsupported_ops and reference_ok and self.expected_ok


def compare_with_torch(walk: Walk, counts: Counts) -> tuple[tuple[LayerDiff, ...], tuple[Total, ...]]:
    """Per layer and in total: MACs, conv/linear params and output shapes."""
    diffs = []
    for layer in walk.layers:
        diffs.append(
            LayerDiff(
                name=layer.name,
                op=layer.op,
                macs=layer.macs,
                torch_macs=counts.macs.get(layer.name, 0 if layer.name in counts.out_shapes else None),
                params=layer.params,
                torch_params=counts.params.get(layer.name, 0) if layer.name in counts.out_shapes else None,
                shape=layer.out_shape,
                torch_shape=counts.out_shapes.get(layer.name),
            )
        )
    totals = (
        Total("MACs", sum(x.macs for x in walk.layers), counts.total_macs),
        Total("attention MACs", sum(x.attention_macs for x in walk.layers), counts.attention_macs.get("", 0)),
        Total("params", sum(x.params for x in walk.layers), counts.params.get("", 0)),
        Total("BN + layer-scale params", sum(x.bn_params for x in walk.layers), counts.folded_params.get("", 0)),
    )
    return tuple(diffs), totals


def reference_totals(walk: Walk, entry: dict[str, Any]) -> tuple[Total, ...]:
    attention = sum(x.attention_macs for x in walk.layers)
    return (
        Total("conv + linear MACs", sum(x.macs for x in walk.layers) - attention, int(entry["macs"])),
        Total("attention MACs", attention, int(entry.get("attention_macs", 0))),
        Total("params", sum(x.params for x in walk.layers), int(entry["params"])),
        Total("BN + layer-scale params", sum(x.bn_params for x in walk.layers), int(entry.get("bn_params", 0)) + int(entry.get("other_params", 0))),
    )


def compare_layer_table(walk: Walk, rows: list[dict[str, Any]]) -> list[str]:
    """mncost's MAC-carrying layers against the reference's Conv2d/Linear/attention rows, in order."""
    ours: list[LayerCost] = [x for x in walk.layers if x.op in MAC_OPS]
    problems = []
    for i, (layer, row) in enumerate(zip(ours, rows)):
        issues = []
        if layer.macs != row["macs"]:
            issues.append(f"MACs {layer.macs:,} vs {row['macs']:,}")
        if layer.params != row.get("params", 0):
            issues.append(f"params {layer.params:,} vs {row.get('params', 0):,}")
        ref_shape = tuple(row["out_shape"])
        if row.get("type") != "attention" and _squeeze(ref_shape) != _squeeze(layer.out_shape):
            issues.append(f"shape {layer.out_shape} vs {ref_shape}")
        if issues:
            problems.append(f"{layer.name} ↔ {row['module']}: " + ", ".join(issues))
    if len(ours) != len(rows):
        problems.append(f"{len(ours)} MAC-carrying layers in mncost, {len(rows)} conv/linear/attention modules in the reference")
    return problems


def _squeeze(shape: tuple[int, ...]) -> tuple[int, ...]:
    """A 1x1 conv head on pooled features (C×1×1) and a linear layer (C) have the same output."""
    while len(shape) > 1 and shape[-1] == 1:
        shape = shape[:-1]
    return shape
