"""The view of a ``mncost bench`` result: measured against predicted latency, per layer and in total."""

from __future__ import annotations

import math
from typing import Any

from ..fidelity.timing import NOISY
from ..hardware import HardwareProfile
from ..jsonio import dumps
from ..render import seconds
from ..text import markup, md
from .formats import Format, csv_text, md_table, rich_to_text


def _runtime(result: Any) -> str:
    runtime = getattr(result, "runtime", "torch")
    if runtime == "onnxruntime":
        return f"ONNX Runtime {result.dtype}" + (" (static QDQ quantization)" if result.dtype == "int8" else "") + ", BN folded"
    if runtime == "litert":
        return f"LiteRT XNNPACK {result.dtype}" + (" (full-integer post-training quantization)" if result.dtype == "int8" else "") + ", BN folded"
    return "torch eager fp32, BN folded"


def _rows(result: Any) -> list[tuple[str, str, float, float]]:
    return [(x.name, x.op, x.measured_s, x.predicted_s) for x in result.layers]


def summary(result: Any, profile: HardwareProfile) -> list[tuple[str, str]]:
    ratio = result.latency_s / result.predicted_s if result.predicted_s else math.nan
    return [
        ("model", f"{result.model} α={result.alpha:g}, resolution {result.resolution}, width rule {result.width_rule}"),
        ("measured", f"{seconds(result.latency_s)} median of {result.runs} runs (IQR {seconds(result.latency_iqr_s)}, min {seconds(result.latency_min_s)}), {result.threads} thread(s), {_runtime(result)}"),
        ("noise", f"{result.noise:.1%} (IQR / median){'  TOO NOISY: the machine is busy, do not trust this measurement' if result.noise > NOISY else ''}"),
        ("predicted", f"{seconds(result.predicted_s)} by the roofline of {profile.name} ({profile.peak_macs_per_s:.3g} MAC/s, {profile.mem_bw_bytes_per_s / 1e9:.3g} GB/s)"),
        ("measured / predicted", f"{ratio:.2f}"),
        *([("refined prediction", f"{seconds(result.refined_predicted_s)} by {profile.name}'s refined model (measured / refined {result.latency_s / result.refined_predicted_s:.2f})")]
          if result.refined_predicted_s else []),
        ("per-layer sum", f"{seconds(result.layer_sum_s)} (hooked runs; the gap to the total is framework overhead between layers)"
         if any(not math.isnan(x.measured_s) for x in result.layers) else "– (no per-layer times: the runtime runs the whole graph)"),
    ]


def rich_bench(result: Any, profile: HardwareProfile) -> Any:
    from rich.console import Group
    from rich.table import Table

    table = Table(title="slowest measured layers", title_justify="left", header_style="bold")
    for col in ("layer", "op", "measured", "predicted", "measured / predicted"):
        table.add_column(col, justify="left" if col in ("layer", "op") else "right")
    timed = [r for r in _rows(result) if not math.isnan(r[2])]
    if not timed:
        table = Table(title="no per-layer times (this runtime runs the whole graph)", title_justify="left")
    for name, op, measured, predicted in sorted(timed, key=lambda r: -r[2])[:20]:
        table.add_row(markup(name), op, seconds(measured), seconds(predicted), f"{measured / predicted:.2f}" if predicted else "–")
    head = Table(show_header=False, box=None)
    head.add_column(style="bold")
    head.add_column()
    for key, value in summary(result, profile):
        head.add_row(key, markup(value))
    return Group(head, table)


def render(result: Any, profile: HardwareProfile, fmt: Format) -> str:
    if fmt is Format.json:
        return dumps({
            "model": result.model, "alpha": result.alpha, "resolution": result.resolution, "width_rule": result.width_rule,
            "hardware": profile.name, "threads": result.threads, "runs": result.runs,
            "latency_s": result.latency_s, "latency_iqr_s": result.latency_iqr_s, "latency_min_s": result.latency_min_s,
            "noise": result.noise, "runtime": getattr(result, "runtime", "torch"), "dtype": getattr(result, "dtype", "fp32"),
            "predicted_s": result.predicted_s, "refined_predicted_s": result.refined_predicted_s,
            "layers": [{"name": n, "op": o, "measured_s": m, "predicted_s": p} for n, o, m, p in _rows(result)],  # NaN → null
        })
    if fmt is Format.csv:
        return csv_text([{"name": n, "op": o, "measured_s": "" if math.isnan(m) else f"{m:.6g}", "predicted_s": f"{p:.6g}"} for n, o, m, p in _rows(result)],
                        ["name", "op", "measured_s", "predicted_s"])
    if fmt is Format.table:
        return rich_to_text(rich_bench(result, profile))
    text = md_table(["quantity", "value"], summary(result, profile))
    rows = [(md(n), o, "–" if math.isnan(m) else seconds(m), seconds(p)) for n, o, m, p in _rows(result)]
    return f"# Benchmark of {md(result.model)}\n\n" + text + "\n" + md_table(["layer", "op", "measured", "predicted"], rows, "llrr")
