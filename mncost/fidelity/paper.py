"""The papers' measurements, shipped as data files, and the devices mncost fits to them.

- ``data/mnv4_table6_latency.csv``: MobileNetV4 paper Table 6 latencies (the measurements
  format of :mod:`mncost.fidelity.measurements`), one row per model × device;
- ``data/mnv4_table16_ridge.csv``: MobileNetV4 paper Table 16, the ridge point the paper fits
  per device and its r_s of the roofline and of MACs alone;
- ``data/mnv3_paper_latency.csv``: MobileNetV3 paper Tables 3, 4 and 9 (Pixel 1/2/3, float and 8-bit);
- ``data/mnv2_paper_latency.csv``: MobileNetV2 paper Table 4 (Pixel 1);
- ``data/devices.csv``: which data set measures each device, and its built-in profile name.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from .measurements import Measurement, read_measurements

DATA = Path(__file__).resolve().parent / "data"
TABLE6 = DATA / "mnv4_table6_latency.csv"
TABLE16 = DATA / "mnv4_table16_ridge.csv"
DEVICES = DATA / "devices.csv"
CITATION = 'Qin et al., "MobileNetV4: Universal Models for the Mobile Ecosystem", arXiv 2404.10518 (2024)'


@dataclass(frozen=True)
class DataSet:
    key: str
    path: Path
    citation: str


DATASETS: dict[str, DataSet] = {
    "mnv4": DataSet("mnv4", TABLE6, CITATION + ", Table 6"),
    "mnv3": DataSet("mnv3", DATA / "mnv3_paper_latency.csv", 'Howard et al., "Searching for MobileNetV3", ICCV 2019 (arXiv 1905.02244v5), Tables 3, 4 and 9'),
    "mnv2": DataSet("mnv2", DATA / "mnv2_paper_latency.csv", 'Sandler et al., "MobileNetV2: Inverted Residuals and Linear Bottlenecks", CVPR 2018 (arXiv 1801.04381), Table 4'),
}


@dataclass(frozen=True)
class Device:
    """One row of ``devices.csv``."""

    dataset: str
    device: str
    profile: str  # built-in profile name fitted to it ('' = too few rows)
    generic: str  # the generic profile modelled on it ('' = none)
    transfer_from: str = ""  # a device whose selected model is checked on this one's networks ('' = none)


@dataclass(frozen=True)
class PaperRidge:
    """One row of Table 16."""

    device: str
    ridge_macs_per_byte: float
    spearman_roofline: float
    spearman_macs: float


def _rows(path: Path) -> list[dict[str, str]]:
    text = "".join(line for line in path.read_text(encoding="utf-8").splitlines(keepends=True) if not line.startswith("#"))
    return list(csv.DictReader(io.StringIO(text)))


def table6() -> list[Measurement]:
    """Every row of Table 6 that mncost can count (failed and unreported runs included, by status)."""
    return read_measurements(TABLE6)


@lru_cache(maxsize=None)
def dataset_rows(key: str) -> tuple[Measurement, ...]:
    return tuple(read_measurements(DATASETS[key].path))


def table16() -> dict[str, PaperRidge]:
    """Table 16 by device name."""
    return {
        row["device"]: PaperRidge(row["device"], float(row["ridge_macs_per_byte"]), float(row["spearman_roofline"]), float(row["spearman_macs"]))
        for row in _rows(TABLE16)
    }


def measured_devices() -> list[Device]:
    """Every device of ``devices.csv``, in file order."""
    return [Device(r["dataset"], r["device"], r["profile"], r["generic"], r["transfer_from"]) for r in _rows(DEVICES)]


def devices(rows: list[Measurement] | None = None) -> list[str]:
    """Device names in table order."""
    seen: list[str] = []
    for r in rows if rows is not None else table6():
        if r.device not in seen:
            seen.append(r.device)
    return seen
