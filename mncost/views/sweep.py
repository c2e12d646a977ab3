"""The views of a sweep (one row per variant × hardware) and of a ridge-point sweep:
the terminal tables (rich), and one function per result that renders every format."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..render import count, seconds
from ..ridge import shown_ridges
from ..sweep import pareto_axis, rank_changes, variant_label
from ..text import markup
from ..top1_frontier import frontier_line
from .formats import Format, rich_to_text

if TYPE_CHECKING:
    import pandas as pd

    from ..ridge import Flip


def records(df: pd.DataFrame) -> list[dict[str, Any]]:
    """The frame's rows as JSON-ready dicts (NaN → None, numpy scalars → Python)."""
    import json

    loaded: list[dict[str, Any]] = json.loads(df.to_json(orient="records"))
    return loaded


def render_sweep(df: pd.DataFrame, fmt: Format, rank_by: str, top: int = 10**9) -> str:
    """A sweep as text in ``fmt``; the table is the terminal's (every row unless ``top``)."""
    if fmt is Format.csv:
        from ..sweep import csv_chunks

        return "".join(csv_chunks(df))
    if fmt is Format.json:
        from ..jsonio import dumps

        return dumps(records(df), indent=1)
    if fmt is Format.md:
        from ..report import sweep_document

        return sweep_document(df, rank_by).to_markdown()
    return rich_to_text(rich_sweep(df, rank_by, top))


def render_ridge(df: pd.DataFrame, flips: list[Flip], fmt: Format, *, peak_macs_per_s: float, dtype: str) -> str:
    """A ridge-point sweep as text in ``fmt``."""
    if fmt is Format.csv:
        return str(df.to_csv(index=False))
    if fmt is Format.json:
        from ..jsonio import dumps

        return dumps({"rows": records(df), "flips": [f.__dict__ for f in flips]}, indent=1)
    if fmt is Format.md:
        from ..report import ridge_document

        return ridge_document(df, flips, peak_macs_per_s, dtype).to_markdown()
    return rich_to_text(rich_ridge(df, flips))


def rich_sweep(df: pd.DataFrame, rank_by: str, top: int) -> Any:
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    parts: list[Any] = []
    axis = pareto_axis(df)
    for hw, group in df.groupby("hardware", sort=False):
        group = group.sort_values(["rank", "latency_s"])
        table = Table(title=f"{markup(hw)}: ranked by {rank_by}" + (f" (top {top} of {len(group)})" if len(group) > top else ""), title_justify="left", header_style="bold")
        for col, justify in (("#", "right"), ("variant", "left"), ("MACs", "right"), ("params", "right"), ("latency", "right"), ("mem-bound", "right"), ("top-1", "right"), ("Pareto", "center")):
            table.add_column(col, justify=justify, no_wrap=col == "variant")  # type: ignore[arg-type]
        for _, row in group.head(top).iterrows():
            top1 = "–" if row["top1"] != row["top1"] else f"{row['top1']:g}"
            table.add_row(str(row["rank"]), markup(variant_label(row)), count(int(row["macs"])), count(int(row["params"])), seconds(row["latency_s"]),
                          f"{row['memory_bound_share']:.0%}", top1, "[green]✓[/]" if row["pareto"] else "")
        parts.append(table)
        front = group[group["pareto"]].sort_values("latency_s")
        parts.append(Text(f"Pareto frontier (latency vs {'top-1' if axis == 'top1' else 'MACs'}): " + ", ".join(variant_label(r) for _, r in front.iterrows())))
        if line := frontier_line(df, str(hw)):  # the top-1 frontier over the rows with a published number
            parts.append(Text(line))
    changes = rank_changes(df)
    if len(changes):
        hws = [c for c in changes.columns if c not in ("variant", "best", "worst", "spread")]
        table = Table(title="Variants that change rank between hardware", title_justify="left", header_style="bold")
        table.add_column("variant", no_wrap=True)
        for h in hws:
            table.add_column(markup(h), justify="right")
        table.add_column("best on")
        table.add_column("worst on")
        for _, r in changes.head(20).iterrows():
            table.add_row(markup(r["variant"]), *[str(int(r[h])) for h in hws], markup(r["best"]), markup(r["worst"]))
        parts.append(table)
    elif df["hardware"].nunique() > 1:
        parts.append(Text("Every variant has the same rank on every hardware profile."))
    return Group(*parts)


def rich_ridge(df: pd.DataFrame, flips: list[Flip]) -> Any:
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    ridges = sorted(df["ridge_macs_per_byte"].unique())
    picks = shown_ridges(ridges)
    sub = df[df["ridge_macs_per_byte"].isin(picks)]
    lat = sub.pivot(index="model", columns="ridge_macs_per_byte", values="latency_s")
    rank = sub.pivot(index="model", columns="ridge_macs_per_byte", values="rank")
    table = Table(title="Predicted latency (rank) by ridge point (MACs/byte)", title_justify="left", header_style="bold")
    table.add_column("model", no_wrap=True)
    for p in picks:
        table.add_column(f"RP {p:g}", justify="right")
    for model in lat.index:
        table.add_row(markup(model), *[f"{seconds(lat.loc[model, p])} (#{int(rank.loc[model, p])})" for p in picks])
    parts: list[Any] = [table]
    if flips:
        ft = Table(title="Where the ranking flips", title_justify="left", header_style="bold")
        for col in ("between RP", "and RP", "becomes faster", "than"):
            ft.add_column(col)
        for f in flips:
            ft.add_row(f"{f.ridge_lo:g}", f"{f.ridge_hi:g}", markup(f.faster), markup(f.slower))
        parts.append(ft)
    else:
        parts.append(Text("The ranking is the same at every ridge point swept."))
    return Group(*parts)
