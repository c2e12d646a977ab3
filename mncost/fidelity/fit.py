"""Fit the roofline (and its refinements) to measured latencies; score it honestly.

**What is fitted.** For every variant the parameters minimise the sum of squared
log-latency residuals, Σ_n (log predicted_n − log measured_n)², so that a 10 % miss
costs the same on a 0.7 ms and on a 60 ms network. Parameters and bounds:

- ``log peak_macs_per_s`` in [log 1e6, log 1e17] and ``log mem_bw_bytes_per_s`` in
  [log 1e5, log 1e16] (far outside any device; they only keep exp() finite); with a
  fixed ridge point (the paper's) only ``log peak``, the bandwidth following;
- ``overhead_s`` (per layer), linear, ≥ 0, in units of the median measured latency
  per layer; ``invoke_s`` (per inference), linear, ≥ 0, in units of the smallest
  measured latency;
- ``log slowdown_<group>`` in [0, log 1000] (a factor from 1 to 1000);
- ``onchip_bytes`` is discrete (the model is piecewise constant in it): 0 and 2^(k/2)
  bytes from 4 KiB to 64 MiB, every grid value tried.

MACs alone (latency = MACs / peak) has the closed form
``log peak = mean(log MACs − log measured)``.

**How.** A fixed grid of starting points — 25 ridge points log-spaced from 0.5 to
5000 MACs/byte (or the fixed one) × overhead shares 0, 0.1, 0.3, 0.6 × invoke shares
0, 0.1, 0.3, 0.6 × slowdowns 1, 3, 10 × the on-chip grid, each only where the variant
has that parameter, and each with the log peak that fits the rest in closed form —
is scored; ``scipy.optimize.least_squares`` (trust-region reflective, the bounds
above, an analytic Jacobian, tolerances 1e-9) runs from the best three; the lowest
end point wins (ties: the earlier start). No random restarts: the same data always
gives the same fit.

**Leave-one-out** refits *everything* that is fitted — peak, bandwidth, overheads,
slowdowns and the on-chip grid search — on all rows but one, then predicts that row.
When a parameter cannot be determined without the left-out row (the only network
with attention layers, say) it stays at its first start (slowdown 1).
"""

from __future__ import annotations

import dataclasses
import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import least_squares
from scipy.stats import spearmanr

from .model import GROUPS, ModelParams, NetworkSet, latency_gradient, predict_latency_s

ONCHIP_GRID_BYTES: tuple[float, ...] = (0.0,) + tuple(2.0 ** (k / 2) for k in range(24, 53))
"""0 (off) and 4 KiB … 64 MiB in half-octave steps."""

_START_RIDGES: tuple[float, ...] = tuple(float(r) for r in np.geomspace(0.5, 5000.0, 25))
_START_OVERHEAD_FRACTIONS = (0.0, 0.1, 0.3, 0.6)
_START_SLOWDOWNS = (1.0, 3.0, 10.0)
_REFINED_STARTS = 3
_MAX_LOG_SLOWDOWN = math.log(1000.0)
_LOG_PEAK_BOUNDS = (math.log(1e6), math.log(1e17))  # MAC/s: far outside any real device, keeps exp() finite
_LOG_BW_BOUNDS = (math.log(1e5), math.log(1e16))  # bytes/s


@dataclass(frozen=True)
class Variant:
    """Which parts of the model are fitted. All refinements off = the plain roofline."""

    name: str
    description: str = ""
    compute_only: bool = False  # MACs alone: latency = MACs / peak
    ridge_macs_per_byte: float | None = None  # fixed ridge point: only the scale (peak) is fitted
    overhead: bool = False  # fixed per-layer overhead
    invoke: bool = False  # fixed per-inference overhead
    onchip: bool = False  # on-chip memory: small activation tensors cost no DRAM traffic
    slow_groups: tuple[str, ...] = ()  # per-group slowdown factors (see model.GROUPS)

    def __post_init__(self) -> None:
        unknown = [g for g in self.slow_groups if g not in GROUPS]
        if unknown:
            raise ValueError(f"unknown layer group(s) {unknown}; groups: {', '.join(GROUPS)}")
        if self.compute_only and (self.overhead or self.invoke or self.onchip or self.slow_groups or self.ridge_macs_per_byte):
            raise ValueError("MACs alone takes no refinements")

    @property
    def is_refined(self) -> bool:
        return self.overhead or self.invoke or self.onchip or bool(self.slow_groups)


MACS = Variant("macs", "MACs alone: latency = MACs / peak (one fitted scale)", compute_only=True)
PLAIN = Variant("roofline", "plain roofline: peak and bandwidth fitted")
OVERHEAD = Variant("+overhead", "plain roofline + a fixed time per layer", overhead=True)
INVOKE = Variant("+invoke", "plain roofline + a fixed time per inference", invoke=True)
SLOW_ATTENTION = Variant("+slow attention", "plain roofline + a slowdown factor on the attention core", slow_groups=("attention",))
KEPT = Variant("+overhead +invoke +slow attention", "the three kept refinements together", overhead=True, invoke=True, slow_groups=("attention",))

REFINEMENTS: tuple[Variant, ...] = (OVERHEAD, INVOKE, SLOW_ATTENTION, KEPT)
"""The refinements kept (reports/fidelity/paper.md): each improves leave-one-out scores on some of the
paper's devices, and together they lower the leave-one-out median error on all seven."""

ONCHIP = Variant("+onchip", "plain roofline + on-chip memory: activation tensors that fit cost no DRAM traffic", onchip=True)
SLOW_DEPTHWISE = Variant("+slow dw", "plain roofline + a slowdown factor on depthwise convolutions", slow_groups=("depthwise",))
SLOW_SE = Variant("+slow se", "plain roofline + a slowdown factor on squeeze-excite layers", slow_groups=("se",))
SLOW_ELEMENTWISE = Variant("+slow eltwise", "plain roofline + a slowdown factor on adds and pooling", slow_groups=("elementwise",))
OVERHEAD_ONCHIP = Variant("+overhead +onchip", "per-layer overhead and on-chip memory", overhead=True, onchip=True)

DROPPED: tuple[Variant, ...] = (ONCHIP, SLOW_DEPTHWISE, SLOW_SE, SLOW_ELEMENTWISE, OVERHEAD_ONCHIP)
"""Refinements tried and dropped (no leave-one-out gain on the paper's data); still usable."""

SELECTION_CANDIDATES: tuple[Variant, ...] = (PLAIN, *REFINEMENTS)


def paper_ridge(ridge_macs_per_byte: float) -> Variant:
    """Plain roofline at a fixed ridge point (the paper's), only the scale fitted."""
    return Variant(f"roofline @RP {ridge_macs_per_byte:g}", f"plain roofline, ridge fixed at {ridge_macs_per_byte:g} MACs/byte, peak fitted", ridge_macs_per_byte=ridge_macs_per_byte)


@dataclass(frozen=True)
class Fit:
    """A variant fitted to a set of networks."""

    variant: Variant
    params: ModelParams
    cost: float  # ½ Σ squared log residuals over the fitted rows
    fitted_rows: tuple[int, ...]


# -- fitting --------------------------------------------------------------------------


def _log_residuals(net: NetworkSet, p: ModelParams, log_y: np.ndarray, rows: np.ndarray) -> np.ndarray:
    pred = predict_latency_s(net, p)[rows]
    residuals: np.ndarray = np.log(np.maximum(pred, 1e-300)) - log_y
    return residuals


@dataclass(frozen=True)
class _Layout:
    """Maps the optimizer's vector θ to ModelParams for one variant at one on-chip size."""

    variant: Variant
    overhead_unit_s: float
    invoke_unit_s: float
    onchip_bytes: float

    @property
    def fixed_ridge(self) -> float | None:
        return self.variant.ridge_macs_per_byte

    @property
    def n_base(self) -> int:
        return 1 if self.fixed_ridge else 2

    def params(self, theta: np.ndarray) -> ModelParams:
        peak = float(np.exp(theta[0]))
        bw = peak / self.fixed_ridge if self.fixed_ridge else float(np.exp(theta[1]))
        i = self.n_base
        overhead = 0.0
        if self.variant.overhead:
            overhead = float(theta[i]) * self.overhead_unit_s
            i += 1
        invoke = 0.0
        if self.variant.invoke:
            invoke = float(theta[i]) * self.invoke_unit_s
            i += 1
        slowdown = {g: float(np.exp(theta[i + j])) for j, g in enumerate(self.variant.slow_groups)}
        return ModelParams(peak, bw, overhead_s=overhead, invoke_s=invoke, onchip_bytes=self.onchip_bytes, slowdown=slowdown)

    def jacobian(self, net: NetworkSet, theta: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """∂(log predicted)/∂θ, analytic (see model.latency_gradient)."""
        g = latency_gradient(net, self.params(theta), self.variant.slow_groups)
        cols = [g.d_log_peak + g.d_log_bw] if self.fixed_ridge else [g.d_log_peak, g.d_log_bw]
        if self.variant.overhead:
            cols.append(g.d_overhead_s * self.overhead_unit_s)
        if self.variant.invoke:
            cols.append(np.full(net.n_networks, self.invoke_unit_s))
        cols += [g.d_log_slowdown[group] for group in self.variant.slow_groups]
        jac: np.ndarray = (np.stack(cols, axis=1) / g.latency_s[:, None])[rows]
        return jac

    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        v = self.variant
        lo = [_LOG_PEAK_BOUNDS[0]] + ([] if self.fixed_ridge else [_LOG_BW_BOUNDS[0]])
        hi = [_LOG_PEAK_BOUNDS[1]] + ([] if self.fixed_ridge else [_LOG_BW_BOUNDS[1]])
        for on in (v.overhead, v.invoke):
            if on:
                lo.append(0.0)
                hi.append(np.inf)
        lo += [0.0] * len(v.slow_groups)
        hi += [_MAX_LOG_SLOWDOWN] * len(v.slow_groups)
        return np.asarray(lo), np.asarray(hi)

    def starts(self, net: NetworkSet, latency_s: np.ndarray, rows: np.ndarray) -> list[np.ndarray]:
        """The start grid: ridge × overhead share × slowdown, each with its best scale."""
        v = self.variant
        ridges = (self.fixed_ridge,) if self.fixed_ridge else _START_RIDGES
        fractions = _START_OVERHEAD_FRACTIONS if v.overhead else (0.0,)
        invokes = _START_OVERHEAD_FRACTIONS if v.invoke else (0.0,)
        slows = _START_SLOWDOWNS if v.slow_groups else (1.0,)
        n_layers = net.layer_counts[rows]
        out = []
        for ridge in ridges:
            for slow in slows:
                unit = ModelParams(1.0, 1.0 / ridge, onchip_bytes=self.onchip_bytes, slowdown={g: slow for g in v.slow_groups})
                t_unit = predict_latency_s(net, unit)[rows]  # roofline part at peak 1 MAC/s
                for fraction, invoke in itertools.product(fractions, invokes):
                    fixed = fraction * self.overhead_unit_s * n_layers + invoke * self.invoke_unit_s
                    rest = np.maximum(latency_s[rows] - fixed, 0.05 * latency_s[rows])
                    log_peak = float(np.mean(np.log(t_unit) - np.log(rest)))
                    theta = [log_peak] + ([] if self.fixed_ridge else [log_peak - math.log(ridge)])
                    theta += [fraction] if v.overhead else []
                    theta += [invoke] if v.invoke else []
                    theta += [math.log(slow)] * len(v.slow_groups)
                    out.append(np.asarray(theta, dtype=np.float64))
        return out


def fit_variant(net: NetworkSet, latency_s: np.ndarray, variant: Variant, rows: Sequence[int] | None = None) -> Fit:
    """Fit ``variant`` to the measured ``latency_s`` of the networks ``rows`` (default: all)."""
    latency_s = np.asarray(latency_s, dtype=np.float64)
    idx = np.arange(net.n_networks) if rows is None else np.asarray(rows, dtype=np.int64)
    log_y = np.log(latency_s[idx])
    if variant.compute_only:
        log_peak = float(np.mean(np.log(net.macs_total[idx]) - log_y))
        p = ModelParams(math.exp(log_peak), math.inf)
        res = _log_residuals(net, p, log_y, idx)
        return Fit(variant, p, 0.5 * float(res @ res), tuple(int(i) for i in idx))
    per_layer = float(np.median(latency_s[idx] / net.layer_counts[idx]))
    # Stage 1: score every start of the grid (cheap: one prediction each).
    candidates: list[tuple[float, int, _Layout, np.ndarray]] = []
    for onchip in (ONCHIP_GRID_BYTES if variant.onchip else (0.0,)):
        layout = _Layout(variant, per_layer, float(np.min(latency_s[idx])), onchip)
        lo, hi = layout.bounds()
        for theta0 in layout.starts(net, latency_s, idx):
            theta0 = np.clip(theta0, lo, hi)
            res = _log_residuals(net, layout.params(theta0), log_y, idx)
            candidates.append((0.5 * float(res @ res), len(candidates), layout, theta0))
    candidates.sort(key=lambda c: (c[0], c[1]))
    # Stage 2: least squares from the best few starts; the lowest end point wins.
    best: tuple[float, ModelParams] | None = None
    for _, _, layout, theta0 in candidates[:_REFINED_STARTS]:
        lo, hi = layout.bounds()
        sol = least_squares(
            lambda th, layout=layout: _log_residuals(net, layout.params(th), log_y, idx),
            theta0, jac=lambda th, layout=layout: layout.jacobian(net, th, idx),
            bounds=(lo, hi), method="trf", x_scale=1.0, xtol=1e-9, ftol=1e-9, gtol=1e-9, max_nfev=200,
        )
        if best is None or float(sol.cost) < best[0] - 1e-12:
            best = (float(sol.cost), layout.params(sol.x))
    assert best is not None
    return Fit(variant, best[1], best[0], tuple(int(i) for i in idx))


# -- scoring --------------------------------------------------------------------------


@dataclass(frozen=True)
class Scores:
    """Rank correlation and absolute percentage errors of predictions against measurements."""

    spearman: float  # r_s: Spearman rank correlation (ties get average ranks)
    median_ape: float  # median |predicted − measured| / measured
    worst_ape: float  # largest |predicted − measured| / measured
    n: int


def score(predicted_s: np.ndarray, measured_s: np.ndarray) -> Scores:
    predicted_s, measured_s = np.asarray(predicted_s, float), np.asarray(measured_s, float)
    ape = np.abs(predicted_s - measured_s) / measured_s
    rs = float(spearmanr(predicted_s, measured_s).statistic) if len(measured_s) > 2 else math.nan
    return Scores(spearman=rs, median_ape=float(np.median(ape)), worst_ape=float(np.max(ape)), n=len(measured_s))


def leave_one_out(net: NetworkSet, latency_s: np.ndarray, variant: Variant) -> np.ndarray:
    """Prediction of each network by ``variant`` refitted on all the other networks."""
    n = net.n_networks
    out = np.empty(n)
    for i in range(n):
        rows = [j for j in range(n) if j != i]
        out[i] = predict_latency_s(net, fit_variant(net, latency_s, variant, rows).params)[i]
    return out


@dataclass(frozen=True)
class Evaluation:
    """A variant fitted on all networks, scored in sample and under leave-one-out."""

    fit: Fit
    predicted_s: np.ndarray = field(repr=False)
    in_sample: Scores
    loo_predicted_s: np.ndarray = field(repr=False)
    loo: Scores

    @property
    def variant(self) -> Variant:
        return self.fit.variant


def evaluate(net: NetworkSet, latency_s: np.ndarray, variant: Variant) -> Evaluation:
    """Fit on everything, predict, and repeat leave-one-out."""
    latency_s = np.asarray(latency_s, dtype=np.float64)
    f = fit_variant(net, latency_s, variant)
    predicted = predict_latency_s(net, f.params)
    loo = leave_one_out(net, latency_s, variant)
    return Evaluation(f, predicted, score(predicted, latency_s), loo, score(loo, latency_s))


# -- choosing a refinement honestly ---------------------------------------------------


def loo_log_rmse(net: NetworkSet, latency_s: np.ndarray, variant: Variant, rows: Sequence[int]) -> float:
    """Root-mean-square log residual of leave-one-out predictions within ``rows``."""
    rows = list(rows)
    res = []
    for i in rows:
        train = [j for j in rows if j != i]
        pred = predict_latency_s(net, fit_variant(net, latency_s, variant, train).params)[i]
        res.append(math.log(pred / latency_s[i]))
    return math.sqrt(sum(r * r for r in res) / len(res))


def select_variant(net: NetworkSet, latency_s: np.ndarray, candidates: Sequence[Variant], rows: Sequence[int] | None = None) -> Variant:
    """The candidate with the lowest leave-one-out log RMSE on ``rows`` (ties: the earlier, simpler one)."""
    rows = list(range(net.n_networks)) if rows is None else list(rows)
    scored = [(loo_log_rmse(net, latency_s, v, rows), k, v) for k, v in enumerate(candidates)]
    return min(scored, key=lambda t: (round(t[0], 12), t[1]))[2]


def applicable(variant: Variant, net: NetworkSet) -> Variant:
    """Drop slowdowns of layer groups the networks do not contain (they could not be fitted)."""
    present = net.groups_present()
    groups = tuple(g for g in variant.slow_groups if g in present)
    if groups == variant.slow_groups:
        return variant
    dropped = ", ".join(g for g in variant.slow_groups if g not in present)
    return dataclasses.replace(variant, slow_groups=groups, description=f"{variant.description} (no {dropped} layers: that slowdown is not fitted)")


@dataclass(frozen=True)
class Selection:
    """Refinement chosen by leave-one-out, scored by an outer leave-one-out (nested)."""

    chosen: Variant  # chosen on all rows: the recommended model for this device
    fit: Fit
    per_fold: tuple[str, ...]  # the variant each outer fold chose
    loo_predicted_s: np.ndarray = field(repr=False)
    loo: Scores


def nested_selection(net: NetworkSet, latency_s: np.ndarray, candidates: Sequence[Variant] = SELECTION_CANDIDATES) -> Selection:
    """Choose among ``candidates`` by inner leave-one-out; score the *whole procedure* by outer leave-one-out.

    For each network i: the choice is made on the other networks only (an inner
    leave-one-out over them), the chosen variant is fitted on them and predicts i.
    The resulting scores include the cost of choosing, so they are not flattered by it.
    """
    latency_s = np.asarray(latency_s, dtype=np.float64)
    candidates = [applicable(v, net) for v in candidates]
    n = net.n_networks
    out = np.empty(n)
    chosen_names = []
    for i in range(n):
        rows = [j for j in range(n) if j != i]
        v = select_variant(net, latency_s, candidates, rows)
        chosen_names.append(v.name)
        out[i] = predict_latency_s(net, fit_variant(net, latency_s, v, rows).params)[i]
    chosen = select_variant(net, latency_s, candidates)
    return Selection(chosen, fit_variant(net, latency_s, chosen), tuple(chosen_names), out, score(out, latency_s))
