"""The roofline core (:mod:`mncost.roofline`) over many networks at once, as a function of
its parameters: what fits and leave-one-out evaluate hundreds of times.

A set of network configurations is flattened once into per-layer numpy arrays
(:class:`NetworkSet`); :func:`predict_latency_s` then evaluates every network for one
parameter vector (:class:`ModelParams`) with :func:`mncost.roofline.times_s` on those
arrays. Per layer *i* of a network::

    read_i  = 0 if in_tensor_bytes_i  ≤ onchip_bytes else act_read_bytes_i     (on-chip memory)
    write_i = 0 if out_tensor_bytes_i ≤ onchip_bytes else act_write_bytes_i
    t_i     = slowdown[group_i] · max(MACs_i / peak, (weight_bytes_i + read_i + write_i) / bw)
              + overhead_s                                                      (per-layer overhead)
              + act_s_per_elem[class_i] · out_elems_i                           (activation cost)
    latency = Σ_i t_i

The activation cost is that of a graph exported from another framework (the default); in a
graph built natively for its runtime (``native``) class_i is none: there the runtime's own
activation op is taken as part of its layer. Why: the MobileNetV4 paper's TensorFlow
MNv4-Hybrid-L has GELU in every block and takes within 1.2× of ReLU Conv-L's time per MAC on the
phones' CPUs, while its PyTorch-exported FastViTs (GELU too) run 2.5–2.7× slower than the roofline; the paper
says its PyTorch models went through a PyTorch-to-TFLite export tool.

With ``onchip_bytes = 0``, all slowdowns 1, no activation cost and ``overhead_s = 0`` this is exactly
mncost's plain roofline (``mncost.roofline.time_layer`` summed by ``analyze``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from ..hardware import DTYPE_BYTES, HardwareProfile
from ..ops import ACT_CLASSES, group_slowdown, numel
from ..roofline import GROUPS, compute_bound, layer_group, roof_s, times_s, traffic_bytes
from ..walker import Walk

__all__ = ["GROUPS", "ModelParams", "NetworkSet", "build_network_set", "compute_bound_share", "layer_group", "layer_times_s", "predict_latency_s"]


@dataclass(frozen=True, eq=False)
class NetworkSet:
    """Per-layer arrays of several network configurations, concatenated in order.

    Byte arrays are at the dtypes the set was built with; MACs and activations are
    already multiplied by each network's batch (weights are not), as in ``time_layer``.
    """

    names: tuple[str, ...]
    net_index: np.ndarray  # int64 per layer: which network it belongs to
    macs: np.ndarray  # float64 per layer
    weight_bytes: np.ndarray
    act_read_bytes: np.ndarray
    act_write_bytes: np.ndarray
    in_tensor_bytes: np.ndarray  # one input tensor (what must fit on chip to skip the read)
    out_tensor_bytes: np.ndarray
    group: np.ndarray  # int64 index into GROUPS
    weight_dtype: str
    activation_dtype: str
    act_class: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))  # int64 index into ACT_CLASSES (empty: none)
    out_elems: np.ndarray = field(default_factory=lambda: np.zeros(0))  # output elements (× batch)
    families: tuple[str, ...] = ()  # each network's architecture family (the spec's ``family``, else its name); () = each its own

    def family_of(self, index: int) -> str:
        return self.families[index] if self.families else self.names[index]

    @property
    def n_networks(self) -> int:
        return len(self.names)

    @property
    def macs_total(self) -> np.ndarray:
        return np.bincount(self.net_index, weights=self.macs, minlength=self.n_networks)

    @property
    def layer_counts(self) -> np.ndarray:
        return np.bincount(self.net_index, minlength=self.n_networks)

    @property
    def bytes_total(self) -> np.ndarray:
        traffic = self.weight_bytes + self.act_read_bytes + self.act_write_bytes
        return np.bincount(self.net_index, weights=traffic, minlength=self.n_networks)

    def groups_present(self) -> set[str]:
        return {GROUPS[g] for g in np.unique(self.group)}

    def act_elems(self) -> np.ndarray:
        """(N, len(ACT_CLASSES)): each network's output elements per activation class."""
        n, c = self.n_networks, len(ACT_CLASSES)
        if not len(self.act_class):
            return np.zeros((n, c))
        return np.bincount(self.net_index * c + self.act_class, weights=self.out_elems, minlength=n * c).reshape(n, c)


def build_network_set(
    walks: Sequence[Walk],
    *,
    weight_dtype: str = "int8",
    activation_dtype: str = "int8",
    batches: Sequence[int] | None = None,
    names: Sequence[str] | None = None,
    native: Sequence[bool] | None = None,
) -> NetworkSet:
    """Flatten walked networks into a :class:`NetworkSet` (built once per fit).

    ``native[i]``: network i was measured as a graph built natively for its runtime, so its
    layers carry no activation cost class (module docstring)."""
    wb, ab = DTYPE_BYTES[weight_dtype], DTYPE_BYTES[activation_dtype]
    batches = list(batches) if batches is not None else [1] * len(walks)
    native = list(native) if native is not None else [False] * len(walks)
    if len(batches) != len(walks) or len(native) != len(walks):
        raise ValueError("one batch size and one native flag per walk")
    cols: dict[str, list[float]] = {k: [] for k in ("net", "macs", "w", "r", "wr", "in", "out", "g", "a", "oe")}
    for index, (w, batch, is_native) in enumerate(zip(walks, batches, native)):
        for layer in w.layers:
            cols["net"].append(index)
            cols["macs"].append(layer.macs * batch)
            cols["w"].append(layer.params * wb)
            cols["r"].append(layer.act_read_elems * batch * ab)
            cols["wr"].append(layer.act_write_elems * batch * ab)
            cols["in"].append(numel(layer.in_shape) * batch * ab)
            cols["out"].append(numel(layer.out_shape) * batch * ab)
            cols["g"].append(GROUPS.index(layer_group(layer)))
            cols["a"].append(0 if is_native else layer.act_class_index)
            cols["oe"].append(numel(layer.out_shape) * batch)
    return NetworkSet(
        names=tuple(names) if names is not None else tuple(f"{w.spec.name} α={w.alpha:g} r{w.resolution}" for w in walks),
        net_index=np.asarray(cols["net"], dtype=np.int64),
        macs=np.asarray(cols["macs"], dtype=np.float64),
        weight_bytes=np.asarray(cols["w"], dtype=np.float64),
        act_read_bytes=np.asarray(cols["r"], dtype=np.float64),
        act_write_bytes=np.asarray(cols["wr"], dtype=np.float64),
        in_tensor_bytes=np.asarray(cols["in"], dtype=np.float64),
        out_tensor_bytes=np.asarray(cols["out"], dtype=np.float64),
        group=np.asarray(cols["g"], dtype=np.int64),
        weight_dtype=weight_dtype,
        activation_dtype=activation_dtype,
        act_class=np.asarray(cols["a"], dtype=np.int64),
        out_elems=np.asarray(cols["oe"], dtype=np.float64),
        families=tuple(w.spec.family or w.spec.name for w in walks),
    )


@dataclass(frozen=True)
class ModelParams:
    """One point of the model's parameter space; the defaults of the refinements switch them off.

    ``mem_bw_bytes_per_s = inf`` gives MACs alone (latency = MACs / peak).
    """

    peak_macs_per_s: float
    mem_bw_bytes_per_s: float
    overhead_s: float = 0.0  # fixed cost of every layer (one kernel launch each)
    invoke_s: float = 0.0  # fixed cost of every inference
    onchip_bytes: float = 0.0  # activation tensors up to this size cause no DRAM traffic
    slowdown: dict[str, float] = field(default_factory=dict)  # group -> factor ≥ 1 on its layers' roofline time
    act_s_per_elem: dict[str, float] = field(default_factory=dict)  # activation class -> seconds per output element

    @classmethod
    def of_profile(cls, hw: HardwareProfile, *, refined: bool = False) -> ModelParams:
        """A profile's plain roofline, or (``refined``) its refined model, as parameters."""
        r = hw.refinements
        if not refined or r is None:
            return cls(hw.peak_macs_per_s, hw.mem_bw_bytes_per_s)
        return cls(r.peak_macs_per_s or hw.peak_macs_per_s, r.mem_bw_bytes_per_s or hw.mem_bw_bytes_per_s,
                   r.overhead_s_per_layer, r.invoke_s, r.onchip_bytes, dict(r.slowdown), dict(r.act_s_per_elem))

    @property
    def ridge_macs_per_byte(self) -> float:
        return self.peak_macs_per_s / self.mem_bw_bytes_per_s

    def as_dict(self) -> dict[str, float]:
        """Flat ``name: value`` record (slowdowns as ``slowdown_<group>``)."""
        out = {"peak_macs_per_s": self.peak_macs_per_s}
        if math.isfinite(self.mem_bw_bytes_per_s):  # MACs alone has no memory roof
            out["mem_bw_bytes_per_s"] = self.mem_bw_bytes_per_s
            out["ridge_macs_per_byte"] = self.ridge_macs_per_byte
        if self.overhead_s:
            out["overhead_s"] = self.overhead_s
        if self.invoke_s:
            out["invoke_s"] = self.invoke_s
        if self.onchip_bytes:
            out["onchip_bytes"] = self.onchip_bytes
        for group, factor in sorted(self.slowdown.items()):
            out[f"slowdown_{group}"] = factor
        for cls, seconds in sorted(self.act_s_per_elem.items()):
            out[f"act_s_per_elem_{cls}"] = seconds
        return out


def _slowdowns(net: NetworkSet, p: ModelParams) -> np.ndarray | float:
    """Each layer's slowdown factor (1 where its group has none)."""
    if not p.slowdown:
        return 1.0
    factors = np.array([group_slowdown(p.slowdown, g) for g in GROUPS])
    by_layer: np.ndarray = factors[net.group]
    return by_layer


def _act_s(net: NetworkSet, p: ModelParams) -> np.ndarray | float:
    """Each layer's activation cost (0 where its class has none)."""
    if not p.act_s_per_elem or not len(net.act_class):
        return 0.0
    per_class = np.array([p.act_s_per_elem.get(c, 0.0) if c else 0.0 for c in ACT_CLASSES])
    cost: np.ndarray = per_class[net.act_class] * net.out_elems
    return cost


def layer_times_s(net: NetworkSet, p: ModelParams) -> np.ndarray:
    """Every layer's modelled time: the roofline core (:func:`mncost.roofline.times_s`) on arrays."""
    t: np.ndarray = times_s(
        net.macs, net.weight_bytes, net.act_read_bytes, net.act_write_bytes, net.in_tensor_bytes, net.out_tensor_bytes, _slowdowns(net, p),
        peak_macs_per_s=p.peak_macs_per_s, mem_bw_bytes_per_s=p.mem_bw_bytes_per_s, onchip_bytes=p.onchip_bytes,
        overhead_s_per_layer=p.overhead_s, act_s=_act_s(net, p), xp=np,
    )
    return t


def predict_latency_s(net: NetworkSet, p: ModelParams) -> np.ndarray:
    """Modelled latency of every network of ``net`` (seconds), one array operation per term."""
    total = np.bincount(net.net_index, weights=layer_times_s(net, p), minlength=net.n_networks)
    return total + p.invoke_s if p.invoke_s else total


def compute_bound_share(net: NetworkSet, p: ModelParams) -> float:
    """Share of the modelled roofline time (all networks) spent in compute-bound layers
    (:func:`mncost.roofline.compute_bound`, the one definition of "bound").

    0 means no layer reaches the compute roof: the data then bound the peak only from
    below (any higher peak fits as well), and the ridge point is a lower bound too;
    1 means the same for the bandwidth.
    """
    if not math.isfinite(p.mem_bw_bytes_per_s):
        return 1.0
    traffic = traffic_bytes(net.weight_bytes, net.act_read_bytes, net.act_write_bytes, net.in_tensor_bytes, net.out_tensor_bytes, p.onchip_bytes, np)
    mac_time, mem_time, roof = roof_s(net.macs, traffic, p.peak_macs_per_s, p.mem_bw_bytes_per_s, np)
    total = float(roof.sum())
    return float(roof[compute_bound(net.macs, mac_time, mem_time)].sum()) / total if total else 0.0
