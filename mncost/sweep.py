"""Sweeps: models × α × resolution × hardware as one DataFrame, ranked per hardware.

Each (model, α, resolution) is walked once; the hardware profiles are then applied
to its per-layer arrays as array arithmetic. Counts stay exact integers; times are
float seconds.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from .accuracy import top1_for
from .errors import OptionError
from .hardware import HardwareProfile
from .spec import ArchSpec
from .walk import Walk, walk

if TYPE_CHECKING:
    import pandas as pd

COLUMNS = [
    "model", "alpha", "resolution", "width_rule", "hardware", "macs", "params", "weight_bytes",
    "activation_bytes", "latency_s", "memory_bound_share", "top1", "rank", "pareto",
]
ASCENDING = {"top1": False}  # rank-by direction: higher is better only for accuracy


@dataclass(frozen=True)
class LayerArrays:
    """One walked configuration as arrays over its layers (per image)."""

    walk: Walk
    macs: np.ndarray           # float64: exact below 2**53 per layer
    weight_params: np.ndarray
    act_elems: np.ndarray
    total_macs: int
    total_params: int
    total_bn_params: int
    total_act_elems: int


def layer_arrays(w: Walk, *, include_bn_params: bool = False) -> LayerArrays:
    layers = w.layers
    params = [x.params + (x.bn_params if include_bn_params else 0) for x in layers]
    return LayerArrays(
        walk=w,
        macs=np.array([x.macs for x in layers], dtype=np.float64),
        weight_params=np.array(params, dtype=np.float64),
        act_elems=np.array([x.act_elems for x in layers], dtype=np.float64),
        total_macs=sum(x.macs for x in layers),
        total_params=sum(x.params for x in layers),
        total_bn_params=sum(x.bn_params for x in layers),
        total_act_elems=sum(x.act_elems for x in layers),
    )


def roofline_many(arrays: LayerArrays, profiles: Sequence[HardwareProfile], batch: int) -> tuple[np.ndarray, np.ndarray]:
    """Latency (s) and memory-bound share for every profile at once (rows = profiles)."""
    peak = np.array([p.peak_macs_per_s for p in profiles])[:, None]
    bw = np.array([p.mem_bw_bytes_per_s for p in profiles])[:, None]
    wbytes = np.array([p.weight_bytes_per_param for p in profiles], dtype=np.float64)[:, None]
    abytes = np.array([p.activation_bytes_per_elem for p in profiles], dtype=np.float64)[:, None]
    mac_time = arrays.macs[None, :] * batch / peak
    mem_time = (arrays.weight_params[None, :] * wbytes + arrays.act_elems[None, :] * batch * abytes) / bw
    time = np.maximum(mac_time, mem_time)
    memory_bound = ~((arrays.macs[None, :] > 0) & (mac_time >= mem_time))
    latency = time.sum(axis=1)
    share = np.divide((time * memory_bound).sum(axis=1), latency, out=np.zeros_like(latency), where=latency > 0)
    return latency, share


def resolutions_for(spec: ArchSpec, resolutions: Sequence[int] | None, rhos: Sequence[float] | None) -> list[int]:
    if resolutions and rhos:
        raise OptionError("give --resolution or --rho, not both")
    if rhos:
        out = []
        for rho in rhos:
            res = round(rho * spec.resolution)
            if res < 1:
                raise OptionError(f"--rho {rho:g} gives resolution {res} for {spec.name}; expected at least 1")
            out.append(res)
        return sorted(set(out), key=out.index)
    return list(resolutions) if resolutions else [spec.resolution]


def sweep(
    specs: Sequence[ArchSpec],
    profiles: Sequence[HardwareProfile],
    *,
    alphas: Sequence[float] = (1.0,),
    resolutions: Sequence[int] | None = None,
    rhos: Sequence[float] | None = None,
    width_rule: str | None = None,
    batch: int = 1,
    include_bn_params: bool = False,
    rank_by: str = "latency_s",
    on_config: Callable[[], None] | None = None,
) -> pd.DataFrame:
    """One row per (model, α, resolution, hardware), ranked within each hardware."""
    import pandas as pd

    if not profiles:
        raise OptionError("no hardware profiles to sweep over")
    if rank_by not in COLUMNS or rank_by in ("model", "hardware", "width_rule", "rank", "pareto"):
        raise OptionError(f"--rank-by must be a numeric sweep column ({', '.join(c for c in COLUMNS if c not in ('model', 'hardware', 'width_rule', 'rank', 'pareto'))}), got {rank_by!r}")
    columns: dict[str, list[Any]] = {c: [] for c in COLUMNS if c not in ("rank", "pareto")}
    names = [p.name for p in profiles]
    wbytes = [p.weight_bytes_per_param for p in profiles]
    abytes = [p.activation_bytes_per_elem for p in profiles]
    for spec in specs:
        rule = width_rule if width_rule in spec.width_rules or width_rule is None else None
        if width_rule is not None and rule is None:
            raise OptionError(f"--width-rule {width_rule!r} is not defined by {spec.name} (it has: {', '.join(spec.width_rules)})")
        for res in resolutions_for(spec, resolutions, rhos):
            for alpha in alphas:
                w = walk(spec, alpha=alpha, resolution=res, width_rule=rule)
                arrays = layer_arrays(w, include_bn_params=include_bn_params)
                latency, share = roofline_many(arrays, profiles, batch)
                params = arrays.total_params + (arrays.total_bn_params if include_bn_params else 0)
                top1 = top1_for(spec, w.alpha, res, w.width_rule)  # published numbers only, exact configuration
                for i, name in enumerate(names):
                    columns["model"].append(spec.name)
                    columns["alpha"].append(w.alpha)
                    columns["resolution"].append(res)
                    columns["width_rule"].append(w.width_rule)
                    columns["hardware"].append(name)
                    columns["macs"].append(arrays.total_macs * batch)
                    columns["params"].append(params)
                    columns["weight_bytes"].append(params * wbytes[i])
                    columns["activation_bytes"].append(arrays.total_act_elems * batch * abytes[i])
                    columns["latency_s"].append(float(latency[i]))
                    columns["memory_bound_share"].append(float(share[i]))
                    columns["top1"].append(top1)
                if on_config is not None:
                    on_config()
    df = pd.DataFrame(columns)
    for col in ("macs", "params", "weight_bytes", "activation_bytes"):
        df[col] = df[col].astype("int64") if df[col].max() < 2**63 else df[col].astype(object)
    df["top1"] = df["top1"].astype("float64")
    df["rank"] = rank(df, rank_by)
    df["pareto"] = pareto_flags(df)
    return df[COLUMNS]


def rank(df: pd.DataFrame, by: str) -> pd.Series:
    """1 = best within each hardware (ties share the better rank)."""
    ascending = ASCENDING.get(by, True)
    return df.groupby("hardware")[by].rank(method="min", ascending=ascending, na_option="bottom").astype("int64")


def pareto_axis(df: pd.DataFrame) -> str:
    """Published top-1 where every row has one, else MACs as the capacity proxy."""
    return "top1" if df["top1"].notna().all() else "macs"


def pareto_mask(latency: Sequence[float], quality: Sequence[float]) -> list[bool]:
    """Rows not dominated: no other row is at least as fast and strictly better, or faster and as good."""
    order = sorted(range(len(latency)), key=lambda i: (latency[i], -quality[i]))
    best = -np.inf
    mask = [False] * len(latency)
    for i in order:
        if quality[i] > best:
            mask[i] = True
            best = quality[i]
    return mask


def pareto_flags(df: pd.DataFrame) -> pd.Series:
    import pandas as pd

    axis = pareto_axis(df)
    flags = pd.Series(False, index=df.index)
    for _, group in df.groupby("hardware"):
        mask = pareto_mask(group["latency_s"].tolist(), group[axis].astype(float).tolist())
        flags.loc[group.index] = mask
    return flags


def variant_label(row: Any) -> str:
    return f"{row['model']} α={row['alpha']:g} r={row['resolution']}"


def rank_changes(df: pd.DataFrame) -> pd.DataFrame:
    """Variants whose rank differs between hardware, largest spread first."""
    import pandas as pd

    if df["hardware"].nunique() < 2:
        return pd.DataFrame(columns=["variant", "best", "worst", "spread"])
    labels = df.apply(variant_label, axis=1)
    table = df.assign(variant=labels).pivot_table(index="variant", columns="hardware", values="rank", aggfunc="min")
    spread = table.max(axis=1) - table.min(axis=1)
    changed = table[spread > 0].copy()
    changed["best"] = changed.drop(columns=[]).idxmin(axis=1)
    changed["worst"] = table.loc[changed.index].idxmax(axis=1)
    changed["spread"] = spread[spread > 0].astype(int)
    changed = changed.sort_values(["spread", "variant"], ascending=[False, True])
    return changed.reset_index()
