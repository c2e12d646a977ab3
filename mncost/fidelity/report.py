"""Markdown reports of the roofline's fidelity: the paper's devices, and this machine.

- :func:`paper_report` fits every device of the MobileNetV4 paper's Table 6 and sets
  the leave-one-out scores beside the paper's Table 16;
- :func:`local_report` does the same for latencies measured here by
  :func:`mncost.fidelity.bench.bench_all`, with the calibrated profile beside;
- :func:`render_fit` is the text ``mncost fit`` prints for one device.

Numbers are formatted here and only here.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

from ..views.formats import md_table
from . import paper
from .device import DeviceFit, fit_measurements
from .fit import Evaluation, Scores, score
from .measurements import read_measurements
from .model import ModelParams, NetworkSet, compute_bound_share, predict_latency_s

PAPER_COMMAND = "mncost fidelity paper --output reports/fidelity/paper.md"
LOCAL_COMMAND = "mncost fidelity local --report-only --output-dir reports/fidelity"
LOCAL_DIR = Path("reports/fidelity")


def _rs(x: float) -> str:
    return "–" if math.isnan(x) else f"{x:.3f}"


def _pct(x: float) -> str:
    return f"{x:.0%}" if x >= 0.995 else f"{x:.1%}"


def _small(x: float) -> str:
    """Values an optimizer leaves at ~1e-15 of their scale read as 0."""
    return "0" if abs(x) < 1e-6 else f"{x:.3g}"


def _params(p: ModelParams, net: NetworkSet | None = None) -> str:
    """Parameters in units people read; ``≥`` marks a peak / ridge the data bound only from below."""
    unbounded = net is not None and compute_bound_share(net, p) == 0.0
    ge = "≥ " if unbounded else ""
    parts = [f"peak {ge}{p.peak_macs_per_s:.3g} MAC/s"]
    if math.isfinite(p.mem_bw_bytes_per_s):
        parts += [f"bw {p.mem_bw_bytes_per_s / 1e9:.3g} GB/s", f"ridge {ge}{p.ridge_macs_per_byte:.3g} MACs/B"]
    if p.overhead_s:
        parts.append(f"overhead {_small(p.overhead_s * 1e6)} µs/layer")
    if p.invoke_s:
        parts.append(f"invoke {_small(p.invoke_s * 1e3)} ms")
    parts += [f"{g} ×{f:.3g}" for g, f in sorted(p.slowdown.items())]
    parts += [f"{c} activations {_small(x * 1e9)} ns/element" for c, x in sorted(p.act_s_per_elem.items())]
    if p.onchip_bytes:
        parts.append(f"on-chip {p.onchip_bytes / 2**10:.3g} KiB")
    return ", ".join(parts)


# -- one device (the CLI's output) ----------------------------------------------------


def render_fit(fit: DeviceFit) -> str:
    """What ``mncost fit`` prints: fitted ridge, r_s of the model and of MACs, errors; all also leave-one-out."""
    p = fit.plain.fit.params
    share = compute_bound_share(fit.net, p)
    bound = ("\nno layer is compute-bound at this fit: the measurements bound the peak and the ridge point only from "
             "below (any higher peak fits as well); the plain roofline ranks these networks by bytes alone\n") if share == 0.0 else ""
    head = (f"{fit.name}: {len(fit.rows)} measured networks{' of ' + fit.device if fit.device else ''} ({fit.dtype})"
            + (f", {len(fit.skipped)} skipped (failed / not reported)" if fit.skipped else "") + "\n"
            f"plain roofline: peak {p.peak_macs_per_s:.4g} MAC/s, bandwidth {p.mem_bw_bytes_per_s:.4g} B/s, "
            f"fitted ridge point {'≥ ' if share == 0.0 else ''}{p.ridge_macs_per_byte:.4g} MACs/byte "
            f"({share:.0%} of the predicted time compute-bound){bound}\n\n")
    rows = []
    for e in fit.evaluations:
        rows.append([e.variant.name, _rs(e.in_sample.spearman), _rs(e.loo.spearman), _pct(e.in_sample.median_ape),
                     _pct(e.loo.median_ape), _pct(e.in_sample.worst_ape), _pct(e.loo.worst_ape), _params(e.fit.params, fit.net)])
    if fit.selection is not None:
        s = fit.selection
        rows.append([f"selected: {s.chosen.name}", _rs(score(s.predicted_s, fit.latency_s).spearman), _rs(s.loo.spearman),
                     _pct(score(s.predicted_s, fit.latency_s).median_ape), _pct(s.loo.median_ape), _pct(score(s.predicted_s, fit.latency_s).worst_ape),
                     _pct(s.loo.worst_ape), _params(s.fit.params, fit.net)])
    table = md_table(["model", "r_s", "r_s LOO", "median error", "LOO", "worst error", "LOO", "fitted parameters"], rows, "lrrrrrrl")
    return head + table + ("\nerror = |predicted − measured| / measured; LOO: leave-one-out, every parameter refitted without "
                           "the predicted network; for *selected* the choice of terms is made without it too (nested leave-one-out). "
                           "The profile records the plain roofline, and the selected model under `refinements:`.\n")


# -- the papers' devices --------------------------------------------------------------

PAPER_NOTE = """Every score here is **leave-one-out** (LOO): each network is predicted by a model fitted
without it, every fitted parameter included; for the *selected* model the choice of refinement terms is
made without it too (nested leave-one-out, `mncost.fidelity.fit.nested_selection`), so that score
includes the price of choosing. r_s is the Spearman rank correlation of the LOO predictions with the
measurements; error is |predicted − measured| / measured. Columns: *MACs* = latency ∝ MACs (one fitted
scale); *RP* = the plain roofline at the ridge point of the MobileNetV4 paper's Table 16, only the scale
fitted; *plain* = the plain roofline, peak and bandwidth fitted; *selected* = the plain roofline plus
the refinement terms chosen by forward stepwise selection on inner leave-one-out (candidates fixed in
advance, on hardware grounds given in `mncost/fidelity/select.py`: a time per layer, a time per inference,
a slowdown per layer group, a time per output element of layers with a hard (hard-swish/-sigmoid) or
smooth (GELU, swish, sigmoid) activation, in graphs exported from PyTorch only: rows whose `graph` is
`native` (the papers' own TensorFlow MobileNets on TFLite) carry no activation cost; a term must lower
the inner LOO RMS log error by 20 %, a threshold set on synthetic data). *goal*: selected LOO r_s above MACs alone's and ≥ 0.95, LOO median error
≤ 10 %, judged on data sets of at least 10 networks."""


def _cell(s: Scores | None) -> str:
    return "–" if s is None else f"{_rs(s.spearman)} / {_pct(s.median_ape)}"


def _goal(f: DeviceFit) -> str:
    from .catalog import meets_goal

    met = meets_goal(f)
    return f"n < {10}" if met is None else ("**met**" if met else "not met")


def _rp(f: DeviceFit) -> Evaluation | None:
    return next((e for e in f.evaluations if e.variant.ridge_macs_per_byte is not None), None)


def paper_report(*, select: bool = True, workers: int = 1, fits: list[tuple[paper.Device, DeviceFit | None]] | None = None) -> str:
    """The fidelity report on the papers' measurements (reports/fidelity/paper.md); ``select``: the nested choice too."""
    from .catalog import fit_devices, transfer_check

    fits = fits if fits is not None else fit_devices(workers=workers, select=select)
    fitted = [(d, f) for d, f in fits if f is not None]
    t16 = paper.table16()
    out = ["# Roofline fidelity on the papers' measurements\n\n",
           f"Generated by `mncost.fidelity.report.paper_report()`; regenerate with\n`{PAPER_COMMAND}`\n"
           "(its run time is measured by `benchmarks/bench_fidelity.py`).\n\n", "**Data** (a source on every row):\n\n"]
    for ds in paper.DATASETS.values():
        out.append(f"- `mncost/fidelity/data/{ds.path.name}`: {ds.citation}\n")
    out += ["\nRows of different settings (phone, precision, paper) are different devices. INT8 on the MobileNetV4 "
            "paper's CPUs, DSP and EdgeTPU, FP16 on its GPUs and CoreML; fp32 and int8 (8-bit) on the MobileNetV3 "
            "paper's Pixels; the dtype sets the bytes.\n\n", PAPER_NOTE, "\n\n## Leave-one-out r_s / median error per device\n\n"]
    rows = []
    for d, f in fitted:
        s = f.selection
        rows.append([f.device, d.dataset, str(len(f.rows)), _cell(f.macs.loo), _cell(_rp(f).loo if _rp(f) else None), _cell(f.plain.loo),
                     _cell(s.loo if s else None), f"`{s.chosen.name}`" if s else "–", _goal(f)])
    out.append(md_table(["device", "data", "n", "MACs", "RP", "plain", "selected", "selected on all rows", "goal"], rows, "llrrrrrll"))
    small = [f"{d.device} ({sum(1 for r in paper.dataset_rows(d.dataset) if r.device == d.device)} networks)" for d, f in fits if f is None]
    if small:
        out.append(f"\nToo few networks to fit (fewer than 4): {', '.join(small)}; used for the transfer check below.\n")
    out.append("\n## The paper's Table 16 beside these networks\n\n")
    t16_rows = []
    for d, f in fitted:
        ref = t16.get(f.device)
        if ref is None:
            continue
        rp = _rp(f)
        t16_rows.append([f.device, f"{ref.ridge_macs_per_byte:g}", f"{ref.spearman_roofline:.3f}", f"{ref.spearman_macs:.3f}",
                         _rs(rp.loo.spearman) if rp else "–", _rs(f.macs.loo.spearman), f"{f.plain.fit.params.ridge_macs_per_byte:.3g}"
                         + (" (lower bound)" if compute_bound_share(f.net, f.plain.fit.params) == 0.0 else "")])
    out.append(md_table(["device", "Table 16 RP (MACs/B)", "Table 16 r_s roofline", "Table 16 r_s MACs", "r_s at RP here (LOO)",
                       "r_s MACs here (LOO)", "fitted ridge here"], t16_rows, "lrrrrrr"))
    out.append("\nTable 16's r_s are over the paper's own, larger set of networks; here only the Table 6 networks that mncost "
               "can count are used, with mncost's conventions (every walked layer, residual adds and pooling included).\n")
    out.append("\n## Which terms each fold chose\n\n")
    choice_rows = []
    for d, f in fitted:
        s = f.selection
        if s is None:
            continue
        counts: dict[str, int] = {}
        for name in s.per_fold:
            counts[name] = counts.get(name, 0) + 1
        path = " → ".join(f"`{name}` {rmse:.3f}" for name, rmse in s.path)
        choice_rows.append([f.device, ", ".join(f"`{k}` ×{v}" for k, v in sorted(counts.items(), key=lambda kv: -kv[1])), path])
    out.append(md_table(["device", "chosen per outer fold", "path on all rows (inner LOO RMS log error)"], choice_rows, "lll"))
    out.append(_family_section([(d, f) for d, f in fitted if d.dataset == "mnv4" and f.selection is not None]))
    out.append(_transfer_section(fits, transfer_check))
    out.append("\n## Selected model, fitted on all rows\n\n")
    out.append(md_table(["device", "model", "parameters"], [[f.device, f.selection.chosen.name, _params(f.selection.fit.params, f.net)]
                                                          for _, f in fitted if f.selection], "lll"))
    out.append("\n## Per network: measured and leave-one-out predictions (ms)\n")
    for d, f in fitted:
        s = f.selection
        out.append(f"\n**{f.device}** ({f.dtype}, {paper.DATASETS[d.dataset].citation})\n\n")
        table = []
        for k, m in enumerate(f.rows):
            table.append([m.label or m.model, f"{m.alpha:g}", str(f.resolutions[k]), f"{m.latency_ms:g}",
                          f"{f.macs.loo_predicted_s[k] * 1e3:.3g}", f"{f.plain.loo_predicted_s[k] * 1e3:.3g}",
                          f"{s.loo_predicted_s[k] * 1e3:.3g}" if s else "–", f"`{s.per_fold[k]}`" if s else "–"])
        out.append(md_table(["network", "α", "res", "measured", "MACs", "plain", "selected", "chosen in its fold"], table, "lrrrrrrl"))
    return "".join(out)


def _family_section(fits: list[tuple[paper.Device, DeviceFit]]) -> str:
    """Per architecture family (the spec's ``family``) and device: how many times slower than predicted
    the family runs (geometric mean of measured / leave-one-out predicted), plain → selected."""
    from ..spec import load_spec

    family_of: dict[str, str] = {}
    cells: dict[str, dict[str, str]] = {}
    for _, f in fits:
        s = f.selection
        assert s is not None
        by_family: dict[str, list[int]] = {}
        for k, m in enumerate(f.rows):
            if m.model not in family_of:
                family_of[m.model] = load_spec(m.model).family or m.model
            by_family.setdefault(family_of[m.model], []).append(k)
        for fam, ks in by_family.items():
            plain = float(np.exp(np.mean(np.log(f.latency_s[ks] / f.plain.loo_predicted_s[ks]))))
            sel = float(np.exp(np.mean(np.log(f.latency_s[ks] / s.loo_predicted_s[ks]))))
            cells.setdefault(fam, {})[f.device] = f"{plain:.2f} → {sel:.2f}"
    devices = [f.device for _, f in fits]
    order = list(dict.fromkeys(family_of[m.model] for _, f in fits for m in f.rows))
    rows = [[fam, *(cells[fam].get(d, "–") for d in devices)] for fam in order]
    return ("\n## Per family: measured ÷ predicted, plain → selected (leave-one-out)\n\n"
            "Geometric mean over the family's networks of measured latency ÷ its leave-one-out prediction, by the "
            "plain roofline and by the selected model (1 = on target, 2 = runs twice as slow as predicted; – = not measured "
            "there). Families are the specs' `family` field.\n\n"
            + md_table(["family", *devices], rows, "l" + "r" * len(devices)))


def _transfer_section(fits: list[tuple[paper.Device, DeviceFit | None]], transfer_check: Any) -> str:
    """For every device with a ``transfer_from`` in devices.csv: the other source's selected model on its networks."""
    by = {d.device: f for d, f in fits}
    out = []
    for target in (d for d, _ in fits if d.transfer_from):
        f = by.get(target.transfer_from)
        if f is None or f.selection is None:
            continue
        t = transfer_check(f, target.dataset, target.device)
        nets = [m.label or m.model for m in paper.dataset_rows(target.dataset) if m.device == target.device and m.status == "ok"]
        out.append(f"\n## Transfer: {f.device} predicts {target.device}\n\n"
                   f"The model selected on *{f.device}* (`{t.model}`, fitted on all its {len(f.rows)} networks) predicts the "
                   f"{t.raw.n} networks of *{target.device}* ({', '.join(nets)}; {paper.DATASETS[target.dataset].citation}):\n\n"
                   + md_table(["prediction", "r_s", "median error", "worst error"],
                              [["as fitted, nothing refitted", _rs(t.raw.spearman), _pct(t.raw.median_ape), _pct(t.raw.worst_ape)],
                               [f"one scale refitted (leave-one-out over the {t.raw.n})", _rs(t.scaled_loo.spearman), _pct(t.scaled_loo.median_ape), _pct(t.scaled_loo.worst_ape)]],
                              "lrrr")
                   + f"\nThe refitted scale is {t.scale:.3g}× (the target's runtime is that much slower overall)."
                   + (" With 3 networks r_s takes only the values ±1, ±0.5: it says whether the order is kept, little more.\n" if t.raw.n == 3 else "\n"))
    return "".join(out)


# -- this machine ---------------------------------------------------------------------


CAMPAIGNS = ("local_litert_zoo_int8_measurements.csv", "local_litert_zoo_fp32_measurements.csv", "local_onnx_zoo_int8_measurements.csv")
"""Deployment-runtime campaigns (``bench --all --runtime onnxruntime|litert --dtype ...``) that local.md scores when present."""


def local_report(
    measurements: str | Path = LOCAL_DIR / "local_measurements.csv",
    calibrated: str | Path = LOCAL_DIR / "local-cpu-calibrated.yaml",
    layers: str | Path | None = LOCAL_DIR / "local_layers.csv",
) -> str:
    """The fidelity report on latencies measured on this machine (reports/fidelity/local.md).

    Reads what :func:`.local.run_local` wrote: the measurements CSV, the calibrated profile
    and (optionally) one network's per-layer times.
    """
    from ..hardware import load_hardware

    rows = read_measurements(measurements)
    hw = load_hardware(Path(calibrated))
    fit = fit_measurements(rows, name="local-cpu-fitted", dtype="fp32", source=str(measurements))
    calibrated_pred = predict_latency_s(fit.net, ModelParams(hw.peak_macs_per_s, hw.mem_bw_bytes_per_s))
    cal = score(calibrated_pred, fit.latency_s)
    threads = sorted({r.threads for r in fit.rows if r.threads})
    comments = [line[1:].strip() for line in Path(measurements).read_text(encoding="utf-8").splitlines() if line.startswith("#")]
    out = [
        "# Roofline fidelity on this machine\n\n",
        f"Generated by `mncost.fidelity.report.local_report()` from files written by "
        f"`mncost.fidelity.local.run_local()`; regenerate the measurements and the report with\n"
        "`mncost fidelity local --output-dir reports/fidelity` (about 2 minutes on 2 cores), or only "
        f"the report from the committed measurements with\n`{LOCAL_COMMAND}`.\n\n",
        "Measurement notes (from the CSV header):\n\n" + "".join(f"- {c}\n" for c in comments if c) + "\n",
        f"## Calibrated profile (`{calibrated}`)\n\n",
        f"{hw.title}: peak {hw.peak_macs_per_s:.3g} MAC/s, bandwidth {hw.mem_bw_bytes_per_s / 1e9:.3g} GB/s, "
        f"ridge {hw.ridge_macs_per_byte:.3g} MACs/byte. {hw.note}\n\n"
        f"Sources: {hw.sources.get('peak_macs_per_s', '')}; {hw.sources.get('mem_bw_bytes_per_s', '')}.\n\n",
        f"The plain roofline with these *measured roofs* (nothing fitted to latency, so no leave-one-out is needed): "
        f"r_s {_rs(cal.spearman)}, |error| median {_pct(cal.median_ape)}, worst {_pct(cal.worst_ape)}; it predicts "
        f"{np.median(calibrated_pred / fit.latency_s):.2g}× the measured time at the median.\n\n",
        f"## Fitted to the measurements ({len(fit.rows)} networks, fp32, {', '.join(map(str, threads)) or '?'} thread(s))\n\n",
        render_fit(fit),
        _local_reading(fit, cal, float(np.median(calibrated_pred / fit.latency_s))),
        "\n## Measured and leave-one-out predicted latency (ms)\n\n",
    ]
    r = fit.refined
    table = []
    for k, m in enumerate(fit.rows):
        table.append([m.model, f"{m.alpha:g}", str(fit.resolutions[k]), f"{fit.net.macs_total[k] / 1e6:.0f}", f"{m.latency_ms:.3g}",
                      f"{m.latency_iqr_ms:.2g}" if m.latency_iqr_ms is not None else "–", f"{calibrated_pred[k] * 1e3:.3g}",
                      f"{fit.macs.loo_predicted_s[k] * 1e3:.3g}", f"{fit.plain.loo_predicted_s[k] * 1e3:.3g}",
                      f"{r.loo_predicted_s[k] * 1e3:.3g}" if r else "–"])
    out.append(md_table(["model", "α", "res", "MMACs", "measured", "IQR", "calibrated roofline", "MACs LOO", "roofline LOO", "selected LOO (nested)"], table, "l" + "r" * 9))
    if layers is not None and Path(layers).is_file():
        out.append(_layer_section(Path(layers), fit))
    for name in CAMPAIGNS:
        campaign = Path(measurements).parent / name
        if campaign.is_file():
            out.append(campaign_section(campaign))
    fitted = Path(measurements).parent / "local-cpu-fitted.yaml"
    if fitted.is_file():
        out.append(f"\nThe fitted profile (plain roofline; the selected model under `refinements:`): `{fitted}`.\n")
    return "".join(out)


def _noise_verdict(noisy: int, n: int) -> str:
    """What a campaign's noise figures allow: a few flagged networks are doubtful medians, many a busy machine."""
    if not noisy:
        return "Quiet enough to trust the medians."
    if noisy <= n // 10:
        return "Quiet but for those: their medians are less certain than the rest."
    return ("Those networks were not measured on a quiet machine (other jobs, or the host's own variation): these figures "
            "describe a busy machine and are not a calibration of the CPU.")


def campaign_section(path: str | Path) -> str:
    """A benchmark campaign's CSV (e.g. ``bench --all --runtime onnxruntime --dtype int8``), fitted and scored,
    with every network's noise figure and an honest word on how noisy the machine was."""
    from .timing import NOISY

    rows = read_measurements(path)
    dtype = next((r.dtype for r in rows if r.dtype), "int8")
    fit = fit_measurements(rows, name=Path(path).stem, dtype=dtype, source=str(path))
    noise = np.array([(r.latency_iqr_ms or 0.0) / r.latency_ms for r in fit.rows])
    comments = [line[1:].strip() for line in Path(path).read_text(encoding="utf-8").splitlines() if line.startswith("#")]
    s = fit.selection
    table = []
    for k, m in enumerate(fit.rows):
        table.append([m.name, f"{fit.net.macs_total[k] / 1e6:.0f}", f"{m.latency_ms:.3g}", f"{noise[k]:.1%}", str(m.runs or "–"),
                      f"{fit.macs.loo_predicted_s[k] * 1e3:.3g}", f"{fit.plain.loo_predicted_s[k] * 1e3:.3g}",
                      f"{s.loo_predicted_s[k] * 1e3:.3g}" if s else "–"])
    noisy = int(np.sum(noise > NOISY))
    return (f"\n## Campaign: `{Path(path).name}`\n\n" + "".join(f"- {c}\n" for c in comments if c)
            + f"\n**Noise**: IQR / median per network from {noise.min():.1%} to {noise.max():.1%} (median {np.median(noise):.1%}); "
            f"{noisy} of {len(noise)} networks above the {NOISY:.0%} mark at which `bench` warns. "
            + _noise_verdict(noisy, len(noise))
            + f"\n\nLeave-one-out r_s / median error: MACs alone {_cell(fit.macs.loo)}, plain roofline {_cell(fit.plain.loo)}, "
            f"selected {_cell(s.loo) if s else '–'} (`{s.chosen.name if s else '–'}`).\n\n"
            + md_table(["network", "MMACs", "measured ms", "noise", "runs", "MACs LOO", "plain LOO", "selected LOO"], table, "l" + "r" * 7))


def _local_reading(fit: DeviceFit, cal: Scores, ratio: float) -> str:
    p, m, r = fit.plain, fit.macs, fit.refined
    text = (
        f"\n**Reading.** With nothing fitted, the calibrated roofs already rank the networks well (r_s {_rs(cal.spearman)}) "
        f"but predict {ratio:.2g}× the measured time at the median: eager fp32 torch runs these layers well below the "
        f"large-matmul and large-copy roofs. Fitted, the plain roofline ranks better than MACs alone under leave-one-out (r_s "
        f"{_rs(p.loo.spearman)} vs {_rs(m.loo.spearman)}; median |error| {_pct(p.loo.median_ape)} vs {_pct(m.loo.median_ape)})."
    )
    if r is not None:
        text += (
            f" The selected model (`{r.chosen.name}`) changes the LOO median |error| {_pct(p.loo.median_ape)} → "
            f"{_pct(r.loo.median_ape)} and the worst {_pct(p.loo.worst_ape)} → {_pct(r.loo.worst_ape)} (r_s "
            f"{_rs(p.loo.spearman)} → {_rs(r.loo.spearman)}): what it fits here is in the table above."
        )
    return text + "\n"


def _layer_section(path: Path, fit: DeviceFit) -> str:
    import csv

    with path.open(encoding="utf-8") as handle:
        lines = [line for line in handle if not line.startswith("#")]
    rows = list(csv.DictReader(lines))
    if not rows:
        return ""
    title = rows[0].get("network", "")
    groups: dict[str, list[float]] = {}
    for row in rows:
        g = groups.setdefault(row["group"], [0.0, 0.0, 0.0, 0.0])
        g[0] += float(row["measured_s"])
        g[1] += float(row["calibrated_s"])
        g[2] += float(row["fitted_s"])
        g[3] += 1
    table = [[name, str(int(v[3])), f"{v[0] * 1e3:.3g}", f"{v[1] * 1e3:.3g}", f"{v[2] * 1e3:.3g}"] for name, v in sorted(groups.items(), key=lambda kv: -kv[1][0])]
    total = [sum(v[i] for v in groups.values()) for i in range(3)]
    table.append(["**total**", str(len(rows)), f"{total[0] * 1e3:.3g}", f"{total[1] * 1e3:.3g}", f"{total[2] * 1e3:.3g}"])
    return (f"\n## Per layer: {title}\n\nMedian time per layer from forward hooks (`bench(..., layer_runs=N)`), summed by layer group, "
            "against the plain roofline with the calibrated roofs and with the selected model "
            f"(`{path}` has every layer).\n\n"
            + md_table(["group", "layers", "measured ms", "calibrated roofline ms", "selected model ms"], table, "lrrrr"))
