"""The MobileNetV4 paper's measurements and fitted ridge points, shipped as data files.

- ``data/mnv4_table6_latency.csv``: Table 6 latencies (the measurements format of
  :mod:`mncost.fidelity.measurements`), one row per model × device;
- ``data/mnv4_table16_ridge.csv``: Table 16, the ridge point the paper fits per
  device and its r_s of the roofline and of MACs alone.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

from .measurements import Measurement, read_measurements

DATA = Path(__file__).resolve().parent / "data"
TABLE6 = DATA / "mnv4_table6_latency.csv"
TABLE16 = DATA / "mnv4_table16_ridge.csv"
CITATION = 'Qin et al., "MobileNetV4: Universal Models for the Mobile Ecosystem", arXiv 2404.10518 (2024)'


@dataclass(frozen=True)
class PaperRidge:
    """One row of Table 16."""

    device: str
    ridge_macs_per_byte: float
    spearman_roofline: float
    spearman_macs: float


def table6() -> list[Measurement]:
    """Every row of Table 6 that mncost can count (failed and unreported runs included, by status)."""
    return read_measurements(TABLE6)


def table16() -> dict[str, PaperRidge]:
    """Table 16 by device name."""
    text = "".join(line for line in TABLE16.read_text(encoding="utf-8").splitlines(keepends=True) if not line.startswith("#"))
    return {
        row["device"]: PaperRidge(row["device"], float(row["ridge_macs_per_byte"]), float(row["spearman_roofline"]), float(row["spearman_macs"]))
        for row in csv.DictReader(io.StringIO(text))
    }


def devices(rows: list[Measurement] | None = None) -> list[str]:
    """Device names in table order."""
    seen: list[str] = []
    for r in rows if rows is not None else table6():
        if r.device not in seen:
            seen.append(r.device)
    return seen
