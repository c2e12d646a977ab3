"""The frontier users decide on: published top-1 against predicted latency, per hardware.

A sweep's own ``pareto`` column uses top-1 only when every row has a published number
(else MACs stand in for capacity). This module draws the top-1 frontier over the rows
that do have one, so a sweep mixing published and unpublished configurations still shows
what accuracy each latency buys. Rows without a published top-1 are left out, never
estimated.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .render import seconds
from .sweep import pareto_mask, variant_label

if TYPE_CHECKING:
    import pandas as pd


def with_top1(df: pd.DataFrame) -> pd.DataFrame:
    """The rows with a published top-1, their ``pareto`` column recomputed on top-1 per hardware."""
    sub = df[df["top1"].notna()].copy()
    for _, group in sub.groupby("hardware", sort=False):
        sub.loc[group.index, "pareto"] = pareto_mask(group["latency_s"].tolist(), group["top1"].astype(float).tolist())
    return sub


def partial(df: pd.DataFrame) -> bool:
    """Some rows have a published top-1 but not all: the sweep's own frontier is on MACs."""
    has = df["top1"].notna()
    return bool(has.any()) and not bool(has.all())


def frontier_rows(df: pd.DataFrame) -> list[tuple[str, str]]:
    """(hardware, 'variant (top-1 at latency), …') for the top-1 frontier of each hardware."""
    sub = with_top1(df)
    out = []
    for hw, group in sub.groupby("hardware", sort=False):
        front = group[group["pareto"]].sort_values("latency_s")
        out.append((str(hw), ", ".join(f"{variant_label(r)} ({r['top1']:g} at {seconds(r['latency_s'])})" for _, r in front.iterrows())))
    return out


def frontier_line(df: pd.DataFrame, hw: str) -> str:
    """One hardware's top-1 frontier as a sentence (empty when the sweep's own frontier is already on top-1)."""
    if not partial(df):
        return ""
    text = dict(frontier_rows(df)).get(hw, "")
    return f"Top-1 frontier (latency vs published top-1, the {int(df[df['hardware'] == hw]['top1'].notna().sum())} rows that have one): {text}" if text else ""
