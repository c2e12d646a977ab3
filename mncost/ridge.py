"""Ridge-point sweep (MobileNetV4 paper, Sec. 3 and Fig. 3): latency as the ridge point grows.

At a fixed peak MAC/s P and ridge point RP (MACs/byte), the memory roof is P / RP, so

    latency(RP) = Σ_i max(MACs_i, RP · Bytes_i) / P.

RP = 0 is "count MACs only"; RP ≈ 500 is accelerator-like. Rankings do not depend on P.
The latencies come from the roofline core (``mncost.roofline``) with one plain profile
per ridge point (peak P, bandwidth P / RP), so a ridge sweep at a profile's own ridge
point predicts what ``analyze`` does on that profile.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from .errors import OptionError
from .hardware import DTYPE_BYTES
from .roofline import ridge_profiles
from .vector_walk import counts_from_walk
from .walker import Walk

if TYPE_CHECKING:
    import pandas as pd

    from .spec import ArchSpec


@dataclass(frozen=True)
class Flip:
    """``faster`` overtakes ``slower`` between two consecutive ridge points."""

    ridge_lo: float
    ridge_hi: float
    faster: str
    slower: str


def check_ridge_options(ridges: Sequence[float], peak_macs_per_s: float, dtype: str) -> None:
    """The library's own checks, with the errors the CLI shows."""
    import math

    if not (isinstance(peak_macs_per_s, (int, float)) and math.isfinite(peak_macs_per_s) and 1 <= peak_macs_per_s <= 1e21):
        raise OptionError(f"--peak-macs-per-s must be a number from 1 to 1e+21, got {peak_macs_per_s:g}")
    if dtype not in DTYPE_BYTES:
        raise OptionError(f"--dtype must be one of {', '.join(DTYPE_BYTES)}, got {dtype!r}")
    if any(not (math.isfinite(r) and r >= 0) for r in ridges):
        raise OptionError("--rp: values must be non-negative and finite")


def ridge_latencies(w: Walk, ridges: Sequence[float], *, peak_macs_per_s: float, dtype: str = "int8", batch: int = 1) -> np.ndarray:
    """Plain roofline latency of one walk at each ridge point (the roofline core, one
    profile per ridge point: peak fixed, memory roof = peak / ridge)."""
    check_ridge_options(ridges, peak_macs_per_s, dtype)
    c = counts_from_walk(w)
    profiles = ridge_profiles(ridges, peak_macs_per_s=peak_macs_per_s, dtype=dtype)
    from .roofline import network_times

    times = network_times(c.macs, c.params, c.act_read_elems, c.act_write_elems, c.in_elems, c.out_elems, c.group, profiles, batch=batch, refined=False)
    latency: np.ndarray = times.latency_s[:, 0]
    return latency


def label(w: Walk) -> str:
    default = w.alpha == 1.0 and w.resolution == w.spec.resolution
    return w.spec.name if default else f"{w.spec.name} α={w.alpha:g} r={w.resolution}"


def ridge_sweep(walks: Sequence[Walk], ridges: Sequence[float], *, peak_macs_per_s: float, dtype: str = "int8", batch: int = 1) -> pd.DataFrame:
    """One row per (model, ridge point): latency_s and rank at that ridge point."""
    import pandas as pd

    frames = []
    for w in walks:
        lat = ridge_latencies(w, ridges, peak_macs_per_s=peak_macs_per_s, dtype=dtype, batch=batch)
        frames.append(pd.DataFrame({"model": label(w), "ridge_macs_per_byte": list(ridges), "latency_s": lat}))
    df = pd.concat(frames, ignore_index=True)
    df["rank"] = df.groupby("ridge_macs_per_byte")["latency_s"].rank(method="min").astype("int64")
    return df


def shown_ridges(ridges: Sequence[float]) -> list[float]:
    """The ridge points a summary table shows: the usual landmarks that were swept, else the ends."""
    swept = set(ridges)
    return [r for r in (0, 50, 100, 200, 300, 500) if r in swept] or [ridges[0], ridges[-1]]


def flips(df: pd.DataFrame) -> list[Flip]:
    """Where the ranking changes: every pair that swaps order between consecutive ridge points."""
    table = df.pivot(index="ridge_macs_per_byte", columns="model", values="latency_s").sort_index()
    ridges = table.index.tolist()
    models = list(table.columns)
    out = []
    for lo, hi in zip(ridges, ridges[1:]):
        a, b = table.loc[lo], table.loc[hi]
        for i, m in enumerate(models):
            for n in models[i + 1 :]:
                before, after = a[m] - a[n], b[m] - b[n]
                if before * after < 0:
                    faster = m if after < 0 else n
                    out.append(Flip(lo, hi, faster, n if faster == m else m))
    return out


def ridge_study(
    specs: Sequence[ArchSpec], ridges: Sequence[float], *, alpha: float = 1.0, resolution: int | None = None,
    peak_macs_per_s: float = 1e12, dtype: str = "int8",
) -> tuple[pd.DataFrame, list[Flip]]:
    """The ridge command as one call: every spec at (α, resolution), latency at each ridge
    point, and where the rankings flip."""
    from .walker import walk

    check_ridge_options(ridges, peak_macs_per_s, dtype)
    df = ridge_sweep([walk(s, alpha=alpha, resolution=resolution) for s in specs], ridges, peak_macs_per_s=peak_macs_per_s, dtype=dtype)
    return df, flips(df)
