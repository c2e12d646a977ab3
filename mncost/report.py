"""Report folders: report.md, report.html, the tables as CSV and JSON, and charts (PNG + SVG)."""

from __future__ import annotations

import shlex
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from . import plots
from .analysis import AnalysisResult
from .views.document import Code, Document, Heading, Image, Paragraph, Table
from .jsonio import dumps
from .render import count, op_label, seconds, shape, summary_rows, to_csv, to_json
from .sweep import pareto_axis, rank_changes
from .top1_frontier import frontier_line, partial, with_top1
from .views.sweep import flip_table, rank_change_table, ranked_table, records, ridge_table

if TYPE_CHECKING:
    import pandas as pd

    from .ridge import Flip

CONVENTIONS = (
    "Counting conventions: 1 MAC = one multiply-accumulate of a convolution, fully connected layer or attention "
    "product; BatchNorm folded into the preceding conv (its parameters reported apart); activation bytes = each "
    "layer's input read plus output written once at the activation dtype (conv + BN + activation fused); weight "
    "bytes = parameters × weight dtype. Latency = Σ_layers max(MACs / peak, bytes / bandwidth), the roofline of the "
    "MobileNetV4 paper (Qin et al. 2024, Eq. 1). See the mncost README for the full table."
)


def _command(argv: Sequence[str] | None) -> list[Heading | Code | Paragraph]:
    if not argv:
        return []
    return [Heading("Reproduce"), Code("mncost " + " ".join(shlex.quote(a) for a in argv))]


def _finish(doc: Document, folder: Path) -> None:
    (folder / "report.md").write_text(doc.to_markdown(), encoding="utf-8")
    (folder / "report.html").write_text(doc.to_html(), encoding="utf-8")


def model_report(result: AnalysisResult, folder: Path, argv: Sequence[str] | None = None) -> None:
    """One model on one profile: summary, time by block kind, roofline chart, every layer."""
    doc = Document(f"{result.model} on {result.hardware}")
    doc.add(Table(["quantity", "value"], [(f"**{k}**", v) for k, v in summary_rows(result)], "ll"))
    total = result.totals.latency_s or 1.0
    kinds: dict[str, list[float]] = {}
    for layer in result.layers:
        k = kinds.setdefault(layer.kind, [0.0, 0, 0.0, 0])
        k[0] += layer.latency_s
        k[1] += layer.macs
        k[2] += layer.latency_s if layer.bound == "memory" else 0.0
        k[3] += 1
    doc.add(Heading("Where the time goes, by block kind"))
    doc.add(Table(
        ["kind", "layers", "MACs", "share of MACs", "predicted time", "share of time", "memory-bound time"],
        [
            (kind, int(v[3]), count(int(v[1])), f"{v[1] / max(result.totals.macs, 1):.1%}", seconds(v[0]), f"{v[0] / total:.1%}", f"{v[2] / v[0]:.0%}" if v[0] else "–")
            for kind, v in sorted(kinds.items(), key=lambda kv: -kv[1][0])
        ],
        "lrrrrrr",
    ))
    plots.roofline_chart(result, folder)
    doc.add(Heading("Roofline"), Image("roofline.png", f"Layers of {result.model} under the roofs of {result.hardware}; marker area is proportional to predicted time"))
    slowest = sorted(result.layers, key=lambda x: -x.latency_s)[:10]
    doc.add(Heading("The ten slowest layers"))
    doc.add(Table(["layer", "op", "in → out", "MACs", "bytes", "MAC/B", "time", "bound"], [
        (x.name, op_label(x.op, x.kind), f"{shape(x.in_shape)} → {shape(x.out_shape)}", count(x.macs), count(x.weight_bytes + x.activation_bytes), f"{x.intensity:.1f}", seconds(x.latency_s), x.bound)
        for x in slowest
    ], "lllrrrrl"))
    doc.add(Heading("All layers"))
    doc.add(Table(["layer", "op", "in → out", "MACs", "params", "weight bytes", "activation bytes", "MAC/B", "time", "bound"], [
        (x.name, op_label(x.op, x.kind), f"{shape(x.in_shape)} → {shape(x.out_shape)}", count(x.macs), count(x.params), count(x.weight_bytes), count(x.activation_bytes), f"{x.intensity:.1f}", seconds(x.latency_s), x.bound)
        for x in result.layers
    ], "lllrrrrrrl"))
    doc.add(Paragraph("Files: `layers.csv` (one row per layer, raw numbers), `result.json` (the `mncost analyze --format json` schema), `roofline.png` / `roofline.svg`."))
    doc.add(Heading("Conventions"), Paragraph(CONVENTIONS), *_command(argv))
    (folder / "layers.csv").write_text(to_csv(result), encoding="utf-8")
    (folder / "result.json").write_text(to_json(result), encoding="utf-8")
    _finish(doc, folder)


def sweep_document(df: pd.DataFrame, rank_by: str) -> Document:
    axis = pareto_axis(df)
    doc = Document("Sweep: ranking per hardware")
    models = ", ".join(dict.fromkeys(df["model"]))
    doc.add(Paragraph(
        f"{len(df)} rows: models {models}; α {', '.join(f'{a:g}' for a in sorted(df['alpha'].unique()))}; "
        f"resolutions {', '.join(str(r) for r in sorted(df['resolution'].unique()))}; hardware {', '.join(dict.fromkeys(df['hardware']))}. "
        f"Ranked by `{rank_by}` within each hardware; Pareto frontier of latency against "
        + ("published ImageNet top-1." if axis == "top1" else "MACs (no published top-1 for every variant).")
    ))
    for hw, group in df.groupby("hardware", sort=False):
        doc.add(Heading(f"{hw}"))
        doc.add(ranked_table(group))
        if line := frontier_line(df, str(hw)):  # the top-1 frontier over the rows with a published number
            doc.add(Paragraph(line))
    changes = rank_changes(df)
    doc.add(Heading("Variants that change rank between hardware"))
    if len(changes):
        doc.add(rank_change_table(changes))
    else:
        doc.add(Paragraph("None: every variant has the same rank on every hardware profile."))
    return doc


def sweep_report(df: pd.DataFrame, folder: Path, rank_by: str, argv: Sequence[str] | None = None) -> None:
    doc = sweep_document(df, rank_by)
    if df["alpha"].nunique() > 1:
        plots.latency_lines(df, "alpha", folder, "latency_vs_alpha")
        doc.add(Heading("Latency against width"), Image("latency_vs_alpha.png", "Predicted latency against the width multiplier α, per hardware"))
    if df["resolution"].nunique() > 1:
        plots.latency_lines(df, "resolution", folder, "latency_vs_resolution")
        doc.add(Heading("Latency against resolution"), Image("latency_vs_resolution.png", "Predicted latency against input resolution, per hardware"))
    axis = pareto_axis(df)
    plots.pareto_chart(df, axis, folder)
    doc.add(Heading("Pareto frontier"), Image("pareto.png", f"Latency against {'published top-1' if axis == 'top1' else 'MACs'}, per hardware; the frontier in red"))
    if partial(df):  # some rows have a published top-1: the frontier a user decides on
        plots.pareto_chart(with_top1(df), "top1", folder, "pareto_top1")
        doc.add(Heading("Top-1 against latency"), Image("pareto_top1.png", "Published ImageNet top-1 against predicted latency, per hardware, over the rows with a published number; the frontier in red"))
    doc.add(Paragraph("Files: `sweep.csv` and `sweep.json` (one row per model × α × resolution × hardware), charts as PNG and SVG."))
    doc.add(Heading("Conventions"), Paragraph(CONVENTIONS), *_command(argv))
    df.to_csv(folder / "sweep.csv", index=False)
    (folder / "sweep.json").write_text(dumps(records(df), indent=1), encoding="utf-8")
    _finish(doc, folder)


def ridge_document(df: pd.DataFrame, flips: list[Flip], peak: float, dtype: str) -> Document:
    doc = Document("Ridge-point sweep")
    ridges = sorted(df["ridge_macs_per_byte"].unique())
    doc.add(Paragraph(
        f"Latency = Σ max(MACs, RP × bytes) / peak at a fixed peak of {peak:.3g} MAC/s, {dtype} weights and activations, "
        f"for ridge points RP from {ridges[0]:g} to {ridges[-1]:g} MACs/byte ({len(ridges)} points). RP = 0 counts MACs only; "
        "RP ≈ 500 is accelerator-like (MobileNetV4 paper, Sec. 3). Rankings do not depend on the peak."
    ))
    doc.add(Heading("Where the ranking flips"))
    if flips:
        doc.add(flip_table(flips))
    else:
        doc.add(Paragraph("Nowhere: the ranking is the same at every ridge point swept."))
    doc.add(Heading("Latency and rank at selected ridge points"))
    doc.add(ridge_table(df))
    return doc


def ridge_report(df: pd.DataFrame, flips: list[Flip], peak: float, dtype: str, folder: Path, argv: Sequence[str] | None = None) -> None:
    doc = ridge_document(df, flips, peak, dtype)
    plots.ridge_chart(df, flips, peak, folder)
    doc.add(Heading("Chart"), Image("ridge.png", "Predicted latency against the ridge point; shaded intervals are where the ranking flips"))
    doc.add(Paragraph("Files: `ridge.csv` and `ridge.json` (one row per model × ridge point), `ridge.png` / `ridge.svg`."))
    doc.add(Heading("Conventions"), Paragraph(CONVENTIONS), *_command(argv))
    df.to_csv(folder / "ridge.csv", index=False)
    (folder / "ridge.json").write_text(dumps(records(df), indent=1), encoding="utf-8")
    _finish(doc, folder)
