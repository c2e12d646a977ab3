"""The view of a ``pick`` result: per profile, the picks within the budget and the frontier
around it; pure functions of the PickResult, one per format."""

from __future__ import annotations

import csv
import io
from typing import Any

from ..jsonio import dumps
from ..pick import Candidate, PickResult, ProfilePick
from ..render import seconds
from ..text import markup
from .formats import Format, md_table, rich_to_text

CSV_COLUMNS = ["hardware", "role", "rank", "model", "alpha", "resolution", "width_rule", "top1", "latency_s", "margin_s",
               "fits", "macs", "params", "source", "plain_latency_s", "prediction"]


def render(result: PickResult, fmt: Format) -> str:
    if fmt is Format.csv:
        return to_csv(result)
    if fmt is Format.json:
        return dumps(result.to_dict(), indent=1)
    if fmt is Format.md:
        return to_markdown(result)
    return rich_to_text(rich_pick(result))


def _rows(p: ProfilePick) -> list[tuple[str, int, Candidate]]:
    """(role, rank, candidate): the picks, then the frontier points around the budget."""
    rows = [("pick", i, c) for i, c in enumerate(p.picks, start=1)]
    rows += [("frontier", i, c) for i, c in enumerate(p.near, start=1)]
    if p.fastest_over is not None:
        rows.append(("fastest_over_budget", 1, p.fastest_over))
    return rows


def to_csv(result: PickResult) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for p in result.profiles:
        for role, rank, c in _rows(p):
            writer.writerow([p.hardware, role, rank, c.model, c.alpha, c.resolution, c.width_rule, c.top1, c.latency_s,
                             result.budget_s - c.latency_s, c.latency_s <= result.budget_s, c.macs, c.params, c.source,
                             c.plain_latency_s, p.prediction])
    return buffer.getvalue()


def _summary(result: PickResult) -> list[list[str]]:
    rows = []
    for p in result.profiles:
        best = p.best
        nxt = p.next_better
        rows.append([
            p.hardware,
            best.label if best else "– (nothing fits)",
            f"{best.top1:g}" if best else "–",
            seconds(best.latency_s) if best else "–",
            (seconds(p.margin_s) if p.margin_s >= 0 else f"over by {seconds(-p.margin_s)}") if p.margin_s is not None else "–",
            f"{nxt.label}: {nxt.top1:g} at {seconds(nxt.latency_s)}" if nxt else "–",
        ])
    return rows


SUMMARY_HEADERS = ["hardware", "best under budget", "top-1", "latency", "margin", "next on the frontier"]


def _title(result: PickResult) -> str:
    floor = f", top-1 ≥ {result.min_top1:g}" if result.min_top1 is not None else ""
    return f"Pick: budget {seconds(result.budget_s)} per image{floor}; {result.candidates} configurations with a published top-1"


def _changes_line(result: PickResult) -> str:
    if len(result.profiles) < 2:
        return ""
    if not result.choice_changes:
        return "The choice is the same on every profile."
    return "The choice changes between profiles: " + "; ".join(f"{p.hardware} → {p.best.label if p.best else 'nothing fits'}" for p in result.profiles) + "."


def to_markdown(result: PickResult) -> str:
    parts = [f"# {_title(result)}\n", md_table(SUMMARY_HEADERS, _summary(result), "llrrrl")]
    line = _changes_line(result)
    if line:
        parts.append(line + "\n")
    for p in result.profiles:
        parts.append(f"## {p.hardware}\n\nLatency: {p.prediction}.\n")
        parts.append(md_table(["role", "#", "configuration", "width rule", "top-1", "latency", "margin"],
                              [[role, rank, c.label, c.width_rule, f"{c.top1:g}", seconds(c.latency_s), _margin(result.budget_s - c.latency_s)]
                               for role, rank, c in _rows(p)], "lrllrrr"))
    if result.skipped:
        parts.append("Skipped: " + "; ".join(result.skipped) + "\n")
    return "\n".join(parts)


def _margin(value: float) -> str:
    return seconds(value) if value >= 0 else f"−{seconds(-value)}"


def rich_pick(result: PickResult) -> Any:
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    summary = Table(title=markup(_title(result)), title_justify="left", header_style="bold")
    for col in SUMMARY_HEADERS:
        summary.add_column(col, justify="right" if col in ("top-1", "latency", "margin") else "left")
    for row in _summary(result):
        summary.add_row(*(markup(cell) for cell in row))  # names come from files: never markup
    parts: list[Any] = [summary]
    line = _changes_line(result)
    if line:
        parts.append(Text(line))
    for p in result.profiles:
        table = Table(title=f"{markup(p.hardware)}: {p.fitting} of {result.candidates} fit; latency: {markup(p.prediction)}", title_justify="left",
                      header_style="bold")
        for col in ("role", "#", "configuration", "width rule", "top-1", "latency", "margin"):
            table.add_column(col, justify="right" if col in ("#", "top-1", "latency", "margin") else "left", no_wrap=col == "configuration")
        for role, rank, c in _rows(p):
            table.add_row(role, str(rank), markup(c.label), markup(c.width_rule), f"{c.top1:g}", seconds(c.latency_s), _margin(result.budget_s - c.latency_s))
        parts.append(table)
    if result.skipped:
        parts.append(Text("Skipped: " + "; ".join(result.skipped)))
    return Group(*parts)
