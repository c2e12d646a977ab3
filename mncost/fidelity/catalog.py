"""Every measured device of the shipped papers, fitted; and the built-in profiles made from them.

:func:`fit_devices` fits each device of ``data/devices.csv`` (MACs alone, the plain roofline,
the paper's ridge point where Table 16 gives one, and the nested leave-one-out selection);
:func:`write_builtin_profiles` writes ``hardware/<profile>.yaml`` for each (``mncost fidelity
profiles``); :func:`transfer_check` asks whether a model fitted on one paper's Pixel 1 predicts
the other paper's Pixel 1 with one refitted scale.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import paper
from .device import MIN_ROWS, DeviceFit, fit_measurements
from .fit import Scores, score
from .measurements import measurement_walk
from .model import build_network_set, predict_latency_s

REPO_DATA = "mncost/fidelity/data"
GOAL_MIN_NETWORKS = 10
GOAL_SPEARMAN = 0.95
GOAL_MEDIAN_APE = 0.10


def _fit_one(d: paper.Device, select: bool = True) -> DeviceFit | None:
    rows = list(paper.dataset_rows(d.dataset))
    measured = [r for r in rows if r.device == d.device and r.status == "ok"]
    if len(measured) < MIN_ROWS:
        return None
    t16 = paper.table16()
    ds = paper.DATASETS[d.dataset]
    return fit_measurements(rows, name=d.profile or d.device, device=d.device,
                            ridge_macs_per_byte=t16[d.device].ridge_macs_per_byte if d.device in t16 else None,
                            source=f"{REPO_DATA}/{ds.path.name} ({ds.citation})", select=select)


def fit_devices(devices: Sequence[paper.Device] | None = None, *, workers: int = 1, select: bool = True) -> list[tuple[paper.Device, DeviceFit | None]]:
    """Fit every device (None where it has too few rows), in ``devices.csv`` order; ``workers`` processes."""
    devices = list(devices) if devices is not None else paper.measured_devices()
    if workers > 1:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            fits = list(pool.map(_fit_one, devices, [select] * len(devices)))
    else:
        fits = [_fit_one(d, select) for d in devices]
    return list(zip(devices, fits))


def meets_goal(f: DeviceFit) -> bool | None:
    """The fidelity goal on a data set of ≥ 10 networks: selected model's LOO r_s above MACs
    alone's and ≥ 0.95, LOO median error ≤ 10 %. None for smaller data sets."""
    if len(f.rows) < GOAL_MIN_NETWORKS or f.selection is None:
        return None
    s = f.selection.loo
    return s.spearman > f.macs.loo.spearman and s.spearman >= GOAL_SPEARMAN and s.median_ape <= GOAL_MEDIAN_APE


def write_builtin_profiles(folder: str | Path, fits: Sequence[tuple[paper.Device, DeviceFit | None]]) -> list[Path]:
    """Write ``<profile>.yaml`` for every fitted device that has a profile name; returns the paths."""
    out = []
    for d, f in fits:
        if f is None or not d.profile:
            continue
        path = Path(folder) / f"{d.profile}.yaml"
        f.write_profile(path)
        out.append(path)
    return out


@dataclass(frozen=True)
class Transfer:
    """A model fitted on ``source`` predicting ``target`` (same phone, other paper)."""

    source: str
    target: str
    model: str
    raw: Scores  # no refit at all
    scaled_loo: Scores  # one scale refitted on the other target rows (leave-one-out)
    scale: float  # the scale fitted on all target rows (measured / predicted, geometric mean)


def transfer_check(source: DeviceFit, target_dataset: str, target_device: str) -> Transfer:
    """Predict ``target_device`` with ``source``'s selected model; then with one refitted scale."""
    rows = [r for r in paper.dataset_rows(target_dataset) if r.device == target_device and r.status == "ok"]
    walks = [measurement_walk(r) for r in rows]
    net = build_network_set(walks, weight_dtype=source.dtype, activation_dtype=source.dtype, native=[r.graph == "native" for r in rows])
    assert source.selection is not None
    predicted = predict_latency_s(net, source.selection.fit.params)
    measured = np.array([r.latency_s for r in rows])
    log_ratio = np.log(measured / predicted)
    n = len(rows)
    # leave-one-out scale: each network predicted with the scale of the other target networks
    loo = np.array([predicted[i] * math.exp(float(np.mean(np.delete(log_ratio, i)))) for i in range(n)])
    return Transfer(source.device, target_device, source.selection.chosen.name, score(predicted, measured), score(loo, measured),
                    math.exp(float(np.mean(log_ratio))))
