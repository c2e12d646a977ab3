"""Charts (matplotlib, PNG and SVG). Imported only by the report command."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from .extras import require

if TYPE_CHECKING:
    import pandas as pd

    from .analysis import AnalysisResult
    from .ridge import Flip


def _pyplot() -> Any:
    (matplotlib,) = require("matplotlib", what="drawing charts")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams.update({"figure.dpi": 110, "axes.grid": True, "grid.alpha": 0.3, "svg.hashsalt": "mncost", "font.size": 9})
    return plt


def _save(fig: Any, folder: Path, stem: str) -> list[str]:
    names = []
    for ext in ("png", "svg"):
        name = f"{stem}.{ext}"
        fig.savefig(folder / name, bbox_inches="tight", metadata={"Date": None} if ext == "svg" else {})
        names.append(name)
    import matplotlib.pyplot as plt

    plt.close(fig)
    return names


def roofline_chart(result: AnalysisResult, folder: Path, stem: str = "roofline") -> list[str]:
    """Each layer at (operational intensity, attained MAC/s) under the hardware's roofs."""
    plt = _pyplot()
    import numpy as np

    hw = result.profile
    fig, ax = plt.subplots(figsize=(7.5, 4.8))
    layers = [x for x in result.layers if x.macs > 0]
    intensity = np.array([x.intensity for x in layers])
    attained = np.array([x.macs / x.latency_s for x in layers])
    share = np.array([x.latency_s for x in layers]) / result.totals.latency_s
    lo = max(min(intensity.min() / 2, hw.ridge_point / 10), 1e-2)
    hi = max(intensity.max() * 2, hw.ridge_point * 10)
    xs = np.logspace(np.log10(lo), np.log10(hi), 200)
    ax.plot(xs, np.minimum(hw.peak_macs_per_s, hw.mem_bw_bytes_per_s * xs), color="black", lw=1.5, label=f"roof of {hw.name}")
    ax.axvline(hw.ridge_point, color="grey", ls=":", lw=1)
    ax.annotate(f"ridge {hw.ridge_point:.1f} MAC/B", (hw.ridge_point, hw.peak_macs_per_s), textcoords="offset points", xytext=(4, -12), fontsize=8, color="grey")
    from .render import op_label

    groups = [op_label(x.op, x.kind) for x in layers]
    kinds = sorted(set(groups))
    cmap = plt.get_cmap("tab10" if len(kinds) <= 10 else "tab20")
    for i, kind in enumerate(kinds):
        idx = [j for j, g in enumerate(groups) if g == kind]
        ax.scatter(intensity[idx], attained[idx], s=12 + 1500 * share[idx], color=cmap(i % cmap.N), alpha=0.7, edgecolors="white", linewidths=0.5, label=kind)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("operational intensity (MACs / byte)")
    ax.set_ylabel("attained performance (MACs / s)")
    ax.set_title(f"{result.model} on {hw.name}: {result.totals.latency_s * 1e3:.3g} ms predicted, {result.totals.memory_bound_share:.0%} memory-bound (marker area ∝ time)")
    ax.legend(fontsize=7, loc="center left", bbox_to_anchor=(1.01, 0.5), markerscale=0.5, title="op (block kind)", title_fontsize=7)
    return _save(fig, folder, stem)


def latency_lines(df: pd.DataFrame, x: str, folder: Path, stem: str) -> list[str]:
    """Latency against ``x`` (alpha or resolution), one panel per hardware, one line per model."""
    plt = _pyplot()
    hardware = list(dict.fromkeys(df["hardware"]))
    cols = min(2, len(hardware))
    rows = -(-len(hardware) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(6 * cols, 3.6 * rows), squeeze=False)
    models = list(dict.fromkeys(df["model"]))
    cmap = plt.get_cmap("tab10" if len(models) <= 10 else "tab20")
    colors = {m: cmap(i % cmap.N) for i, m in enumerate(models)}
    other = "resolution" if x == "alpha" else "alpha"
    styles = ["-", "--", ":", "-."]
    for ax, hw in zip(axes.flat, hardware):
        sub = df[df["hardware"] == hw]
        for model, per_model in sub.groupby("model", sort=False):
            for k, (fixed, group) in enumerate(per_model.groupby(other, sort=True)):
                group = group.sort_values(x)
                suffix = f" ({other} {fixed:g})" if per_model[other].nunique() > 1 else ""
                ax.plot(group[x], group["predicted_s"] * 1e3, marker="o", ms=3, color=colors[model], ls=styles[k % len(styles)], label=f"{model}{suffix}")
        ax.set_title(hw)
        ax.set_xlabel("width multiplier α" if x == "alpha" else "input resolution (pixels)")
        ax.set_ylabel("predicted latency (ms)")
        ax.set_yscale("log")
    for ax in list(axes.flat)[len(hardware):]:
        ax.set_visible(False)
    handles, labels = axes.flat[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="center left", bbox_to_anchor=(1.0, 0.5), fontsize=7)
    fig.tight_layout()
    return _save(fig, folder, stem)


def pareto_chart(df: pd.DataFrame, axis: str, folder: Path, stem: str = "pareto") -> list[str]:
    plt = _pyplot()
    hardware = list(dict.fromkeys(df["hardware"]))
    cols = min(2, len(hardware))
    rows = -(-len(hardware) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(6 * cols, 3.8 * rows), squeeze=False)
    for ax, hw in zip(axes.flat, hardware):
        sub = df[df["hardware"] == hw]
        ax.scatter(sub["predicted_s"] * 1e3, sub[axis], s=14, color="tab:blue", alpha=0.5, label="variant")
        front = sub[sub["pareto"]].sort_values("predicted_s")
        ax.plot(front["predicted_s"] * 1e3, front[axis], color="tab:red", marker="o", ms=4, lw=1.2, label="Pareto frontier")
        step = max(1, len(front) // 10)  # label about ten frontier points, not all of them
        for _, row in front.iloc[::step].iterrows():
            name = row["model"] if row["alpha"] == 1.0 else f"{row['model']} α={row['alpha']:g}"
            ax.annotate(name, (row["predicted_s"] * 1e3, row[axis]), fontsize=6, xytext=(3, -8), textcoords="offset points")
        ax.set_xscale("log")
        if axis == "macs":
            ax.set_yscale("log")
        ax.set_title(hw)
        ax.set_xlabel("predicted latency (ms)")
        ax.set_ylabel("published ImageNet top-1 (%)" if axis == "top1" else "MACs per image")
    for ax in list(axes.flat)[len(hardware):]:
        ax.set_visible(False)
    axes.flat[0].legend(fontsize=7)
    fig.tight_layout()
    return _save(fig, folder, stem)


def ridge_chart(df: pd.DataFrame, flips: list[Flip], peak_macs_per_s: float, folder: Path, stem: str = "ridge") -> list[str]:
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7.5, 4.5))
    for model, group in df.groupby("model", sort=False):
        ax.plot(group["ridge_macs_per_byte"], group["latency_s"] * 1e3, lw=1.6, label=model)
    for flip in flips:
        ax.axvspan(flip.ridge_lo, flip.ridge_hi, color="grey", alpha=0.15)
    ax.set_xlabel("ridge point (MACs / byte): 0 = MACs only, ~500 = accelerator-like")
    ax.set_ylabel(f"predicted latency (ms) at {peak_macs_per_s:.3g} MAC/s")
    ax.set_title("Latency as the ridge point grows (shaded: the ranking flips)")
    ax.legend(fontsize=8)
    return _save(fig, folder, stem)
