"""``mncost report --pick``: the pick as a report folder, with top-1 against latency and the budget line.

Imported only by the report command (matplotlib).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from .views.document import Document, Heading, Image, Paragraph, Table
from .jsonio import dumps
from .pick import PickResult
from .views.pick import SUMMARY_HEADERS, _changes_line, _margin, _rows, _summary, _title, to_csv
from .render import seconds


def pick_chart(result: PickResult, folder: Path, stem: str = "pick") -> list[str]:
    """One panel per profile: every candidate, the top-1 frontier, the budget, the pick ringed."""
    from .plots import _pyplot, _save

    plt = _pyplot()
    n = len(result.profiles)
    cols = min(2, n)
    rows = -(-n // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(6 * cols, 3.8 * rows), squeeze=False)
    budget_ms = result.budget_s * 1e3
    for ax, p in zip(axes.flat, result.profiles):
        ax.scatter([c.latency_s * 1e3 for c in p.all], [c.top1 for c in p.all], s=14, color="tab:blue", alpha=0.5, label="configuration")
        ax.plot([c.latency_s * 1e3 for c in p.frontier], [c.top1 for c in p.frontier], color="tab:red", marker="o", ms=4, lw=1.2, label="top-1 frontier")
        ax.axvline(budget_ms, color="black", ls="--", lw=1, label=f"budget {seconds(result.budget_s)}")
        if p.best is not None:
            ax.scatter([p.best.latency_s * 1e3], [p.best.top1], s=120, facecolors="none", edgecolors="tab:green", linewidths=2, label="pick", zorder=3)
            ax.annotate(p.best.label, (p.best.latency_s * 1e3, p.best.top1), fontsize=7, xytext=(-4, 6), textcoords="offset points", ha="right")
        nxt = p.next_better
        if nxt is not None:
            ax.annotate(nxt.label, (nxt.latency_s * 1e3, nxt.top1), fontsize=6, xytext=(4, -9), textcoords="offset points")
        ax.set_xscale("log")
        ax.set_title(p.hardware)
        ax.set_xlabel("predicted latency (ms)")
        ax.set_ylabel("published ImageNet top-1 (%)")
    for ax in list(axes.flat)[n:]:
        ax.set_visible(False)
    axes.flat[0].legend(fontsize=7)
    fig.tight_layout()
    return _save(fig, folder, stem)


def pick_report(result: PickResult, folder: Path, argv: Sequence[str] | None = None) -> None:
    from .report import CONVENTIONS, _command, _finish

    doc = Document(_title(result))
    doc.add(Paragraph("Candidates: every configuration with a published ImageNet-1k top-1 (the shipped accuracy table, a spec's own "
                      "`published.top1`, or an `--accuracy` file), timed on each profile with the model `analyze` reports there "
                      "(the selected model on a fitted profile, with its leave-one-out error; else the plain roofline). The pick is the most accurate "
                      "configuration whose predicted latency fits the budget; the margin is the budget it leaves."))
    doc.add(Table(SUMMARY_HEADERS, _summary(result), "llrrrl"))
    line = _changes_line(result)
    if line:
        doc.add(Paragraph(line))
    pick_chart(result, folder)
    doc.add(Heading("Top-1 against latency"), Image("pick.png", "Published top-1 against predicted latency per profile; the frontier in red, the budget dashed, the pick ringed"))
    for p in result.profiles:
        doc.add(Heading(p.hardware))
        doc.add(Paragraph(f"Latency: {p.prediction}."))
        doc.add(Table(["role", "#", "configuration", "width rule", "top-1", "latency", "margin", "source"],
                      [[role, str(rank), c.label, c.width_rule, f"{c.top1:g}", seconds(c.latency_s), _margin(result.budget_s - c.latency_s), c.source]
                       for role, rank, c in _rows(p)], "lrllrrrl"))
    if result.skipped:
        doc.add(Paragraph("Skipped: " + "; ".join(result.skipped)))
    doc.add(Paragraph("Files: `pick.csv` and `pick.json` (the `mncost pick` formats), `pick.png` / `pick.svg`."))
    doc.add(Heading("Conventions"), Paragraph(CONVENTIONS), *_command(argv))
    (folder / "pick.csv").write_text(to_csv(result), encoding="utf-8")
    (folder / "pick.json").write_text(dumps(result.to_dict(), indent=1), encoding="utf-8")
    _finish(doc, folder)
