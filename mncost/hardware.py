"""Hardware profiles: peak MAC/s, memory bandwidth and dtypes, each number with its source."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Collection
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from . import builtin
from .errors import HardwareError
from .schema import Context, coerce, meta, parse_record, require_mapping, suggest, within
from .yamlio import load_file

DType = Literal["int8", "uint8", "fp16", "bf16", "fp32"]
DTYPE_BYTES: dict[str, int] = {"int8": 1, "uint8": 1, "fp16": 2, "bf16": 2, "fp32": 4}


from .ops import ACTIVATION_CLASSES, GROUPS as SLOWDOWN_GROUPS  # noqa: E402

# Wide enough for a microcontroller and a datacenter, narrow enough that no latency
# overflows to inf or underflows to 0 (a peak of 5e-324 MAC/s is not a device).
PEAK_RANGE = within(1.0, 1e21)
BW_RANGE = within(1.0, 1e18)


@dataclass(frozen=True, kw_only=True)
class Refinements:
    """Optional corrections to the plain roofline, fitted by ``mncost fit`` (README, "Fidelity").

    analyze reports the refined latency beside the plain one, never instead of it. The
    refined model has its own roofs when the fit moved them (else the profile's).
    """

    peak_macs_per_s: float | None = field(default=None, metadata=meta(check=PEAK_RANGE))
    mem_bw_bytes_per_s: float | None = field(default=None, metadata=meta(check=BW_RANGE))
    overhead_s_per_layer: float = field(default=0.0, metadata=meta(check=within(0, 1e3)))
    invoke_s: float = field(default=0.0, metadata=meta(check=within(0, 1e3)))
    onchip_bytes: float = field(default=0.0, metadata=meta(check=within(0, 1e15)))
    slowdown: dict[str, float] = field(default_factory=dict, metadata=meta(internal=True))
    act_s_per_elem: dict[str, float] = field(default_factory=dict, metadata=meta(internal=True))  # activation class -> s per output element


def _named_values(mapping: dict[str, Any], field_name: str, names: Collection[str], what: str, plural: str,
                  bounds: tuple[float, float], expected: str, path: str, ctx: Context) -> dict[str, float]:
    """A ``{name: number}`` refinement (``slowdown``, ``act_s_per_elem``): each name one of
    ``names``, each number within ``bounds``."""
    raw = require_mapping(mapping.get(field_name, {}), f"{path}.{field_name}", ctx)
    values = {}
    for name, number in raw.items():
        key = f"{path}.{field_name}.{name}"
        if name not in names:
            raise ctx.fail(key, f"unknown {what}{suggest(str(name), names)}; {plural}: {', '.join(names)}")
        value = coerce(number, float, key, ctx)
        if not bounds[0] <= value <= bounds[1]:
            raise ctx.fail(key, f"expected {expected}, got {number!r}")
        values[str(name)] = value
    return values


def parse_refinements(raw: Any, path: str, ctx: Context) -> Refinements:
    mapping = require_mapping(raw, path, ctx)
    slowdown = _named_values(mapping, "slowdown", SLOWDOWN_GROUPS, "layer group", "groups", (1e-3, 1e6),
                             "a factor from 0.001 to 1e+06", path, ctx)
    act_cost = _named_values(mapping, "act_s_per_elem", ACTIVATION_CLASSES, "activation class", "classes", (0.0, 1e-3),
                             "seconds per element from 0 to 0.001", path, ctx)
    return parse_record(Refinements, mapping, path, ctx, ignore=("slowdown", "act_s_per_elem"), extra={"slowdown": slowdown, "act_s_per_elem": act_cost})


@dataclass(frozen=True)
class ExpectedError:
    """How well a fitted profile's selected model predicted its own device, leave-one-out."""

    model: str
    networks: int
    loo_median_ape: float
    loo_spearman: float

    def sentence(self) -> str:
        return f"leave-one-out median error {self.loo_median_ape:.0%} over {self.networks} measured networks"


@dataclass(frozen=True, kw_only=True)
class HardwareProfile:
    """A roofline: compute roof ``peak_macs_per_s`` and memory roof ``mem_bw_bytes_per_s``.

    A file gives the peak and either the bandwidth or the ridge point (MACs/byte);
    the other is derived. ``sources`` maps each number's key to where it comes from.
    """

    name: str
    title: str = ""
    kind: str = ""
    peak_macs_per_s: float = field(metadata=meta(check=PEAK_RANGE))
    mem_bw_bytes_per_s: float = field(default=math.nan, metadata=meta(check=BW_RANGE))
    ridge_macs_per_byte: float = field(default=math.nan, metadata=meta(check=within(1e-9, 1e15)))
    weight_dtype: DType = "int8"
    activation_dtype: DType = "int8"
    sources: dict[str, str] = field(default_factory=dict, metadata=meta(internal=True))
    note: str = ""
    fidelity: str = ""  # how far to trust its latencies, in words (generic profiles; fitted ones carry fit.selected)
    fit: dict[str, Any] = field(default_factory=dict, metadata=meta(internal=True))  # how `mncost fit` made it; not used by the roofline
    refinements: Refinements | None = field(default=None, metadata=meta(parse=parse_refinements))
    file: str = field(default="", metadata=meta(internal=True))

    @property
    def ridge_point(self) -> float:
        """MACs per byte at which the compute and memory roofs meet."""
        return self.peak_macs_per_s / self.mem_bw_bytes_per_s

    @property
    def expected_error(self) -> "ExpectedError | None":
        """The selected model's honest error, for a profile fitted by ``mncost fit`` (its ``fit: selected:``)."""
        sel = self.fit.get("selected")
        if not isinstance(sel, dict):
            return None
        try:
            return ExpectedError(str(sel["model"]), int(sel["networks"]), float(sel["loo_median_ape"]), float(sel["loo_spearman"]))
        except (KeyError, TypeError, ValueError):
            return None

    @property
    def weight_bytes_per_param(self) -> int:
        return DTYPE_BYTES[self.weight_dtype]

    @property
    def activation_bytes_per_elem(self) -> int:
        return DTYPE_BYTES[self.activation_dtype]


def parse_hardware(data: Any, ctx: Context) -> HardwareProfile:
    top = require_mapping(data, "", ctx)
    sources_raw = require_mapping(top.get("sources", {}), "sources", ctx)
    sources = {}
    for key, value in sources_raw.items():
        if not isinstance(value, str):
            raise ctx.fail(f"sources.{key}", "expected a string naming where the number comes from")
        sources[str(key)] = coerce(value, str, f"sources.{key}", ctx)
    fit = require_mapping(top.get("fit", {}), "fit", ctx)
    hw = parse_record(HardwareProfile, top, "", ctx, ignore=("sources", "fit"), extra={"sources": sources, "fit": fit, "file": ctx.doc.file})
    has_bw = not math.isnan(hw.mem_bw_bytes_per_s)
    has_ridge = not math.isnan(hw.ridge_macs_per_byte)
    if has_bw == has_ridge:
        raise ctx.fail("mem_bw_bytes_per_s", "give exactly one of mem_bw_bytes_per_s and ridge_macs_per_byte")
    if has_ridge:
        hw = dataclasses.replace(hw, mem_bw_bytes_per_s=hw.peak_macs_per_s / hw.ridge_macs_per_byte)
        if BW_RANGE(hw.mem_bw_bytes_per_s) is not None:
            raise ctx.fail("ridge_macs_per_byte", f"gives a bandwidth of {hw.mem_bw_bytes_per_s:g} bytes/s; expected {BW_RANGE(hw.mem_bw_bytes_per_s)}")
    else:
        hw = dataclasses.replace(hw, ridge_macs_per_byte=hw.peak_macs_per_s / hw.mem_bw_bytes_per_s)
    return hw


def load_hardware_file(path: Path, display: str | None = None) -> HardwareProfile:
    doc = load_file(path, display)
    return parse_hardware(doc.data, Context(doc, HardwareError))


_load_builtin = lru_cache(maxsize=64)(load_hardware_file)  # built-ins are parsed once per process


def load_hardware(hw: str | Path) -> HardwareProfile:
    """A built-in profile name (``edgetpu``) or the path of a profile YAML file."""
    files = builtin.hardware_files()
    load = load_hardware_file if isinstance(hw, Path) or builtin.is_path(str(hw)) else _load_builtin
    return builtin.resolve(hw, files, load, folder="hardware", what="hardware", listing="built-in profiles", file_kind="profile", error=HardwareError)


def builtin_hardware() -> list[HardwareProfile]:
    return [load_hardware(name) for name in builtin.hardware_files()]
