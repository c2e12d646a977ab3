"""The roofline model of the MobileNetV4 paper (Qin et al. 2024, Sec. 3).

Per layer: mac_time = MACs / peak, mem_time = (weight + activation bytes) / bandwidth,
latency = max(mac_time, mem_time); the model's latency is the sum over layers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from .hardware import HardwareProfile
from .ops import LayerCost, Shape, numel

Bound = Literal["compute", "memory"]

from .ops import GROUPS as GROUPS  # noqa: E402  (re-exported: the refinements' slowdown groups)


def layer_group(layer: LayerCost) -> str:
    """The :data:`GROUPS` entry of one walked layer, as the block that made it set it."""
    return layer.group


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
    weight_bytes = params * hw.weight_bytes_per_param
    activation_bytes = layer.act_elems * batch * hw.activation_bytes_per_elem
    macs = layer.macs * batch
    total_bytes = weight_bytes + activation_bytes
    mac_time = macs / hw.peak_macs_per_s
    mem_time = total_bytes / hw.mem_bw_bytes_per_s
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
        latency_s=max(mac_time, mem_time),
        bound="compute" if macs > 0 and mac_time >= mem_time else "memory",
        refined_latency_s=refined,
    )


def refined_time(layer: LayerCost, hw: HardwareProfile, *, batch: int, weight_bytes: int) -> float:
    """One layer under the profile's refinements (fitted by ``mncost fit``):

    activation tensors no larger than ``onchip_bytes`` cause no memory traffic; the
    roofline time is multiplied by the slowdown of the layer's group; a fixed
    ``overhead_s_per_layer`` is added. The per-inference ``invoke_s`` is added to the total.
    """
    r = hw.refinements
    assert r is not None
    size = hw.activation_bytes_per_elem * batch
    reads = layer.act_read_elems * size
    writes = layer.act_write_elems * size
    if r.onchip_bytes > 0:
        reads = 0 if numel(layer.in_shape) * size <= r.onchip_bytes else reads
        writes = 0 if numel(layer.out_shape) * size <= r.onchip_bytes else writes
    peak = r.peak_macs_per_s or hw.peak_macs_per_s
    bandwidth = r.mem_bw_bytes_per_s or hw.mem_bw_bytes_per_s
    roof = max(layer.macs * batch / peak, (weight_bytes + reads + writes) / bandwidth)
    return roof * r.slowdown.get(layer_group(layer), 1.0) + r.overhead_s_per_layer
