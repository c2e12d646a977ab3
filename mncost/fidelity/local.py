"""A fidelity study of this machine: calibrate its roofs, benchmark the built-in grid, fit
and score the roofline on the measurements, and write the files ``reports/fidelity/``
holds (``mncost fidelity local``). The report itself is :func:`.report.local_report`.
"""

from __future__ import annotations

import math
from pathlib import Path

from .device import fit_measurements
from .report import LOCAL_DIR, local_report


def run_local(
    out_dir: str | Path = LOCAL_DIR,
    *,
    threads: int | None = 1,
    quick: bool = False,
    layer_model: tuple[str, float, int | None] = ("v2", 1.0, 224),
) -> str:
    """Calibrate, benchmark the built-in grid, write the measurements and profiles, return the report.

    Writes ``local-cpu-calibrated.yaml``, ``local_measurements.csv``, ``local_layers.csv``,
    ``local-cpu-fitted.yaml`` and ``local.md`` under ``out_dir``.
    """
    import os
    import platform

    from ..output import write_atomic
    from ..spec import load_spec
    from ..walker import walk
    from .bench import bench, bench_all, bench_grid
    from .calibrate import calibrate, calibration_profile, cpu_model
    from .measurements import format_measurements
    from .model import build_network_set, layer_group, layer_times_s
    from .profile import check_profile, write_profile

    out = Path(out_dir)
    cal = calibrate(threads=threads, quick=quick)
    profile = calibration_profile(cal)
    write_profile(out / "local-cpu-calibrated.yaml", profile, comments=("Written by mncost.fidelity.local.run_local (mncost.fidelity.calibrate).",))
    load_before = os.getloadavg()
    rows = bench_all(bench_grid(quick=quick), threads=threads, quick=quick)
    load_after = os.getloadavg()
    notes = (
        f"Measured by mncost.fidelity.local.run_local: bench_all(threads={threads}), torch {cal.torch_version} eager fp32, "
        "batch 1, BN folded, median of the timed runs (IQR beside).",
        f"Machine: {cpu_model() or platform.processor()}, {os.cpu_count()} logical CPUs; load average "
        f"{load_before[0]:.2f} before, {load_after[0]:.2f} after (the run itself keeps one core busy: up to 1 of that is its own).",
    )
    write_atomic(out / "local_measurements.csv", format_measurements(rows, comments=notes))
    fit = fit_measurements(rows, name="local-cpu-fitted", dtype="fp32", source=str(out / "local_measurements.csv"))
    fit.write_profile(out / "local-cpu-fitted.yaml")
    model, alpha, res = layer_model if not quick else ("v2", 0.35, 32)
    hw = check_profile(profile)
    result = bench(model, alpha=alpha, resolution=res, threads=threads, hw=hw, layer_runs=3 if quick else 30, runs=3 if quick else 30)
    refined = fit.refined.fit.params if fit.refined else fit.plain.fit.params
    w = walk(load_spec(model), alpha=alpha, resolution=res)
    fitted = layer_times_s(build_network_set([w], weight_dtype="fp32", activation_dtype="fp32"), refined)
    lines = ["network,layer,op,group,measured_s,calibrated_s,fitted_s"]
    for layer, lb, tf in zip(w.layers, result.layers, fitted):
        if not math.isnan(lb.measured_s):
            lines.append(f"{model} α={alpha:g} r{res},{layer.name},{layer.op},{layer_group(layer)},{lb.measured_s:.6g},{lb.predicted_s:.6g},{tf:.6g}")
    write_atomic(out / "local_layers.csv", f"# per-layer medians of {result.runs} hooked runs, threads={result.threads}\n" + "\n".join(lines) + "\n")
    text = local_report(out / "local_measurements.csv", out / "local-cpu-calibrated.yaml", out / "local_layers.csv")
    write_atomic(out / "local.md", text)
    return text
