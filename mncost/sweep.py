"""Sweeps: models × α × resolution × hardware as one DataFrame, ranked per hardware.

Each (model, α, width rule) is walked once for all its resolutions
(:func:`mncost.vector_walk.iter_grid`: integer arrays over resolution × layer, exact),
and the roofline core (:func:`mncost.roofline.network_times`) prices every
configuration on every profile at once, the profile's refinements included
(``refined_latency_s``; ``latency_s`` stays the plain roofline). ``predicted_s`` is the
prediction ``analyze`` stands behind on each profile (the selected model where the profile
is fitted, else the plain roofline); rows are ranked by it by default and the Pareto
frontier is drawn on it. Counts stay exact integers; times are float seconds.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from .accuracy import entries_for
from .accuracy import key as accuracy_key
from .errors import OptionError
from .hardware import HardwareProfile
from .roofline import NetworkTimes, ProfileArrays, network_times, profile_arrays
from .spec import ArchSpec
from .vector_walk import LayerCounts, iter_grid
from .walker import resolve_resolution

if TYPE_CHECKING:
    import pandas as pd

COLUMNS = [
    "model", "alpha", "resolution", "width_rule", "hardware", "macs", "params", "weight_bytes",
    "activation_bytes", "latency_s", "memory_bound_share", "top1", "rank", "pareto", "refined_latency_s", "predicted_s",
]
NUMERIC = [c for c in COLUMNS if c not in ("model", "hardware", "width_rule", "rank", "pareto")]
ASCENDING = {"top1": False}  # rank-by direction: higher is better only for accuracy
_INT64_SAFE = 2**62


def counts_times(counts: LayerCounts, profiles: ProfileArrays, *, batch: int = 1, include_bn_params: bool = False) -> NetworkTimes:
    """The roofline of every configuration in ``counts`` on every profile: arrays (P, R)."""
    weights = counts.params + counts.bn_params if include_bn_params else counts.params
    return network_times(counts.macs, weights, counts.act_read_elems, counts.act_write_elems, counts.in_elems,
                         counts.out_elems, counts.group, profiles, batch=batch, act_class=counts.act_class)


def resolutions_for(spec: ArchSpec, resolutions: Sequence[int] | None, rhos: Sequence[float] | None) -> list[int]:
    """The distinct resolutions a sweep walks ``spec`` at, in the order given: each ρ or N as
    :func:`mncost.walker.resolve_resolution` reads it (one rule, one set of checks)."""
    if resolutions and rhos:
        raise OptionError("give --resolution or --rho, not both")
    if rhos:
        out = [resolve_resolution(spec, rho=rho) for rho in rhos]
    else:
        out = [resolve_resolution(spec, resolution=r) for r in resolutions] if resolutions else [spec.resolution]
    return sorted(set(out), key=out.index)


def _exact(values: np.ndarray, factor: int) -> np.ndarray:
    """``values * factor``, int64 when it surely fits, else exact Python ints."""
    if values.dtype != object and (values.size == 0 or int(values.max()) * factor < _INT64_SAFE):
        return values.astype(np.int64) * factor
    return np.array([int(v) * factor for v in values.tolist()], dtype=object)


def _outer_exact(values: np.ndarray, factors: np.ndarray) -> np.ndarray:
    """``values[:, None] * factors[None, :]`` flattened: int64 when it surely fits, else exact Python ints."""
    if values.dtype != object and (values.size == 0 or int(values.max()) * int(factors.max(initial=0)) < _INT64_SAFE):
        return (values[:, None] * factors[None, :]).reshape(-1)
    return (values.astype(object)[:, None] * factors.astype(object)[None, :]).reshape(-1)


def _spec_columns(spec: ArchSpec, profiles: ProfileArrays, alphas: Sequence[float], res: list[int], rule: str | None,
                  batch: int, include_bn_params: bool, on_config: Callable[[], None] | None) -> dict[str, np.ndarray]:
    """One spec's rows, ordered resolution × α × profile."""
    a_n, r_n, p_n = len(alphas), len(res), len(profiles.names)
    cols: dict[str, Any] = {
        "alpha": np.zeros((r_n, a_n)), "width_rule": np.empty((r_n, a_n), dtype=object),
        # int64 while every count fits (a million rows of Python ints cost hundreds of MiB), exact objects beyond
        "macs": np.zeros((r_n, a_n), dtype=np.int64), "params": np.zeros((r_n, a_n), dtype=np.int64),
        "act": np.zeros((r_n, a_n), dtype=np.int64),
        "latency_s": np.zeros((r_n, a_n, p_n)), "memory_bound_share": np.zeros((r_n, a_n, p_n)), "refined_latency_s": np.zeros((r_n, a_n, p_n)),
    }

    def put(key: str, rows: list[int], ai: int, values: np.ndarray) -> None:
        if values.dtype == object and cols[key].dtype != object:
            cols[key] = cols[key].astype(object)
        cols[key][rows, ai] = values
    position = 0  # iter_grid gives each α's resolutions in order, in one or more chunks
    for counts in iter_grid(spec, alphas, res, width_rule=rule):
        ai, first = divmod(position, r_n)
        rows = list(range(first, first + len(counts.resolutions)))
        position += len(rows)
        times = counts_times(counts, profiles, batch=batch, include_bn_params=include_bn_params)
        params = counts.total("params") + (counts.total("bn_params") if include_bn_params else 0)
        cols["alpha"][rows, ai] = counts.alpha
        cols["width_rule"][rows, ai] = counts.width_rule
        put("macs", rows, ai, _exact(counts.total("macs"), batch))
        put("params", rows, ai, _exact(params, 1))
        put("act", rows, ai, _exact(counts.total("act_read_elems") + counts.total("act_write_elems"), batch))
        for key in ("latency_s", "memory_bound_share", "refined_latency_s"):
            cols[key][rows, ai, :] = getattr(times, key).T
        if on_config is not None:
            for _ in rows:
                on_config()
    return cols


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
    rank_by: str = "predicted_s",
    on_config: Callable[[], None] | None = None,
) -> pd.DataFrame:
    """One row per (model, resolution, α, hardware) in that order, ranked within each hardware."""
    import pandas as pd

    if not profiles:
        raise OptionError("no hardware profiles to sweep over")
    if rank_by not in NUMERIC:
        raise OptionError(f"--rank-by must be a numeric sweep column ({', '.join(NUMERIC)}), got {rank_by!r}")
    parr = profile_arrays(profiles)
    wbytes = parr.weight_bytes_per_param.astype(np.int64)
    abytes = parr.activation_bytes_per_elem.astype(np.int64)
    p_n = len(profiles)
    parts: dict[str, list[Any]] = {c: [] for c in COLUMNS if c not in ("rank", "pareto", "predicted_s")}
    for spec in specs:
        rule = width_rule if width_rule in spec.width_rules or width_rule is None else None
        if width_rule is not None and rule is None:
            raise OptionError(f"--width-rule {width_rule!r} is not defined by {spec.name} (it has: {', '.join(spec.width_rules)})")
        res = resolutions_for(spec, resolutions, rhos)
        cols = _spec_columns(spec, parr, alphas, res, rule, batch, include_bn_params, on_config)
        n = len(res) * len(alphas)
        alpha = cols["alpha"].reshape(n)
        resolution = np.repeat(np.asarray(res, dtype=np.int64), len(alphas))
        rules = cols["width_rule"].reshape(n)
        published: dict[Any, float] = {}  # top1_for's answers (first entry of a key wins), looked up per row
        for entry in entries_for(spec):
            published.setdefault(entry.key, entry.top1)
        top1 = np.asarray([published.get(accuracy_key(spec.name, a, r, w), np.nan)  # published numbers only, exact configuration
                           for a, r, w in zip(alpha.tolist(), resolution.tolist(), rules.tolist())], dtype=np.float64)
        macs, params, act = (cols[k].reshape(n) for k in ("macs", "params", "act"))
        parts["model"].append(np.full(n * p_n, spec.name, dtype=object))
        parts["alpha"].append(np.repeat(alpha, p_n))
        parts["resolution"].append(np.repeat(resolution, p_n))
        parts["width_rule"].append(np.repeat(rules, p_n))
        parts["hardware"].append(np.tile(np.asarray(parr.names, dtype=object), n))
        parts["macs"].append(np.repeat(macs, p_n))
        parts["params"].append(np.repeat(params, p_n))
        parts["weight_bytes"].append(_outer_exact(params, wbytes))
        parts["activation_bytes"].append(_outer_exact(act, abytes))
        for key in ("latency_s", "memory_bound_share", "refined_latency_s"):
            parts[key].append(cols[key].reshape(n * p_n))
        parts["top1"].append(np.repeat(top1, p_n))
    data = {}
    for c in list(parts):  # each column's pieces freed as it is joined: a million rows hold one copy
        pieces = parts.pop(c)
        data[c] = np.concatenate(pieces) if pieces else np.array([])
        del pieces
    for col in ("macs", "params", "weight_bytes", "activation_bytes"):
        values = data[col]
        if values.dtype != np.int64:  # exact Python ints somewhere: int64 still if they all fit
            data[col] = values.astype("int64") if len(values) == 0 or max(values.tolist()) < 2**63 else values.astype(object)
    df = pd.DataFrame(data, copy=False)
    del data
    df["alpha"] = df["alpha"].astype("float64")
    df["top1"] = df["top1"].astype("float64")
    df["predicted_s"] = df["refined_latency_s"].fillna(df["latency_s"])
    df["rank"] = rank(df, rank_by)
    df["pareto"] = pareto_flags(df)
    return df[COLUMNS]


def _csv_cells(values: np.ndarray) -> list[str]:
    """One column as pandas' to_csv writes it: repr of floats, '' for NaN/None, quoted strings."""
    if values.dtype.kind == "f":
        cells = [repr(v) for v in values.tolist()]
        return ["" if c == "nan" else c for c in cells]
    if values.dtype.kind in "iub":
        return [str(v) for v in values.tolist()]
    out = []
    for v in values.tolist():
        if v is None or (isinstance(v, float) and v != v):
            out.append("")
        else:
            text = str(v)
            if any(ch in text for ch in ',"\n\r'):
                text = '"' + text.replace('"', '""') + '"'
            out.append(text)
    return out


def csv_chunks(df: pd.DataFrame, rows: int = 50_000) -> Iterator[str]:
    """``df.to_csv(index=False)`` in pieces of ``rows`` rows, several times faster, for
    streaming a large sweep to a file without holding the whole text."""
    yield ",".join(_csv_cells(np.asarray(df.columns, dtype=object))) + "\n"
    for start in range(0, len(df), rows):
        part = df.iloc[start:start + rows]  # text columns become Python strings one piece at a time
        columns = [_csv_cells(part[c].to_numpy()) for c in df.columns]
        yield "\n".join(map(",".join, zip(*columns))) + "\n"


def rank(df: pd.DataFrame, by: str) -> pd.Series:
    """1 = best within each hardware (ties share the better rank)."""
    ascending = ASCENDING.get(by, True)
    return df.groupby("hardware")[by].rank(method="min", ascending=ascending, na_option="bottom").astype("int64")


def pareto_axis(df: pd.DataFrame) -> str:
    """Published top-1 where every row has one, else MACs as the capacity proxy."""
    return "top1" if df["top1"].notna().all() else "macs"


def pareto_mask(latency: Sequence[float], quality: Sequence[float]) -> list[bool]:
    """Rows not dominated: no other row is at least as fast and strictly better, or faster and as good."""
    lat = np.asarray(latency, dtype=np.float64)
    qual = np.asarray(quality, dtype=np.float64)
    order = np.lexsort((-qual, lat))  # by latency, then best quality first (stable, as sorted())
    q = qual[order]
    best_before = np.concatenate(([-np.inf], np.fmax.accumulate(q)[:-1])) if len(q) else q
    mask = np.zeros(len(q), dtype=bool)
    mask[order] = q > best_before
    return [bool(v) for v in mask]


def pareto_flags(df: pd.DataFrame) -> pd.Series:
    import pandas as pd

    axis = pareto_axis(df)
    latency = df["predicted_s"].to_numpy(dtype=np.float64)
    quality = df[axis].astype(float).to_numpy()
    flags = np.zeros(len(df), dtype=bool)
    for rows in df.groupby("hardware").indices.values():  # positions, not copies of the frame
        flags[rows] = pareto_mask(latency[rows], quality[rows])
    return pd.Series(flags, index=df.index)


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
