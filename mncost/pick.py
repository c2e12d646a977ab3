"""``pick()``: the most accurate configurations that fit a latency budget, per hardware profile.

The candidates are every configuration with a published top-1 (mncost.accuracy: the
shipped table for built-ins, a spec's own ``published.top1``, a user table). Each is
walked once and timed on every profile with the prediction ``analyze`` stands behind there:
the selected model on a fitted profile (``refined_latency_s``, with its leave-one-out error),
the plain roofline elsewhere (``latency_s``; kept beside it as ``plain_latency_s``). Within a profile the picks are the candidates that fit the
budget, most accurate first (ties: faster first); the frontier is the Pareto frontier of
top-1 against predicted latency, shown around the budget. Nothing here is fitted or
interpolated: a configuration without a published number is not a candidate.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from .accuracy import Accuracy, Table, entries_for
from .analysis import analyze_walk
from .errors import MncostError, OptionError
from .hardware import HardwareProfile
from .spec import ArchSpec
from .walker import walk


@dataclass(frozen=True, slots=True)
class Candidate:
    """One configuration with a published top-1 and its predicted latency on one profile."""

    model: str
    alpha: float
    resolution: int
    width_rule: str
    top1: float
    source: str
    macs: int
    params: int
    latency_s: float  # the profile's prediction: the selected model where fitted, else the plain roofline
    plain_latency_s: float = math.nan  # the plain roofline (= latency_s on profiles without refinements)

    @property
    def label(self) -> str:
        return f"{self.model} α={self.alpha:g} r={self.resolution}"

    def to_dict(self) -> dict[str, Any]:
        return {"model": self.model, "alpha": self.alpha, "resolution": self.resolution, "width_rule": self.width_rule,
                "top1": self.top1, "latency_s": self.latency_s, "plain_latency_s": self.plain_latency_s, "macs": self.macs,
                "params": self.params, "source": self.source}


@dataclass(frozen=True)
class ProfilePick:
    """The choice on one hardware profile."""

    hardware: str
    budget_s: float
    picks: tuple[Candidate, ...]          # fit the budget, most accurate first (at most `top`)
    frontier: tuple[Candidate, ...]       # Pareto frontier (latency ascending), all of it
    near: tuple[Candidate, ...]           # the frontier points around the budget
    fitting: int                          # how many candidates fit
    fastest_over: Candidate | None        # when nothing fits: the fastest candidate, and how far over it is
    all: tuple[Candidate, ...] = ()       # every candidate timed on this profile (for charts)
    prediction: str = "plain roofline"    # which model the latencies are, with its error where measured

    @property
    def best(self) -> Candidate | None:
        return self.picks[0] if self.picks else None

    @property
    def margin_s(self) -> float | None:
        """Budget left over by the best pick (negative: the fastest candidate misses by this much)."""
        if self.best is not None:
            return self.budget_s - self.best.latency_s
        return None if self.fastest_over is None else self.budget_s - self.fastest_over.latency_s

    @property
    def next_better(self) -> Candidate | None:
        """The first frontier point beyond the budget: what a slightly larger budget buys."""
        return next((c for c in self.frontier if c.latency_s > self.budget_s), None)


@dataclass(frozen=True)
class PickResult:
    budget_s: float
    min_top1: float | None
    candidates: int                       # configurations considered (after --min-top1)
    profiles: tuple[ProfilePick, ...]
    skipped: tuple[str, ...] = field(default=())  # table rows the spec cannot build, with the reason

    @property
    def choice_changes(self) -> bool:
        """The best configuration is not the same on every profile."""
        labels = {(p.best.label, p.best.width_rule) if p.best else None for p in self.profiles}
        return len(labels) > 1

    def to_dict(self) -> dict[str, Any]:
        """The stable JSON schema of ``mncost pick --format json``."""
        return {
            "budget_s": self.budget_s,
            "min_top1": self.min_top1,
            "candidates": self.candidates,
            "choice_changes": self.choice_changes,
            "hardware": [
                {
                    "hardware": p.hardware,
                    "prediction": p.prediction,
                    "best": p.best.to_dict() if p.best else None,
                    "margin_s": p.margin_s,
                    "fitting": p.fitting,
                    "picks": [c.to_dict() for c in p.picks],
                    "frontier_near_budget": [c.to_dict() for c in p.near],
                    "next_better": p.next_better.to_dict() if p.next_better else None,
                    "fastest_over_budget": p.fastest_over.to_dict() if p.fastest_over else None,
                }
                for p in self.profiles
            ],
            "skipped": list(self.skipped),
        }


def check_options(budget_s: float, min_top1: float | None, top: int) -> None:
    if isinstance(budget_s, bool) or not isinstance(budget_s, (int, float)) or not math.isfinite(budget_s) or budget_s <= 0:
        raise OptionError(f"the latency budget must be a positive finite number of seconds, got {budget_s!r}")
    if min_top1 is not None and not (math.isfinite(min_top1) and 0 < min_top1 < 100):
        raise OptionError(f"--min-top1 must be a percentage in (0, 100), got {min_top1:g}")
    if isinstance(top, bool) or not isinstance(top, int) or top < 1:
        raise OptionError(f"--top must be a positive integer, got {top!r}")


def frontier(cands: Sequence[Candidate]) -> list[Candidate]:
    """Not dominated: no other candidate is at least as fast and strictly more accurate, or faster and as accurate."""
    out: list[Candidate] = []
    best = -math.inf
    for c in sorted(cands, key=lambda c: (c.latency_s, -c.top1)):
        if c.top1 > best:
            out.append(c)
            best = c.top1
    return out


def _timed(specs: Sequence[ArchSpec], profiles: Sequence[HardwareProfile], extra: Table | None,
           min_top1: float | None) -> tuple[list[list[Candidate]], list[str]]:
    """Candidates per profile (same order), and the rows that could not be built."""
    per_profile: list[list[Candidate]] = [[] for _ in profiles]
    skipped: list[str] = []
    for spec in specs:
        seen: set[tuple[float, int, int, int, float]] = set()
        # the default rule first: where two rules build the same network at this α, it is listed once, under the default
        for entry in sorted(entries_for(spec, extra), key=lambda e: (e.alpha, e.resolution, e.width_rule != spec.default_width_rule, e.width_rule)):
            if min_top1 is not None and entry.top1 < min_top1:
                continue
            if entry.width_rule not in spec.width_rules:
                skipped.append(f"{_where(entry)}{spec.name}: no width rule {entry.width_rule!r} (the spec has {', '.join(spec.width_rules)})")
                continue
            try:
                w = walk(spec, alpha=entry.alpha, resolution=entry.resolution, width_rule=entry.width_rule)
            except MncostError as err:  # e.g. a resolution the network cannot take
                skipped.append(f"{_where(entry)}{spec.name} α={entry.alpha:g} r={entry.resolution}: {err.message}")
                continue
            macs = sum(x.macs for x in w.layers)
            params = sum(x.params for x in w.layers)
            same = (w.alpha, w.resolution, macs, params, entry.top1)
            if same in seen:
                continue
            seen.add(same)
            for i, hw in enumerate(profiles):
                t = analyze_walk(w, hw).totals
                per_profile[i].append(Candidate(spec.name, w.alpha, w.resolution, w.width_rule, entry.top1, entry.cite, macs, params,
                                                t.predicted_s, t.latency_s))
    return per_profile, skipped


def _where(entry: Accuracy) -> str:
    return f"{entry.file}:{entry.line}: " if entry.file and entry.line else ""


def prediction(hw: HardwareProfile) -> str:
    """Which model ``pick`` times on ``hw``, as a reader needs it: the plain roofline, or the
    selected (fitted) model with its leave-one-out error where the profile records one."""
    if hw.refinements is None:
        return "plain roofline"
    e = hw.expected_error
    return f"selected model ({e.sentence()})" if e is not None else "the profile's fitted refinements"


def pick(
    specs: Sequence[ArchSpec],
    profiles: Sequence[HardwareProfile],
    *,
    budget_s: float,
    min_top1: float | None = None,
    top: int = 5,
    around: int = 2,
    extra: Table | None = None,
) -> PickResult:
    """The most accurate configurations of ``specs`` whose predicted latency is at most ``budget_s``, per profile."""
    check_options(budget_s, min_top1, top)
    if not profiles:
        raise OptionError("no hardware profiles to pick for")
    per_profile, skipped = _timed(specs, profiles, extra, min_top1)
    if not per_profile[0]:
        what = f" with top-1 ≥ {min_top1:g}" if min_top1 is not None else ""
        raise OptionError(f"no configuration{what} has a published top-1 among the models given ({', '.join(s.name for s in specs)})")
    results = []
    for hw, cands in zip(profiles, per_profile):
        fits = sorted((c for c in cands if c.latency_s <= budget_s), key=lambda c: (-c.top1, c.latency_s, c.label))
        front = frontier(cands)
        under = [c for c in front if c.latency_s <= budget_s]
        over = [c for c in front if c.latency_s > budget_s]
        fastest = None if fits else min(cands, key=lambda c: (c.latency_s, -c.top1))
        results.append(ProfilePick(hw.name, budget_s, tuple(fits[:top]), tuple(front), tuple(under[-around:] + over[:around]), len(fits), fastest,
                                   tuple(cands), prediction(hw)))
    return PickResult(budget_s, min_top1, len(per_profile[0]), tuple(results), tuple(skipped))


def run_pick(budget_ms: float | None, hw: str | None = None, min_top1: float | None = None, models: str | None = None,
             accuracy: Any = None, top: int = 5) -> PickResult:
    """``pick`` from the command's option values (shared by ``pick`` and ``report --pick``):
    ``models`` and ``hw`` as :mod:`mncost.selection` reads them (default every built-in, and
    the generic profiles), ``accuracy`` a CSV path whose rows add to the shipped table."""
    from .accuracy import load_table
    from .selection import load_profiles, load_specs

    if budget_ms is None:
        raise OptionError("--budget-ms is required")
    if not (math.isfinite(budget_ms) and budget_ms > 0):
        raise OptionError(f"--budget-ms must be a positive finite number, got {budget_ms:g}")
    extra = load_table(accuracy) if accuracy is not None else None
    specs = load_specs(models or "all")  # built-ins without a published number simply add no candidate
    return pick(specs, load_profiles(hw or "generic"), budget_s=budget_ms * 1e-3, min_top1=min_top1, top=top, extra=extra)
