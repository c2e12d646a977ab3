"""The roofline model of the MobileNetV4 paper (Qin et al. 2024, Sec. 3), written once.

Per layer: mac_time = MACs / peak, mem_time = (weight + activation bytes) / bandwidth,
latency = max(mac_time, mem_time); the model's latency is the sum over layers. A layer
is compute-bound when it has MACs and mac_time ≥ mem_time (:func:`compute_bound`, the
only definition of "bound" in mncost).

A profile's ``refinements:`` (fitted by ``mncost fit``) are part of the same core
(:func:`refined_times_s`): activation tensors no larger than ``onchip_bytes`` cause no
memory traffic; the roof is multiplied by the slowdown of the layer's group
(``LayerCost.group``); a fixed ``overhead_s_per_layer`` is added per layer, a time
``act_s_per_elem[class]`` per output element of a layer whose activation is in an
:data:`mncost.ops.ACTIVATION_CLASSES` class, and ``invoke_s`` once per inference.

Every formula takes plain numbers *or* numpy arrays (``xp`` is the array namespace:
:data:`SCALAR` or numpy), so ``analyze`` runs it without importing numpy while sweeps,
ridge sweeps and the NAS evaluator broadcast it over layers × resolutions × profiles
(:func:`network_times`). Callers outside (fidelity) use :func:`times_s` with explicit
parameters, or :func:`walk_latency_s` for one walked network.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, NamedTuple

from .hardware import HardwareProfile, Refinements
from .ops import GROUPS as GROUPS  # re-exported: the refinements' slowdown groups
from .ops import ACT_CLASSES, LayerCost, Shape, activation_class, group_slowdown, numel

if TYPE_CHECKING:
    import numpy as np

Bound = Literal["compute", "memory"]


def layer_group(layer: LayerCost) -> str:
    """The :data:`GROUPS` entry of one walked layer, as the block that made it set it."""
    return layer.group


class _Scalar:
    """The two array functions the formulas need, for plain Python numbers."""

    maximum = staticmethod(max)

    @staticmethod
    def where(condition: Any, a: Any, b: Any) -> Any:
        return a if condition else b


SCALAR = _Scalar()


# -- the formulas (numbers or arrays) ---------------------------------------------------------


def roof_s(macs: Any, traffic_bytes: Any, peak_macs_per_s: Any, mem_bw_bytes_per_s: Any, xp: Any = SCALAR) -> tuple[Any, Any, Any]:
    """(mac_time_s, mem_time_s, roofline time_s) of layers."""
    mac_time = macs / peak_macs_per_s
    mem_time = traffic_bytes / mem_bw_bytes_per_s
    return mac_time, mem_time, xp.maximum(mac_time, mem_time)


def compute_bound(macs: Any, mac_time_s: Any, mem_time_s: Any) -> Any:
    """The definition of "bound": compute-bound iff the layer has MACs and its MAC time
    is at least its memory time (a layer without MACs is memory-bound)."""
    return (macs > 0) & (mac_time_s >= mem_time_s)


def times_s(
    macs: Any,
    weight_bytes: Any,
    act_read_bytes: Any,
    act_write_bytes: Any,
    in_tensor_bytes: Any = 0,
    out_tensor_bytes: Any = 0,
    slowdown: Any = 1.0,
    *,
    peak_macs_per_s: Any,
    mem_bw_bytes_per_s: Any,
    onchip_bytes: Any = 0.0,
    overhead_s_per_layer: Any = 0.0,
    act_s: Any = 0.0,
    xp: Any = SCALAR,
) -> Any:
    """Per-layer time under the (optionally refined) roofline, with explicit parameters.

    ``t = slowdown · max(MACs / peak, (weight + read + write) / bandwidth) + overhead + act_s``
    where an activation read (write) costs nothing when the layer's input (output)
    tensor is at most ``onchip_bytes`` (and ``onchip_bytes`` > 0), and ``act_s`` is the
    layer's activation cost (its output elements × the time per element of its class).
    All defaults off: the plain roofline. Arguments broadcast (numpy arrays with ``xp=numpy``).
    """
    traffic = traffic_bytes(weight_bytes, act_read_bytes, act_write_bytes, in_tensor_bytes, out_tensor_bytes, onchip_bytes, xp)
    _, _, roof = roof_s(macs, traffic, peak_macs_per_s, mem_bw_bytes_per_s, xp)
    return roof * slowdown + overhead_s_per_layer + act_s


def traffic_bytes(weight_bytes: Any, act_read_bytes: Any, act_write_bytes: Any, in_tensor_bytes: Any = 0, out_tensor_bytes: Any = 0,
                  onchip_bytes: Any = 0.0, xp: Any = SCALAR) -> Any:
    """Memory traffic of layers: weights, plus the activation reads (writes) whose input
    (output) tensor does not fit in ``onchip_bytes`` (all of them when it is 0)."""
    on = onchip_bytes > 0
    reads = xp.where(on & (in_tensor_bytes <= onchip_bytes), 0, act_read_bytes)
    writes = xp.where(on & (out_tensor_bytes <= onchip_bytes), 0, act_write_bytes)
    return weight_bytes + reads + writes


# -- one layer, one profile (analyze) ---------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LayerTiming:
    """One layer's counts at a batch size, its bytes on a profile, and its roofline time."""

    name: str
    op: str
    kind: str
    in_shape: Shape
    out_shape: Shape
    macs: int
    params: int
    bn_params: int
    weight_bytes: int
    activation_bytes: int
    elementwise_ops: int
    attention_macs: int
    intensity: float
    mac_time_s: float
    mem_time_s: float
    latency_s: float
    bound: Bound
    refined_latency_s: float | None = None  # with the profile's refinements, when it has any


def time_layer(layer: LayerCost, hw: HardwareProfile, *, batch: int = 1, include_bn_params: bool = False) -> LayerTiming:
    """Roofline time of one layer; batch scales MACs and activations, not weights."""
    params = layer.params + (layer.bn_params if include_bn_params else 0)
    weight_bytes = params * hw.weight_bytes_per_param if layer.weight_bytes_per_param is None else math.ceil(params * layer.weight_bytes_per_param)
    read_size, write_size = stored_sizes(layer, hw)
    if read_size == write_size == hw.activation_bytes_per_elem:
        activation_bytes = layer.act_elems * batch * hw.activation_bytes_per_elem
    else:
        activation_bytes = math.ceil(layer.act_read_elems * batch * read_size) + math.ceil(layer.act_write_elems * batch * write_size)
    macs = layer.macs * batch
    total_bytes = weight_bytes + activation_bytes
    mac_time, mem_time, latency = roof_s(macs, total_bytes, hw.peak_macs_per_s, hw.mem_bw_bytes_per_s)
    refined = None if hw.refinements is None else refined_time(layer, hw, batch=batch, weight_bytes=weight_bytes)
    return LayerTiming(
        name=layer.name,
        op=layer.op,
        kind=layer.kind,
        in_shape=layer.in_shape,
        out_shape=layer.out_shape,
        macs=macs,
        params=params,
        bn_params=layer.bn_params,
        weight_bytes=weight_bytes,
        activation_bytes=activation_bytes,
        elementwise_ops=layer.elementwise_ops * batch,
        attention_macs=layer.attention_macs * batch,
        intensity=macs / total_bytes if total_bytes else 0.0,
        mac_time_s=mac_time,
        mem_time_s=mem_time,
        latency_s=latency,
        bound="compute" if compute_bound(macs, mac_time, mem_time) else "memory",
        refined_latency_s=refined,
    )


def stored_sizes(layer: LayerCost, hw: HardwareProfile) -> tuple[float, float]:
    """Bytes per activation element read and written: the graph's where it states them, else the profile's."""
    size = hw.activation_bytes_per_elem
    read, write = layer.read_bytes_per_elem, layer.write_bytes_per_elem
    return (size if read is None else read), (size if write is None else write)


def refined_time(layer: LayerCost, hw: HardwareProfile, *, batch: int, weight_bytes: int) -> float:
    """One layer under the profile's refinements (the module docstring's rules)."""
    r = hw.refinements
    assert r is not None
    read_size, write_size = (s * batch for s in stored_sizes(layer, hw))
    return float(times_s(
        layer.macs * batch, weight_bytes, layer.act_read_elems * read_size, layer.act_write_elems * write_size,
        numel(layer.in_shape) * read_size, numel(layer.out_shape) * write_size, group_slowdown(r.slowdown, layer.group),
        peak_macs_per_s=r.peak_macs_per_s or hw.peak_macs_per_s, mem_bw_bytes_per_s=r.mem_bw_bytes_per_s or hw.mem_bw_bytes_per_s,
        onchip_bytes=r.onchip_bytes, overhead_s_per_layer=r.overhead_s_per_layer,
        act_s=activation_cost_s(layer, r, batch),
    ))


def activation_cost_s(layer: LayerCost, r: Refinements, batch: int) -> float:
    """The refinements' activation cost of one layer: output elements × its activation class's cost."""
    return numel(layer.out_shape) * batch * r.act_s_per_elem.get(activation_class(layer.act), 0.0)


class NetworkLatency(NamedTuple):
    """A network's predicted latency on one profile (plain, refined, memory-bound share)."""

    latency_s: float
    refined_latency_s: float | None  # None: the profile has no refinements
    memory_bound_share: float


def walk_latency_s(layers: Sequence[LayerCost], hw: HardwareProfile, *, batch: int = 1, include_bn_params: bool = False) -> NetworkLatency:
    """The latency ``analyze`` reports for these layers (a walk's ``layers``) on ``hw``.

    A stable entry point for callers that need only the totals (bench, fidelity).
    """
    timings = [time_layer(layer, hw, batch=batch, include_bn_params=include_bn_params) for layer in layers]
    latency = sum(t.latency_s for t in timings)
    memory = sum(t.latency_s for t in timings if t.bound == "memory")
    refined = None if hw.refinements is None else sum(t.refined_latency_s or 0.0 for t in timings) + hw.refinements.invoke_s
    return NetworkLatency(latency, refined, memory / latency if latency else 0.0)


# -- many layers × resolutions × profiles (sweep, ridge, NAS) -------------------------------------


class ProfileArrays(NamedTuple):
    """Profiles stacked as arrays of shape (P,) (``slowdown``: (P, len(GROUPS)); ``act_s_per_elem``: (P, len(ACT_CLASSES)))."""

    names: tuple[str, ...]
    peak_macs_per_s: np.ndarray
    mem_bw_bytes_per_s: np.ndarray
    weight_bytes_per_param: np.ndarray
    activation_bytes_per_elem: np.ndarray
    refined: np.ndarray  # bool: the profile has refinements
    refined_peak_macs_per_s: np.ndarray
    refined_mem_bw_bytes_per_s: np.ndarray
    onchip_bytes: np.ndarray
    overhead_s_per_layer: np.ndarray
    invoke_s: np.ndarray
    slowdown: np.ndarray
    act_s_per_elem: np.ndarray


def profile_arrays(profiles: Sequence[HardwareProfile]) -> ProfileArrays:
    import numpy as np

    def col(values: Sequence[float]) -> np.ndarray:
        return np.asarray(values, dtype=np.float64)

    refs = [p.refinements for p in profiles]
    return ProfileArrays(
        names=tuple(p.name for p in profiles),
        peak_macs_per_s=col([p.peak_macs_per_s for p in profiles]),
        mem_bw_bytes_per_s=col([p.mem_bw_bytes_per_s for p in profiles]),
        weight_bytes_per_param=col([p.weight_bytes_per_param for p in profiles]),
        activation_bytes_per_elem=col([p.activation_bytes_per_elem for p in profiles]),
        refined=np.asarray([r is not None for r in refs]),
        refined_peak_macs_per_s=col([(r and r.peak_macs_per_s) or p.peak_macs_per_s for p, r in zip(profiles, refs)]),
        refined_mem_bw_bytes_per_s=col([(r and r.mem_bw_bytes_per_s) or p.mem_bw_bytes_per_s for p, r in zip(profiles, refs)]),
        onchip_bytes=col([r.onchip_bytes if r else 0.0 for r in refs]),
        overhead_s_per_layer=col([r.overhead_s_per_layer if r else 0.0 for r in refs]),
        invoke_s=col([r.invoke_s if r else 0.0 for r in refs]),
        slowdown=np.asarray([[group_slowdown(r.slowdown, g) if r else 1.0 for g in GROUPS] for r in refs], dtype=np.float64).reshape(len(refs), len(GROUPS)),
        act_s_per_elem=np.asarray([[r.act_s_per_elem.get(c, 0.0) if r and c else 0.0 for c in ACT_CLASSES] for r in refs],
                                  dtype=np.float64).reshape(len(refs), len(ACT_CLASSES)),
    )


def ridge_profiles(ridges: Sequence[float], *, peak_macs_per_s: float, dtype: str) -> ProfileArrays:
    """Plain profiles at a fixed peak, one per ridge point (memory roof = peak / ridge)."""
    import numpy as np

    from .hardware import DTYPE_BYTES

    rp = np.asarray(ridges, dtype=np.float64)
    n = len(rp)
    with np.errstate(divide="ignore"):
        bw = peak_macs_per_s / rp  # ridge 0: an infinite memory roof, MACs alone
    size = np.full(n, float(DTYPE_BYTES[dtype]))
    zeros = np.zeros(n)
    return ProfileArrays(
        names=tuple(f"ridge {r:g}" for r in ridges), peak_macs_per_s=np.full(n, float(peak_macs_per_s)), mem_bw_bytes_per_s=bw,
        weight_bytes_per_param=size, activation_bytes_per_elem=size, refined=np.zeros(n, dtype=bool),
        refined_peak_macs_per_s=np.full(n, float(peak_macs_per_s)), refined_mem_bw_bytes_per_s=bw, onchip_bytes=zeros,
        overhead_s_per_layer=zeros, invoke_s=zeros, slowdown=np.ones((n, len(GROUPS))), act_s_per_elem=np.zeros((n, len(ACT_CLASSES))),
    )


class NetworkTimes(NamedTuple):
    """Per-network results of :func:`network_times`, shape (P, R): profiles × networks."""

    latency_s: np.ndarray
    memory_bound_share: np.ndarray
    refined_latency_s: np.ndarray  # NaN where the profile has no refinements


def network_times(
    macs: np.ndarray,
    weight_params: np.ndarray,
    act_read_elems: np.ndarray,
    act_write_elems: np.ndarray,
    in_elems: np.ndarray,
    out_elems: np.ndarray,
    group: np.ndarray,
    profiles: ProfileArrays,
    *,
    batch: int = 1,
    refined: bool = True,
    act_class: np.ndarray | None = None,
) -> NetworkTimes:
    """The roofline of R networks of L layers each (count arrays (R, L), ``group`` (L,)
    indices into GROUPS, ``act_class`` (L,) into ACT_CLASSES (None: no activation costs);
    per image) on P profiles at once."""
    import numpy as np

    def per_profile(values: np.ndarray) -> np.ndarray:
        return values[:, None, None]

    f = np.float64
    macs_b = macs.astype(f) * batch
    weight_bytes = weight_params.astype(f)[None] * per_profile(profiles.weight_bytes_per_param)
    abytes = per_profile(profiles.activation_bytes_per_elem) * batch
    reads = act_read_elems.astype(f)[None] * abytes
    writes = act_write_elems.astype(f)[None] * abytes
    mac_time, mem_time, time = roof_s(macs_b[None], weight_bytes + reads + writes, per_profile(profiles.peak_macs_per_s),
                                      per_profile(profiles.mem_bw_bytes_per_s), np)
    latency = time.sum(axis=-1)
    memory = np.where(compute_bound(macs_b[None], mac_time, mem_time), 0.0, time).sum(axis=-1)
    share = np.divide(memory, latency, out=np.zeros_like(latency), where=latency > 0)
    refined_latency = np.full_like(latency, np.nan)
    if refined and profiles.refined.any():
        sel = np.flatnonzero(profiles.refined)
        t = times_s(
            macs_b[None], weight_bytes[sel], reads[sel], writes[sel],
            in_elems.astype(f)[None] * abytes[sel], out_elems.astype(f)[None] * abytes[sel],
            profiles.slowdown[sel][:, group][:, None, :],
            peak_macs_per_s=per_profile(profiles.refined_peak_macs_per_s[sel]), mem_bw_bytes_per_s=per_profile(profiles.refined_mem_bw_bytes_per_s[sel]),
            onchip_bytes=per_profile(profiles.onchip_bytes[sel]), overhead_s_per_layer=per_profile(profiles.overhead_s_per_layer[sel]),
            act_s=0.0 if act_class is None else out_elems.astype(f)[None] * batch * profiles.act_s_per_elem[sel][:, act_class][:, None, :], xp=np,
        )
        refined_latency[sel] = t.sum(axis=-1) + profiles.invoke_s[sel][:, None]
    return NetworkTimes(latency, share, refined_latency)
