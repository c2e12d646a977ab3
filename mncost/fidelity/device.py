"""Fit one device's measurements: the library behind ``mncost fit``.

:func:`fit_measurements` takes measurement rows (one device), fits MACs alone and the
plain roofline, scores both in sample and under leave-one-out, and (``select``) chooses
the refinement terms by nested leave-one-out (:func:`mncost.fidelity.fit.nested_selection`).
It returns a :class:`DeviceFit` that can write a hardware profile. The profile's peak and
bandwidth are always the *plain* roofline's fit, so that ``mncost analyze --hw fitted.yaml``
reproduces the reported plain predictions; the selected model goes under ``refinements:``
(what ``analyze`` prints beside the plain roofline) and its leave-one-out scores under
``fit: selected:``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import OptionError
from ..hardware import DTYPE_BYTES
from .fit import MACS, PLAIN, Design, Evaluation, Variant, evaluate, paper_ridge
from .select import Selection, nested_selection
from .measurements import Measurement, MeasurementError, measurement_walk
from .model import NetworkSet, build_network_set, compute_bound_share
from .profile import write_profile

MIN_ROWS = 4
"""Fewest measured networks a fit accepts: two parameters, and leave-one-out needs rows to spare."""


@dataclass(frozen=True, eq=False)
class DeviceFit:
    """Every variant fitted to one device's measurements, with in-sample and leave-one-out scores."""

    name: str
    device: str
    dtype: str
    source: str
    rows: tuple[Measurement, ...]  # the measured ('ok') rows, in file order
    skipped: tuple[Measurement, ...]  # failed / not reported rows of this device
    net: NetworkSet = field(repr=False)
    latency_s: np.ndarray = field(repr=False)
    evaluations: tuple[Evaluation, ...]
    resolutions: tuple[int, ...] = ()  # per measured row: the resolution walked (the spec's when the row gives none)
    selection: Selection | None = None

    def evaluation(self, name: str) -> Evaluation:
        for e in self.evaluations:
            if e.variant.name == name:
                return e
        raise KeyError(f"no variant {name!r}; fitted: {', '.join(e.variant.name for e in self.evaluations)}")

    @property
    def macs(self) -> Evaluation:
        return self.evaluation(MACS.name)

    @property
    def plain(self) -> Evaluation:
        return self.evaluation(PLAIN.name)

    @property
    def refined(self) -> Selection | None:
        """The selected model, when selection ran and chose refinement terms."""
        s = self.selection
        return s if s is not None and s.chosen.is_refined else None

    # -- the profile ------------------------------------------------------------------

    def profile(self, *, fit_key: bool = True) -> dict[str, Any]:
        """A hardware profile mapping (plain roofline fit) that ``mncost.load_hardware`` accepts.

        ``fit_key`` adds :meth:`fit_record` under the profile's ``fit:`` key.
        """
        p = self.plain.fit.params
        method = (f"mncost fit: plain roofline fitted to {len(self.rows)} measured latencies"
                  f"{' of ' + self.device if self.device else ''}{' in ' + self.source if self.source else ''}, "
                  "least squares on log latency (mncost.fidelity.fit)")
        return {
            "name": self.name,
            "title": f"{self.device or self.name}, {self.dtype} (roofline fitted to measured latency)",
            "kind": "fitted",
            "peak_macs_per_s": float(f"{p.peak_macs_per_s:.6g}"),
            "mem_bw_bytes_per_s": float(f"{p.mem_bw_bytes_per_s:.6g}"),
            "weight_dtype": self.dtype,
            "activation_dtype": self.dtype,
            "sources": {"peak_macs_per_s": method, "mem_bw_bytes_per_s": method},
            "note": self.note(),
        } | self._refinements() | ({"fit": self.fit_record()} if fit_key else {})

    def _refinements(self) -> dict[str, Any]:
        """The selected model, as the profile key that ``analyze`` applies beside the plain roofline."""
        r = self.refined
        if r is None:
            return {}
        p = r.fit.params
        out: dict[str, Any] = {
            "peak_macs_per_s": float(f"{p.peak_macs_per_s:.6g}"),
            "mem_bw_bytes_per_s": float(f"{p.mem_bw_bytes_per_s:.6g}"),
        }
        if p.overhead_s > 1e-12:  # the bound is 0: anything below a picosecond is the optimizer's noise
            out["overhead_s_per_layer"] = float(f"{p.overhead_s:.6g}")
        if p.invoke_s > 1e-12:
            out["invoke_s"] = float(f"{p.invoke_s:.6g}")
        if p.onchip_bytes:
            out["onchip_bytes"] = float(f"{p.onchip_bytes:.6g}")
        slowdown = {g: float(f"{f:.6g}") for g, f in sorted(p.slowdown.items()) if f != 1.0}
        if slowdown:
            out["slowdown"] = slowdown
        act = {c: float(f"{x:.6g}") for c, x in sorted(p.act_s_per_elem.items()) if x > 1e-18}  # 0 is the bound: below an attosecond is noise
        if act:
            out["act_s_per_elem"] = act
        return {"refinements": out}

    def note(self) -> str:
        """One paragraph: ridge point and every score, in sample and leave-one-out."""
        e, m = self.plain, self.macs
        unbounded = compute_bound_share(self.net, e.fit.params) == 0.0
        parts = [
            f"Fitted ridge {'≥ ' if unbounded else ''}{e.fit.params.ridge_macs_per_byte:.4g} MACs/byte"
            + (" (no layer compute-bound at the fit: peak and ridge are bounded only from below)." if unbounded else "."),
            f"r_s {e.in_sample.spearman:.3f} (leave-one-out {e.loo.spearman:.3f}); MACs alone {m.in_sample.spearman:.3f} (LOO {m.loo.spearman:.3f}).",
            f"|error| median {e.in_sample.median_ape:.1%}, worst {e.in_sample.worst_ape:.1%} (LOO {e.loo.median_ape:.1%}, {e.loo.worst_ape:.1%}).",
        ]
        r = self.refined
        if r is not None:
            params = ", ".join(f"{k} {v:.4g}" for k, v in r.fit.params.as_dict().items())
            parts.append(f"Selected model ({r.chosen.name}, chosen by nested leave-one-out; analyze prints it beside the plain roofline): {params}; "
                         f"r_s LOO {r.loo.spearman:.3f}, |error| LOO median {r.loo.median_ape:.1%}, worst {r.loo.worst_ape:.1%}.")
        return " ".join(parts)

    def comments(self) -> tuple[str, ...]:
        """Header comments for the profile file: how it was made, and the data it was fitted to."""
        lines = [
            f"Written by mncost fit ({self.name}): {len(self.rows)} measurements{' of ' + self.device if self.device else ''}"
            f"{' from ' + self.source if self.source else ''}.",
            "Fit: least squares on log latency (mncost.fidelity.fit); scores also under leave-one-out.",
            "Columns: model, alpha, resolution, width rule, batch, measured ms, plain roofline ms, plain LOO ms"
            + (", selected model ms, selected LOO ms (nested)" if self.refined else ""),
        ]
        r = self.refined
        for k, row in enumerate(self.rows):
            cells = [row.model, f"{row.alpha:g}", str(self.resolutions[k]), row.width_rule or "-", str(row.batch),
                     f"{row.latency_ms:.4g}", f"{self.plain.predicted_s[k] * 1e3:.4g}", f"{self.plain.loo_predicted_s[k] * 1e3:.4g}"]
            if r is not None:
                cells += [f"{r.predicted_s[k] * 1e3:.4g}", f"{r.loo_predicted_s[k] * 1e3:.4g}"]
            lines.append("  " + ", ".join(cells))
        for row in self.skipped:
            lines.append(f"  skipped: {row.name} ({row.status})")
        return tuple(lines)

    def selected_record(self) -> dict[str, Any] | None:
        """The selected model's name, terms and honest (nested leave-one-out) scores."""
        s = self.selection
        if s is None:
            return None
        return {
            "model": s.chosen.name,
            "terms": list(s.chosen.terms),
            "params": {k: float(f"{v:.6g}") for k, v in s.fit.params.as_dict().items() if math.isfinite(v)},
            "networks": len(self.rows),
            "loo_spearman": round(s.loo.spearman, 6),
            "loo_median_ape": round(s.loo.median_ape, 6),
            "loo_worst_ape": round(s.loo.worst_ape, 6),
            "macs_loo_spearman": round(self.macs.loo.spearman, 6),
            "macs_loo_median_ape": round(self.macs.loo.median_ape, 6),
            "chosen_per_fold": list(s.per_fold),
            "method": "forward stepwise selection of terms by inner leave-one-out, scored by an outer leave-one-out (mncost.fidelity.fit)",
        }

    def fit_record(self) -> dict[str, Any]:
        """Structured record of the fit: proposed as an optional ``fit:`` key of profile files."""
        selected = self.selected_record()
        return ({"selected": selected} if selected else {}) | {
            "method": "least squares on log latency; leave-one-out refits every fitted parameter",
            "source": self.source,
            "device": self.device,
            "measurements": len(self.rows),
            "variants": {
                e.variant.name: {
                    "params": {k: float(f"{v:.6g}") for k, v in e.fit.params.as_dict().items() if math.isfinite(v)},
                    "spearman": round(e.in_sample.spearman, 6),
                    "median_ape": round(e.in_sample.median_ape, 6),
                    "worst_ape": round(e.in_sample.worst_ape, 6),
                    "loo_spearman": round(e.loo.spearman, 6),
                    "loo_median_ape": round(e.loo.median_ape, 6),
                    "loo_worst_ape": round(e.loo.worst_ape, 6),
                }
                for e in self.evaluations
            },
        }

    def write_profile(self, path: str | Path, *, fit_key: bool = True) -> None:
        """Write the fitted profile YAML atomically (validated against the profile schema first)."""
        write_profile(path, self.profile(fit_key=fit_key), comments=self.comments())


def _pick_device(rows: Sequence[Measurement], device: str | None) -> tuple[str, list[Measurement]]:
    names: list[str] = []
    for r in rows:
        if r.device not in names:
            names.append(r.device)
    file = rows[0].file if rows else None
    if device is not None:
        chosen = [r for r in rows if r.device == device]
        if not chosen:
            listed = ", ".join(repr(n) for n in names if n) or "none (no device column)"
            raise MeasurementError(f"no rows of device {device!r}; devices in the file: {listed}", file=file, key="device")
        return device, chosen
    if len(names) > 1:
        listed = ", ".join(repr(n) for n in names)
        raise MeasurementError(f"the file measures {len(names)} devices ({listed}); choose one (--device)", file=file, key="device")
    return (names[0] if names else ""), list(rows)


def _pick_dtype(rows: Sequence[Measurement], dtype: str | None) -> str:
    given = {r.dtype for r in rows if r.dtype}
    if dtype is not None and dtype not in DTYPE_BYTES:
        raise OptionError(f"--dtype must be one of {', '.join(DTYPE_BYTES)}, got {dtype!r}")
    if len(given) > 1:
        reference = next(r.dtype for r in rows if r.dtype)
        first = next(r for r in rows if r.dtype and r.dtype != reference)
        raise MeasurementError(f"rows of one device disagree on dtype ({', '.join(sorted(given))}); a profile has one", file=first.file, key="dtype", line=first.line)
    if given and dtype is not None and dtype not in given:
        row = next(r for r in rows if r.dtype)
        raise MeasurementError(f"the rows say dtype {row.dtype!r}, the fit was asked for {dtype!r}", file=row.file, key="dtype", line=row.line)
    return dtype or (given.pop() if given else "int8")


def fit_measurements(
    rows: Sequence[Measurement],
    *,
    name: str,
    device: str | None = None,
    dtype: str | None = None,
    ridge_macs_per_byte: float | None = None,
    refinements: Sequence[Variant] = (),
    select: bool = True,
    source: str | None = None,
) -> DeviceFit:
    """Fit and score MACs alone, the plain roofline and ``refinements`` on one device's rows.

    ``device`` picks the rows of one device (required when the rows name several);
    ``dtype`` the byte widths (default: the rows' ``dtype`` column, else int8);
    ``ridge_macs_per_byte`` also scores the plain roofline at that fixed ridge (the
    paper's), only its scale fitted; ``refinements`` are extra variants to score (the
    caller's choice); ``select`` runs the nested leave-one-out choice of refinement terms.
    Raises MeasurementError for unusable rows, naming file, line and column.
    """
    if ridge_macs_per_byte is not None and not (math.isfinite(ridge_macs_per_byte) and ridge_macs_per_byte > 0):
        raise OptionError(f"--ridge must be a positive finite number of MACs/byte, got {ridge_macs_per_byte!r}")
    device_name, chosen = _pick_device(rows, device)
    kind = _pick_dtype(chosen, dtype)
    measured = [r for r in chosen if r.status == "ok"]
    skipped = tuple(r for r in chosen if r.status != "ok")
    if len(measured) < MIN_ROWS:
        file = chosen[0].file if chosen else None
        raise MeasurementError(f"{len(measured)} measured row(s){' of ' + device_name if device_name else ''}; a fit needs at least {MIN_ROWS}", file=file, key="latency_ms")
    walks = [measurement_walk(r) for r in measured]
    net = build_network_set(walks, weight_dtype=kind, activation_dtype=kind, batches=[r.batch for r in measured],
                            names=[f"{w.spec.name} α={w.alpha:g} r{w.resolution}" for w in walks],
                            native=[r.graph == "native" for r in measured])
    latency = np.array([r.latency_s for r in measured])
    variants: list[Variant] = [MACS, PLAIN]
    if ridge_macs_per_byte is not None:
        variants.append(paper_ridge(ridge_macs_per_byte))
    variants += list(refinements)
    design = Design.of(net)
    evaluations = tuple(evaluate(design, latency, v) for v in variants)
    selection = nested_selection(design, latency) if select else None
    src = source if source is not None else (measured[0].file if measured[0].file and not measured[0].file.startswith("<") else "")
    return DeviceFit(name=name, device=device_name, dtype=kind, source=src, rows=tuple(measured), skipped=skipped,
                     net=net, latency_s=latency, evaluations=evaluations, resolutions=tuple(w.resolution for w in walks),
                     selection=selection)
