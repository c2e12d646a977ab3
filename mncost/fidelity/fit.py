"""Fit the roofline (and its refinement terms) to measured latencies; score it honestly.

**The model** (:mod:`.model`): per network ``latency = Σ_layers s_group · max(MACs/peak,
bytes/bandwidth) + Σ_c a_c · E_c + overhead_s · layers + invoke_s``, where ``E_c`` counts the
output elements of layers whose activation is in cost class ``c`` (``mncost.ops.ACTIVATION_CLASSES``).
Write ``r`` for the ridge point (peak / bandwidth) and ``A_g(r) = Σ_{layers of group g} max(MACs, r · bytes)``
(MAC-equivalents). For a fixed ``r`` the latency is *linear* in the remaining parameters::

    latency = β_0 · A_all(r) + Σ_g β_g · A_g(r) + Σ_c β_c · E_c + β_L · layers + β_1,   every β ≥ 0

with ``peak = 1/β_0``, ``slowdown_g = 1 + β_g/β_0`` (a group runs at most as fast as the
roofline says), ``act_s_per_elem_c = β_c``, ``overhead_s = β_L``, ``invoke_s = β_1``. So a fit is a one-dimensional
search over ``r`` around a small non-negative least-squares problem.

**The objective** is the sum of squared log residuals Σ (log predicted − log measured)²,
so a 10 % miss costs the same on a 0.7 ms and on a 60 ms network. For each ``r`` it is
minimised by Gauss–Newton on the linear parameters (each step a weighted non-negative
least squares, solved exactly by enumerating the active sets: at most 2^5 tiny systems,
all ridges at once in one batched ``numpy.linalg.solve``).

**The search over r** (no random restarts: the same data always give the same fit):
``r`` runs over a fixed lattice, 2^(k/8) MACs/byte for k = −16 … 112 (0.25 to 16384,
eighth-octave steps; every layer of int8 MobileNets is memory-bound above ~100, so the
top of the range only matters for fp32 and for fitted refinements). A *fast* fit scores
every fourth lattice point (half octaves), then the eight lattice points around the best;
a *precise* fit then refines ``r`` continuously within ±1/8 octave (four rounds of 17
points, each 8× narrower, with a parabolic step) and runs Gauss–Newton to convergence. Selection (below) uses fast fits; every reported fit
and prediction uses precise ones. Both are deterministic.

MACs alone (latency = MACs / peak) has the closed form ``log peak = mean(log MACs − log y)``;
the plain roofline at a fixed (the paper's) ridge point is the same with ``A_all(r)``.

Choosing the refinement terms (nested leave-one-out) lives in :mod:`.select`; its names
are re-exported here.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np
from scipy.stats import spearmanr

from ..ops import ACT_CLASSES, ACTIVATION_CLASSES, fallback_children
from .model import GROUPS, ModelParams, NetworkSet, predict_latency_s

SLOW_GROUPS: tuple[str, ...] = tuple(g for g in GROUPS if g != "dense")
"""Groups that can carry a slowdown term (dense layers are the reference)."""

TERMS: tuple[str, ...] = ("overhead", "invoke", *(f"slow:{g}" for g in SLOW_GROUPS), *(f"act:{c}" for c in ACTIVATION_CLASSES))
"""Every candidate refinement term, in the order ties are broken (simplest first)."""

LATTICE_RIDGES: np.ndarray = 2.0 ** (np.arange(-16, 113) / 8.0)
"""The ridge-point lattice (MACs/byte), eighth-octave steps from 0.25 to 16384."""
_COARSE = np.arange(0, len(LATTICE_RIDGES), 4)  # half octaves
_FINE_HALF_WIDTH = 4  # lattice points either side of the coarse winner
_GN_FAST, _GN_PRECISE = 4, 30
_REFINE_ROUNDS = 4

COST_TIE = 1e-9
"""Costs within this relative distance of the best are a tie, and a tie goes to the lowest ridge.

Where no layer of the fitted networks is compute-bound over a range of ridges, the objective
is flat there (the peak is bounded only from below): every ridge of the range fits equally
well, and a bare ``argmin`` would pick among them by floating-point rounding, which changes
with the order of the rows (a held-out compute-heavy network, MobileOne-S4 on the Pixel 4
DSP, was then predicted 30 % or 4 % off depending on the CSV's row order)."""


def _first_min(cost: np.ndarray, axis: int = -1) -> np.ndarray:
    """Index of the first (lowest-ridge) entry within :data:`COST_TIE` of the minimum along ``axis``."""
    cost = np.asarray(cost, dtype=np.float64)
    low = np.min(cost, axis=axis, keepdims=True)
    return np.argmax(cost <= low + COST_TIE * np.abs(low), axis=axis)


def _better(new: float, old: float) -> bool:
    """``new`` beats ``old`` by more than a tie (:data:`COST_TIE`)."""
    return bool(new < old - COST_TIE * abs(old)) if math.isfinite(old) else bool(new < old)


@dataclass(frozen=True)
class Variant:
    """Which parts of the model are fitted. All refinements off = the plain roofline."""

    name: str
    description: str = ""
    compute_only: bool = False  # MACs alone: latency = MACs / peak
    ridge_macs_per_byte: float | None = None  # fixed ridge point: only the scale (peak) is fitted
    overhead: bool = False  # fixed per-layer overhead
    invoke: bool = False  # fixed per-inference overhead
    slow_groups: tuple[str, ...] = ()  # per-group slowdown factors (see model.GROUPS)
    act_classes: tuple[str, ...] = ()  # per-activation-class costs per output element (ops.ACTIVATION_CLASSES)

    def __post_init__(self) -> None:
        unknown = [g for g in self.slow_groups if g not in SLOW_GROUPS]
        if unknown:
            raise ValueError(f"unknown or reference layer group(s) {unknown}; slowdown groups: {', '.join(SLOW_GROUPS)}")
        unknown = [c for c in self.act_classes if c not in ACTIVATION_CLASSES]
        if unknown:
            raise ValueError(f"unknown activation class(es) {unknown}; classes: {', '.join(ACTIVATION_CLASSES)}")
        if self.compute_only and (self.overhead or self.invoke or self.slow_groups or self.act_classes or self.ridge_macs_per_byte):
            raise ValueError("MACs alone takes no refinements")

    @property
    def is_refined(self) -> bool:
        return self.overhead or self.invoke or bool(self.slow_groups) or bool(self.act_classes)

    @property
    def terms(self) -> tuple[str, ...]:
        return tuple(t for t in TERMS if (t == "overhead" and self.overhead) or (t == "invoke" and self.invoke)
                     or (t.startswith("slow:") and t[5:] in self.slow_groups) or (t.startswith("act:") and t[4:] in self.act_classes))

    @property
    def n_params(self) -> int:
        return ((1 if self.compute_only or self.ridge_macs_per_byte else 2) + int(self.overhead) + int(self.invoke) + len(self.slow_groups)
                + len(self.act_classes))

    @property
    def key(self) -> tuple[object, ...]:
        return (self.compute_only, self.ridge_macs_per_byte, self.overhead, self.invoke, tuple(sorted(self.slow_groups)), tuple(sorted(self.act_classes)))


MACS = Variant("macs", "MACs alone: latency = MACs / peak (one fitted scale)", compute_only=True)
PLAIN = Variant("roofline", "plain roofline: peak and bandwidth fitted")


def with_terms(terms: Sequence[str], base: Variant = PLAIN) -> Variant:
    """The plain roofline (or ``base``) with refinement ``terms`` (see :data:`TERMS`), named after them."""
    unknown = [t for t in terms if t not in TERMS]
    if unknown:
        raise ValueError(f"unknown term(s) {unknown}; terms: {', '.join(TERMS)}")
    all_terms = set(base.terms) | set(terms)
    ordered = [t for t in TERMS if t in all_terms]
    v = replace(base, overhead="overhead" in all_terms, invoke="invoke" in all_terms,
                slow_groups=tuple(t[5:] for t in ordered if t.startswith("slow:")),
                act_classes=tuple(t[4:] for t in ordered if t.startswith("act:")))
    if not ordered:
        return v
    label = " ".join("+" + ("slow " + t[5:] if t.startswith("slow:") else "act " + t[4:] if t.startswith("act:") else t) for t in ordered)
    return replace(v, name=label, description=f"plain roofline {label}")


def paper_ridge(ridge_macs_per_byte: float) -> Variant:
    """Plain roofline at a fixed ridge point (the paper's), only the scale fitted."""
    return Variant(f"roofline @RP {ridge_macs_per_byte:g}", f"plain roofline, ridge fixed at {ridge_macs_per_byte:g} MACs/byte, peak fitted", ridge_macs_per_byte=ridge_macs_per_byte)


# -- the design: what a fit needs from the architectures (no measurement) ---------------------


@dataclass(frozen=True, eq=False)
class Design:
    """Per-network sums behind every fit, for each lattice ridge; built once per :class:`NetworkSet`."""

    net: NetworkSet
    lattice: np.ndarray = field(repr=False)  # (R, N, G): A_g(r) of every network at every lattice ridge
    layers: np.ndarray = field(repr=False)  # (N,) layer counts
    act_elems: np.ndarray = field(repr=False)  # (N, len(ACT_CLASSES)) output elements per activation class

    traffic: np.ndarray = field(repr=False)  # (layers,) bytes at the set's dtypes
    cell: np.ndarray = field(repr=False)  # (layers,): the (network, group) cell each layer adds to

    @classmethod
    def of(cls, net: NetworkSet) -> Design:
        traffic = net.weight_bytes + net.act_read_bytes + net.act_write_bytes
        cell = net.net_index * len(GROUPS) + net.group
        design = cls(net, np.zeros(0), net.layer_counts.astype(np.float64), net.act_elems(), traffic, cell)
        object.__setattr__(design, "lattice", design.sums(LATTICE_RIDGES))
        return design

    def sums(self, ridges: np.ndarray) -> np.ndarray:
        """A_g(r) for arbitrary ridges, (R, N, G)."""
        ridges = np.asarray(ridges, dtype=np.float64)
        per_layer = np.maximum(self.net.macs[None, :], ridges[:, None] * self.traffic[None, :])  # (R, layers)
        cells = self.net.n_networks * len(GROUPS)
        index = (np.arange(len(ridges))[:, None] * cells + self.cell[None, :]).ravel()
        sums = np.bincount(index, weights=per_layer.ravel(), minlength=len(ridges) * cells)
        return sums.reshape(len(ridges), self.net.n_networks, len(GROUPS))

    def has_group(self, group: str) -> np.ndarray:
        """Per network: does it contain layers of ``group`` (or of a group that falls back to it)?"""
        members = [GROUPS.index(g) for g in (group, *fallback_children(group))]
        return np.bincount(self.net.net_index[np.isin(self.net.group, members)], minlength=self.net.n_networks) > 0

    def has_act(self, cls: str) -> np.ndarray:
        """Per network: does it contain layers whose activation is in class ``cls``?"""
        return self.act_elems[:, ACT_CLASSES.index(cls)] > 0


def _group_sum(s: np.ndarray, group: str, slowed: Sequence[str]) -> np.ndarray:
    """A_g(r) of a slowed group, with the groups that fall back to it (``mncost.ops.GROUP_FALLBACK``) unless
    they are slowed themselves: the fitted factor is then theirs too, as in the prediction."""
    members = [group] + [child for child in fallback_children(group) if child not in slowed]
    out: np.ndarray = s[:, :, [GROUPS.index(g) for g in members]].sum(axis=2)
    return out


def _columns(design: Design, sums: np.ndarray, variant: Variant, rows: np.ndarray) -> np.ndarray:
    """The design matrix (R, rows, k): A_all, A_g per slowed group, E_c per activation class, layer count, 1."""
    s = sums[:, rows, :]
    cols = [s.sum(axis=2)] + [_group_sum(s, g, variant.slow_groups) for g in variant.slow_groups]
    cols += [np.broadcast_to(design.act_elems[rows, ACT_CLASSES.index(c)], s.shape[:2]) for c in variant.act_classes]
    if variant.overhead:
        cols.append(np.broadcast_to(design.layers[rows], s.shape[:2]))
    if variant.invoke:
        cols.append(np.ones(s.shape[:2]))
    return np.stack(cols, axis=2)


_MASKS: dict[int, np.ndarray] = {}


def _masks(k: int) -> np.ndarray:
    """Every active set that keeps column 0 (the roofline itself), as a (S, k) boolean array."""
    if k not in _MASKS:
        _MASKS[k] = np.array([(True, *bits) for bits in itertools.product((False, True), repeat=k - 1)], dtype=bool)
    return _MASKS[k]


def _nnls_batched(z: np.ndarray, t: np.ndarray) -> np.ndarray:
    """min ||z β − t||² subject to β ≥ 0 (β_0 > 0), for every leading index of z (B, n, k) at once.

    Exact: the optimum is the unconstrained least squares on its own support, and every
    feasible support's solution costs at least as much, so the best feasible one wins.
    Rows of z and t that are zero take no part (how a left-out row is dropped).
    """
    r, _, k = z.shape
    scale = np.sqrt(np.mean(z * z, axis=1))  # (B, k): column norms, for conditioning
    scale = np.where(scale > 0, scale, 1.0)
    zs = z / scale[:, None, :]
    g = np.matmul(zs.transpose(0, 2, 1), zs)
    b = np.matmul(zs.transpose(0, 2, 1), t[:, :, None])[:, :, 0]
    masks = _masks(k)  # (S, k)
    both = masks[:, :, None] & masks[:, None, :]
    eye = np.eye(k)
    gm = np.where(both[None], g[:, None], eye[None, None]) + 1e-12 * eye  # (B, S, k, k)
    bm = np.where(masks[None], b[:, None], 0.0)
    beta = np.linalg.solve(gm, bm[..., None])[..., 0]  # (B, S, k)
    feasible = np.all(beta >= -1e-12, axis=2) & (beta[:, :, 0] > 0)
    gb = np.matmul(beta, g)  # (B, S, k)
    cost = np.sum(gb * beta, axis=2) - 2 * np.sum(beta * b[:, None, :], axis=2)
    cost = np.where(feasible, cost, np.inf)
    best = np.argmin(cost, axis=1)
    out = np.maximum(beta[np.arange(r), best], 0.0) / scale
    out[~np.isfinite(cost[np.arange(r), best])] = np.nan  # no feasible support (cannot happen with t > 0)
    return out


def _gauss_newton(x: np.ndarray, log_y: np.ndarray, steps: int, mask: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Minimise Σ (log xβ − log y)² over β ≥ 0 for each leading index of x (B, n, k); returns (β, cost).

    ``mask`` (B, n) drops rows (False) from each problem: a batch of leave-one-out fits.
    """
    use = np.ones(x.shape[:2]) if mask is None else mask.astype(np.float64)
    log_y = np.broadcast_to(log_y, x.shape[:2])
    y = np.exp(log_y)
    beta = _nnls_batched(x * (use / y)[:, :, None], use.copy())  # relative-error start
    cost = np.full(x.shape[0], np.inf)
    for _ in range(steps):
        pred = np.maximum(np.matmul(x, beta[:, :, None])[:, :, 0], 1e-300)
        res = (np.log(pred) - log_y) * use
        new_cost = np.sum(res * res, axis=1)
        if np.all((np.abs(cost - new_cost) <= 1e-10 * new_cost) | (new_cost < 1e-24)):
            cost = new_cost
            break
        cost = new_cost
        # linearised in β around pred: log(xβ) ≈ log pred + (xβ − pred)/pred
        beta = _nnls_batched(x * (use / pred)[:, :, None], (1.0 - res) * use)
    pred = np.maximum(np.matmul(x, beta[:, :, None])[:, :, 0], 1e-300)
    res = (np.log(pred) - log_y) * use
    return beta, np.where(np.isfinite(res).all(axis=1), np.sum(res * res, axis=1), np.inf)


# -- fitting -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Fit:
    """A variant fitted to a set of networks."""

    variant: Variant
    params: ModelParams
    cost: float  # ½ Σ squared log residuals over the fitted rows
    fitted_rows: tuple[int, ...]


def _params(variant: Variant, ridge: float, beta: np.ndarray) -> ModelParams:
    peak = 1.0 / float(beta[0])
    i = 1
    slowdown = {}
    for g in variant.slow_groups:
        slowdown[g] = 1.0 + float(beta[i]) / float(beta[0])
        i += 1
    act = {}
    for c in variant.act_classes:
        act[c] = float(beta[i])
        i += 1
    overhead = invoke = 0.0
    if variant.overhead:
        overhead = float(beta[i])
        i += 1
    if variant.invoke:
        invoke = float(beta[i])
    return ModelParams(peak, peak / ridge, overhead_s=overhead, invoke_s=invoke, slowdown=slowdown, act_s_per_elem=act)


def _closed_scale(columns: np.ndarray, log_y: np.ndarray) -> float:
    """log β_0 of latency = β_0 · column: the mean log ratio."""
    return float(np.mean(log_y - np.log(columns)))


def fit_variant(net: NetworkSet | Design, latency_s: np.ndarray, variant: Variant, rows: Sequence[int] | None = None, *, precise: bool = True,
                near: int | None = None) -> Fit:
    """Fit ``variant`` to the measured ``latency_s`` of the networks ``rows`` (default: all).

    Only ``latency_s[rows]`` is read. ``precise=False`` stops at the eighth-octave lattice
    (what selection uses); the default refines the ridge continuously. ``near`` (a lattice
    index) searches the lattice within one octave of it first (see :class:`Selector`).
    """
    design = net if isinstance(net, Design) else Design.of(net)
    idx = np.arange(design.net.n_networks) if rows is None else np.asarray(rows, dtype=np.int64)
    log_y = np.log(np.asarray(latency_s, dtype=np.float64)[idx])
    if variant.compute_only:
        log_beta = _closed_scale(design.net.macs_total[idx], log_y)
        p = ModelParams(math.exp(-log_beta), math.inf)
        return _finish(variant, p, design, log_y, idx)
    if variant.ridge_macs_per_byte is not None:
        ridges = np.array([float(variant.ridge_macs_per_byte)])
        x = _columns(design, design.sums(ridges), variant, idx)
        if x.shape[2] == 1:  # plain at a fixed ridge: closed form
            beta = np.array([math.exp(_closed_scale(x[0, :, 0], log_y))])
        else:
            beta = _gauss_newton(x, log_y, _GN_PRECISE)[0][0]
        return _finish(variant, _params(variant, ridges[0], beta), design, log_y, idx)
    best_k, beta = _lattice_search(design, variant, idx, log_y, near)
    if not precise:
        return _finish(variant, _params(variant, float(LATTICE_RIDGES[best_k]), beta), design, log_y, idx)
    ridge, beta = _refine(design, variant, idx, log_y, best_k)
    return _finish(variant, _params(variant, ridge, beta), design, log_y, idx)


def _lattice_search(design: Design, variant: Variant, idx: np.ndarray, log_y: np.ndarray, near: int | None = None) -> tuple[int, np.ndarray]:
    """Best lattice point: half octaves then the eight neighbours of the winner; or, with
    ``near``, only the 17 lattice points within one octave of it (the full search if the
    winner lies on that window's edge)."""
    if near is not None:
        window = np.arange(max(near - 8, 0), min(near + 9, len(LATTICE_RIDGES)))
        beta, cost = _gauss_newton(_columns(design, design.lattice[window], variant, idx), log_y, _GN_FAST)
        j = int(_first_min(cost))
        edge = (j == 0 and window[0] > 0) or (j == len(window) - 1 and window[-1] < len(LATTICE_RIDGES) - 1)
        if not edge:
            return int(window[j]), beta[j]
    x = _columns(design, design.lattice[_COARSE], variant, idx)
    _, cost = _gauss_newton(x, log_y, _GN_FAST)
    centre = int(_COARSE[int(_first_min(cost))])
    fine = np.arange(max(centre - _FINE_HALF_WIDTH, 0), min(centre + _FINE_HALF_WIDTH + 1, len(LATTICE_RIDGES)))
    x = _columns(design, design.lattice[fine], variant, idx)
    beta, cost = _gauss_newton(x, log_y, _GN_FAST)
    j = int(_first_min(cost))
    return int(fine[j]), beta[j]


def _refine(design: Design, variant: Variant, idx: np.ndarray, log_y: np.ndarray, k: int) -> tuple[float, np.ndarray]:
    """Refine log r within one lattice step of lattice point ``k``: rounds of 17 points, each
    round ±1 spacing around the last winner (the bracket shrinks 8× per round), then one
    parabolic step through the winner and its neighbours."""
    step = math.log(2.0) / 8.0
    lo, hi = math.log(LATTICE_RIDGES[k]) - step, math.log(LATTICE_RIDGES[k]) + step
    best: tuple[float, float, np.ndarray] = (math.inf, 0.0, np.zeros(0))

    def run(log_rs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        x = _columns(design, design.sums(np.exp(log_rs)), variant, idx)
        return _gauss_newton(x, log_y, _GN_PRECISE)

    for _ in range(_REFINE_ROUNDS):
        grid = np.linspace(lo, hi, 17)
        beta, cost = run(grid)
        j = int(_first_min(cost))
        if _better(float(cost[j]), best[0]):
            best = (float(cost[j]), float(grid[j]), beta[j])
        if 0 < j < 16:
            c0, c1, c2 = cost[j - 1], cost[j], cost[j + 1]
            denom = c0 - 2 * c1 + c2
            if denom > 0:
                vertex = grid[j] + 0.5 * (grid[1] - grid[0]) * (c0 - c2) / denom
                vb, vc = run(np.array([vertex]))
                if _better(float(vc[0]), best[0]):
                    best = (float(vc[0]), float(vertex), vb[0])
        spacing = (hi - lo) / 16
        lo, hi = best[1] - spacing, best[1] + spacing
    return math.exp(best[1]), best[2]


def _finish(variant: Variant, p: ModelParams, design: Design, log_y: np.ndarray, idx: np.ndarray) -> Fit:
    pred = predict_latency_s(design.net, p)[idx]
    res = np.log(np.maximum(pred, 1e-300)) - log_y
    return Fit(variant, p, 0.5 * float(res @ res), tuple(int(i) for i in idx))


# -- scoring -----------------------------------------------------------------------------------


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
    # A constant column (every prediction equal, say) has no rank order: r_s is undefined,
    # reported as NaN ("–") rather than through scipy's ConstantInputWarning.
    constant = len(set(predicted_s.tolist())) < 2 or len(set(measured_s.tolist())) < 2
    rs = float(spearmanr(predicted_s, measured_s).statistic) if len(measured_s) > 2 and not constant else math.nan
    return Scores(spearman=rs, median_ape=float(np.median(ape)), worst_ape=float(np.max(ape)), n=len(measured_s))


def leave_one_out(net: NetworkSet | Design, latency_s: np.ndarray, variant: Variant) -> np.ndarray:
    """Prediction of each network by ``variant`` refitted on all the other networks."""
    design = net if isinstance(net, Design) else Design.of(net)
    n = design.net.n_networks
    out = np.empty(n)
    for i in range(n):
        rows = [j for j in range(n) if j != i]
        out[i] = predict_latency_s(design.net, fit_variant(design, latency_s, variant, rows).params)[i]
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


def evaluate(net: NetworkSet | Design, latency_s: np.ndarray, variant: Variant) -> Evaluation:
    """Fit on everything, predict, and repeat leave-one-out."""
    design = net if isinstance(net, Design) else Design.of(net)
    latency_s = np.asarray(latency_s, dtype=np.float64)
    f = fit_variant(design, latency_s, variant)
    predicted = predict_latency_s(design.net, f.params)
    loo = leave_one_out(design, latency_s, variant)
    return Evaluation(f, predicted, score(predicted, latency_s), loo, score(loo, latency_s))




_SELECT_NAMES = ("MIN_GAIN", "MIN_GROUP_FAMILIES", "MIN_GROUP_NETWORKS", "Selection", "Selector", "candidate_terms", "fast_loo_predictions",
                 "fold_prediction", "max_params", "nested_selection")


def __getattr__(name: str) -> object:
    """The selection's names, re-exported lazily (:mod:`.select` imports this module)."""
    if name in _SELECT_NAMES:
        from . import select

        return getattr(select, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
