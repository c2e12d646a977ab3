"""The views of a sweep (one row per variant × hardware) and of a ridge-point sweep:
the terminal tables (rich), and one function per result that renders every format."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..render import count, seconds
from ..ridge import shown_ridges
from ..sweep import pareto_axis, rank_changes, variant_label
from ..top1_frontier import frontier_line
from .document import Table, rich_table
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


def ranked_table(group: pd.DataFrame, top: int | None = None) -> Table:
    """One hardware's ranking: the same table in the terminal, markdown and HTML."""
    rows = group.sort_values(["rank", "predicted_s"])
    if top is not None:
        rows = rows.head(top)
    return Table(["rank", "variant", "MACs", "params", "latency", "memory-bound", "top-1", "Pareto"],
                 [_ranked_row(r) for _, r in rows.iterrows()], "rlrrrrrc")


def _ranked_row(row: Any) -> list[str]:
    top1 = "–" if row["top1"] != row["top1"] else f"{row['top1']:g}"
    return [
        str(row["rank"]), variant_label(row), count(int(row["macs"])), count(int(row["params"])), seconds(row["predicted_s"]),
        f"{row['memory_bound_share']:.0%}", top1, "✓" if row["pareto"] else "",
    ]


def rank_change_table(changes: pd.DataFrame, top: int | None = None) -> Table:
    """The variants whose rank differs between hardware (``sweep.rank_changes``)."""
    hws = [c for c in changes.columns if c not in ("variant", "best", "worst", "spread")]
    rows = changes if top is None else changes.head(top)
    return Table(["variant", *[f"rank on {h}" for h in hws], "best on", "worst on", "spread"], [
        [r["variant"], *[str(int(r[h])) for h in hws], r["best"], r["worst"], str(r["spread"])] for _, r in rows.iterrows()
    ], "l" + "r" * len(hws) + "llr")


def ridge_table(df: pd.DataFrame) -> Table:
    """Latency and rank per model at the ridge points worth showing (``ridge.shown_ridges``)."""
    picks = shown_ridges(sorted(df["ridge_macs_per_byte"].unique()))
    sub = df[df["ridge_macs_per_byte"].isin(picks)]
    lat = sub.pivot(index="model", columns="ridge_macs_per_byte", values="latency_s")
    rank = sub.pivot(index="model", columns="ridge_macs_per_byte", values="rank")
    return Table(["model", *[f"RP {p:g}" for p in picks]], [
        [model, *[f"{seconds(lat.loc[model, p])} (#{int(rank.loc[model, p])})" for p in picks]] for model in lat.index
    ], "l" + "r" * len(picks))


def flip_table(flips: list[Flip]) -> Table:
    """Every pair of models whose order flips between two neighbouring ridge points."""
    return Table(["between RP", "and RP", "becomes faster", "than"], [(f"{f.ridge_lo:g}", f"{f.ridge_hi:g}", f.faster, f.slower) for f in flips], "rrll")


def rich_sweep(df: pd.DataFrame, rank_by: str, top: int) -> Any:
    from rich.console import Group
    from rich.text import Text

    parts: list[Any] = []
    axis = pareto_axis(df)
    for hw, group in df.groupby("hardware", sort=False):
        title = f"{hw}: ranked by {rank_by}" + (f" (top {top} of {len(group)})" if len(group) > top else "")
        parts.append(rich_table(ranked_table(group, top), title, no_wrap_first=False))
        front = group[group["pareto"]].sort_values("predicted_s")
        parts.append(Text(f"Pareto frontier (latency vs {'top-1' if axis == 'top1' else 'MACs'}): " + ", ".join(variant_label(r) for _, r in front.iterrows())))
        if line := frontier_line(df, str(hw)):  # the top-1 frontier over the rows with a published number
            parts.append(Text(line))
    changes = rank_changes(df)
    if len(changes):
        parts.append(rich_table(rank_change_table(changes, 20), "Variants that change rank between hardware"))
    elif df["hardware"].nunique() > 1:
        parts.append(Text("Every variant has the same rank on every hardware profile."))
    return Group(*parts)


def rich_ridge(df: pd.DataFrame, flips: list[Flip]) -> Any:
    from rich.console import Group
    from rich.text import Text

    parts: list[Any] = [rich_table(ridge_table(df), "Predicted latency (rank) by ridge point (MACs/byte)", no_wrap_first=True)]
    if flips:
        parts.append(rich_table(flip_table(flips), "Where the ranking flips"))
    else:
        parts.append(Text("The ranking is the same at every ridge point swept."))
    return Group(*parts)
