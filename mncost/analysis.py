"""``analyze()``: spec + hardware → per-layer roofline result, the library's main entry point."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import OptionError
from .hardware import HardwareProfile, Refinements, load_hardware
from .roofline import LayerTiming, activation_cost_s, time_layer
from .spec import ArchSpec, load_spec
from .walker import Walk, walk

if TYPE_CHECKING:
    import pandas as pd


@dataclass(frozen=True, slots=True)
class Totals:
    macs: int
    params: int
    bn_params: int
    weight_bytes: int
    activation_bytes: int
    elementwise_ops: int
    attention_macs: int
    latency_s: float
    memory_bound_share: float  # share of predicted latency spent in memory-bound layers
    layers: int
    memory_bound_layers: int
    refined_latency_s: float | None = None  # the profile's refinements applied (plain latency_s stays beside it)
    refined_activation_s: float | None = None  # the activation-cost part of refined_latency_s (None: the profile fits none)

    @property
    def predicted_s(self) -> float:
        """The prediction to stand behind: the refined (selected-model) latency where the profile has one, else the plain roofline."""
        return self.latency_s if self.refined_latency_s is None else self.refined_latency_s


@dataclass(frozen=True, slots=True)
class Conventions:
    """Counting switches that users disagree on (README, "Counting conventions")."""

    include_bn_params: bool = False
    fused_attention: bool = False


@dataclass(frozen=True)
class AnalysisResult:
    """Counts and roofline prediction of one model configuration on one hardware profile."""

    model: str
    hardware: str
    alpha: float
    resolution: int
    batch: int
    width_rule: str
    conventions: Conventions
    spec: ArchSpec
    profile: HardwareProfile
    layers: tuple[LayerTiming, ...]
    totals: Totals
    unhandled_ops: dict[str, int] = field(default_factory=dict)  # ONNX graphs: op → nodes not counted

    def to_dict(self) -> dict[str, Any]:
        """The stable JSON schema of ``mncost analyze --format json``."""
        extra = {"unhandled_ops": dict(self.unhandled_ops)} if self.unhandled_ops else {}
        return {
            "model": self.model,
            "hardware": self.hardware,
            "alpha": self.alpha,
            "resolution": self.resolution,
            "batch": self.batch,
            "width_rule": self.width_rule,
            "conventions": asdict(self.conventions),
            "hardware_profile": {
                "peak_macs_per_s": self.profile.peak_macs_per_s,
                "mem_bw_bytes_per_s": self.profile.mem_bw_bytes_per_s,
                "ridge_macs_per_byte": self.profile.ridge_macs_per_byte,
                "weight_dtype": self.profile.weight_dtype,
                "activation_dtype": self.profile.activation_dtype,
            },
            "totals": asdict(self.totals),
            "layers": [layer_dict(layer) for layer in self.layers],
            **extra,
        }

    def to_dataframe(self) -> pd.DataFrame:
        """One row per layer, raw numbers, unit-suffixed columns."""
        import pandas as pd

        return pd.DataFrame([layer_dict(layer) for layer in self.layers], columns=LAYER_COLUMNS)


LAYER_COLUMNS = [f.name for f in fields(LayerTiming)]


def layer_dict(layer: LayerTiming) -> dict[str, Any]:
    row = {name: getattr(layer, name) for name in LAYER_COLUMNS}
    row["in_shape"] = list(layer.in_shape)
    row["out_shape"] = list(layer.out_shape)
    return row


def summarize(layers: tuple[LayerTiming, ...], invoke_s: float | None = None) -> Totals:
    latency = sum(layer.latency_s for layer in layers)
    memory_latency = sum(layer.latency_s for layer in layers if layer.bound == "memory")
    return Totals(
        macs=sum(layer.macs for layer in layers),
        params=sum(layer.params for layer in layers),
        bn_params=sum(layer.bn_params for layer in layers),
        weight_bytes=sum(layer.weight_bytes for layer in layers),
        activation_bytes=sum(layer.activation_bytes for layer in layers),
        elementwise_ops=sum(layer.elementwise_ops for layer in layers),
        attention_macs=sum(layer.attention_macs for layer in layers),
        latency_s=latency,
        memory_bound_share=memory_latency / latency if latency else 0.0,
        layers=len(layers),
        memory_bound_layers=sum(1 for layer in layers if layer.bound == "memory"),
        refined_latency_s=None if invoke_s is None else sum(layer.refined_latency_s or 0.0 for layer in layers) + invoke_s,
    )


MAX_BATCH = 1_000_000


def check_batch(batch: int) -> int:
    if isinstance(batch, bool) or not isinstance(batch, int) or not 1 <= batch <= MAX_BATCH:
        shown = batch if not isinstance(batch, int) or abs(batch) < 10**12 else f"an integer of {len(str(abs(batch)))} digits"
        raise OptionError(f"--batch must be an integer from 1 to {MAX_BATCH}, got {shown}")
    return batch


def analyze_walk(w: Walk, hw: HardwareProfile, *, batch: int = 1, conventions: Conventions = Conventions()) -> AnalysisResult:
    batch = check_batch(batch)
    r = hw.refinements
    layers = tuple(time_layer(layer, hw, batch=batch, include_bn_params=conventions.include_bn_params) for layer in w.layers)
    return AnalysisResult(
        model=w.spec.name,
        hardware=hw.name,
        alpha=w.alpha,
        resolution=w.resolution,
        batch=batch,
        width_rule=w.width_rule,
        conventions=conventions,
        spec=w.spec,
        profile=hw,
        layers=layers,
        totals=replace(summarize(layers, None if r is None else r.invoke_s), refined_activation_s=_activation_s(w, r, batch)),
    )


def _activation_s(w: Walk, r: Refinements | None, batch: int) -> float | None:
    """The refinements' activation cost of the walk: the part of the refined latency that a graph
    built natively for its runtime did not show (``mncost.fidelity.model``)."""
    if r is None or not r.act_s_per_elem:
        return None
    return sum(activation_cost_s(layer, r, batch) for layer in w.layers)


def analyze(
    model: str | Path | ArchSpec,
    hw: str | Path | HardwareProfile = "cpu",
    *,
    alpha: float = 1.0,
    resolution: int | None = None,
    rho: float | None = None,
    batch: int = 1,
    width_rule: str | None = None,
    include_bn_params: bool = False,
    fused_attention: bool = False,
    graph_dtypes: bool = True,
) -> AnalysisResult:
    """Count ``model`` layer by layer and predict its latency on ``hw``.

    ``model`` is a built-in name (``"v3-large"``), a spec path or an ArchSpec;
    ``hw`` a built-in profile name, a profile path or a HardwareProfile. ``graph_dtypes``
    (ONNX only): the bytes of the tensors a quantized graph stores at int8 etc. come from the
    graph; False prices every byte at the profile's dtypes.
    """
    profile = hw if isinstance(hw, HardwareProfile) else load_hardware(hw)
    conventions = Conventions(include_bn_params=include_bn_params, fused_attention=fused_attention)
    if not isinstance(model, ArchSpec) and str(model).lower().endswith(".onnx"):  # bring your own model
        from .graph.count import graph_walk

        gw, mapped = graph_walk(model, alpha=alpha, resolution=resolution, rho=rho, width_rule=width_rule, graph_dtypes=graph_dtypes)
        return replace(analyze_walk(gw, profile, batch=batch, conventions=conventions), unhandled_ops=dict(mapped.unhandled))
    spec = model if isinstance(model, ArchSpec) else load_spec(model)
    w = walk(spec, alpha=alpha, resolution=resolution, rho=rho, width_rule=width_rule, fused_attention=fused_attention)
    from .expected import warn_if_mismatched

    warn_if_mismatched(w)  # cheap: compares totals only at α = 1, default resolution and width rule
    return analyze_walk(w, profile, batch=batch, conventions=conventions)
