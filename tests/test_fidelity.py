"""Fidelity: the vectorized roofline equals analyze(), fits recover known roofs, leave-one-out is
honest, measurement CSVs fail cleanly, and calibrate / bench run (quick mode)."""

from __future__ import annotations

import dataclasses
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

if os.environ.get("CI"):  # CI installs numpy, scipy and torch: never skip there
    import numpy as np
    import scipy  # noqa: F401
else:
    np = pytest.importorskip("numpy")
    pytest.importorskip("scipy")

import mncost
from mncost.errors import MncostError
from mncost.fidelity import fit as F
from mncost.fidelity import paper
from mncost.fidelity.device import fit_measurements
from mncost.fidelity.measurements import Measurement, MeasurementError, format_measurements, parse_measurements, read_measurements
from mncost.fidelity.model import GROUPS, ModelParams, NetworkSet, build_network_set, layer_times_s, predict_latency_s
from mncost.fidelity.profile import check_profile
from mncost.fidelity.report import render_fit

TESTS = Path(__file__).resolve().parent
REPO = TESTS.parent
BAD_CSV = sorted((TESTS / "fixtures_fidelity" / "bad_csv").glob("*.csv"))

# Networks spanning memory- and compute-bound, with and without attention: cheap to walk.
CONFIGS = [
    ("v1", 0.25, 128, None), ("v1", 1.0, 224, None), ("v2", 0.5, 160, None), ("v2", 1.4, 224, None),
    ("v3-small", 1.0, 224, None), ("v3-large", 0.5, 224, "paper"), ("v4-conv-s", 1.0, 224, None),
    ("v4-conv-m", 1.0, 256, None), ("v4-hybrid-m", 1.0, 256, None), ("v4-hybrid-m", 0.5, 192, None),
]


def walks(configs=CONFIGS):
    return [mncost.walk(mncost.load_spec(m), alpha=a, resolution=r, width_rule=w) for m, a, r, w in configs]


@pytest.fixture(scope="module")
def int8_set() -> NetworkSet:
    return build_network_set(walks(), weight_dtype="int8", activation_dtype="int8")


# The ten above have no LayerNorm and no smooth activation: the recovery tests add networks that do
# (ConvNeXt-Atto: LayerNorm + GELU; EfficientNet-B0: swish; FastViT-T8: GELU; EfficientViT-B1: a LayerNorm head).
RECOVERY_CONFIGS = CONFIGS + [("convnext-atto", 1.0, 160, None), ("efficientnet-b0", 1.0, 160, None), ("fastvit-t8", 1.0, 160, None),
                              ("efficientvit-b1", 1.0, 160, None)]


@pytest.fixture(scope="module")
def recovery_set() -> NetworkSet:
    return build_network_set(walks(RECOVERY_CONFIGS), weight_dtype="int8", activation_dtype="int8")


# -- the model equals mncost's plain roofline --------------------------------------------


@pytest.mark.parametrize("hw_name", ["cpu", "gpu", "edgetpu"])
@pytest.mark.parametrize("batch", [1, 3])
def test_refinements_off_is_exactly_analyze(hw_name, batch):
    hw = mncost.load_hardware(hw_name)
    ws = walks()
    net = build_network_set(ws, weight_dtype=hw.weight_dtype, activation_dtype=hw.activation_dtype, batches=[batch] * len(ws))
    off = ModelParams(hw.peak_macs_per_s, hw.mem_bw_bytes_per_s, overhead_s=0.0, invoke_s=0.0, onchip_bytes=0.0,
                      slowdown={g: 1.0 for g in GROUPS})
    expected = [mncost.analyze(w.spec, hw, alpha=w.alpha, resolution=w.resolution, width_rule=w.width_rule, batch=batch).totals.latency_s for w in ws]
    for params in (ModelParams(hw.peak_macs_per_s, hw.mem_bw_bytes_per_s), off):
        got = predict_latency_s(net, params)
        assert got.tolist() == pytest.approx(expected, rel=1e-12)
    per_layer = layer_times_s(net, off)[net.net_index == 0]
    analyzed = mncost.analyze(ws[0].spec, hw, alpha=ws[0].alpha, resolution=ws[0].resolution, batch=batch)
    assert per_layer.tolist() == pytest.approx([t.latency_s for t in analyzed.layers], rel=1e-12)


def test_each_refinement_adds_what_its_docstring_says(int8_set):
    base = ModelParams(1e12, 1e10)
    plain = predict_latency_s(int8_set, base)
    counts = int8_set.layer_counts
    assert predict_latency_s(int8_set, dataclasses.replace(base, overhead_s=2e-6)) == pytest.approx(plain + 2e-6 * counts, rel=1e-12)
    assert predict_latency_s(int8_set, dataclasses.replace(base, invoke_s=1e-3)) == pytest.approx(plain + 1e-3, rel=1e-12)
    slow = predict_latency_s(int8_set, dataclasses.replace(base, slowdown={"attention": 3.0}))
    attention = np.bincount(int8_set.net_index, weights=np.where(int8_set.group == GROUPS.index("attention"), layer_times_s(int8_set, base), 0.0))
    assert slow == pytest.approx(plain + 2.0 * attention, rel=1e-12)
    assert (attention[:8] == 0).all() and (attention[8:] > 0).all()  # only the hybrids have attention
    huge = predict_latency_s(int8_set, dataclasses.replace(base, onchip_bytes=1e12))  # everything on chip: weights only
    weights_only = np.bincount(int8_set.net_index, weights=np.maximum(int8_set.macs / 1e12, int8_set.weight_bytes / 1e10))
    assert huge == pytest.approx(weights_only, rel=1e-12)


def test_activation_cost_is_a_time_per_output_element_by_hand():
    # V3-Small at 224: its hard-swish / hard-sigmoid layers' output elements, counted from the walk by hand;
    # ReLU layers (and layers without an activation) add nothing.
    w = walks([("v3-small", 1.0, 224, None)])[0]
    hard = sum(mncost.ops.numel(x.out_shape) for x in w.layers if x.act in ("hswish", "hsigmoid"))
    relu = sum(1 for x in w.layers if x.act == "relu")
    assert hard > 0 and relu > 0
    net = build_network_set([w])
    base = ModelParams(1e12, 1e10)
    got = predict_latency_s(net, dataclasses.replace(base, act_s_per_elem={"hard": 2e-9}))
    assert got[0] == pytest.approx(predict_latency_s(net, base)[0] + 2e-9 * hard, rel=1e-12)
    assert predict_latency_s(net, dataclasses.replace(base, act_s_per_elem={"smooth": 2e-9}))[0] == predict_latency_s(net, base)[0]
    # analyze applies the same cost from a profile's refinements
    hw = dataclasses.replace(mncost.load_hardware("cpu"), refinements=mncost.hardware.Refinements(act_s_per_elem={"hard": 2e-9}))
    plain_refined = dataclasses.replace(hw, refinements=mncost.hardware.Refinements())
    a = mncost.analyze("v3-small", hw).totals.refined_latency_s - mncost.analyze("v3-small", plain_refined).totals.refined_latency_s
    assert a == pytest.approx(2e-9 * hard, rel=1e-9)
    # ... and says how much of it is activation cost (what a natively built graph did not show)
    assert mncost.analyze("v3-small", hw).totals.refined_activation_s == pytest.approx(2e-9 * hard, rel=1e-12)
    assert mncost.analyze("v3-small", plain_refined).totals.refined_activation_s is None


def test_native_graph_carries_no_activation_cost():
    # A network measured as a graph built natively for its runtime has no activation cost class:
    # the same walk exported carries its hard-swish elements; the roofline part is unchanged.
    w = walks([("v3-small", 1.0, 224, None)])[0]
    exported, native = build_network_set([w, w], native=[False, True]).act_elems()
    assert exported[mncost.ops.ACT_CLASSES.index("hard")] > 0 and native[1:].sum() == 0  # column 0: no class
    net = build_network_set([w, w], native=[False, True])
    base = ModelParams(1e12, 1e10)
    plain = predict_latency_s(net, base)
    costly = predict_latency_s(net, dataclasses.replace(base, act_s_per_elem={"hard": 2e-9}))
    assert plain[0] == plain[1] and costly[1] == plain[1] and costly[0] > plain[0]
    with pytest.raises(ValueError, match="one native flag per walk"):
        build_network_set([w, w], native=[True])


def test_graph_column_reaches_the_fit(tmp_path):
    rows = parse_measurements("model,latency_ms,graph\nv3-small,5,native\nv3-large,9,\nv2,7,exported\n")
    assert [r.graph for r in rows] == ["native", "exported", "exported"]
    assert [r.graph for r in parse_measurements(format_measurements(rows))] == ["native", "exported", "exported"]
    fit = fit_measurements(rows + parse_measurements("model,latency_ms\nv1,8\n"), name="x", select=False)
    hard = mncost.ops.ACT_CLASSES.index("hard")
    assert [bool(e[hard]) for e in fit.net.act_elems()] == [False, True, False, False]  # v3-small native; v2, v1 have none


def test_depthwise_kernels_above_25_taps_are_their_own_group():
    # 3×3 and 5×5 depthwise stay 'depthwise'; 7×7 (ConvNeXt, FastViT) are 'large_depthwise'; a
    # profile slowing 'depthwise' alone slows both, as before the split.
    dw = [x for w in walks([("convnext-atto", 1.0, 160, None), ("v4-conv-m", 1.0, 256, None)]) for x in w.layers if x.op == "dwconv"]
    taps_and_group = {(x.macs // mncost.ops.numel(x.out_shape), x.group) for x in dw}  # a depthwise layer's MACs per output = its taps
    assert taps_and_group == {(49, "large_depthwise"), (9, "depthwise"), (25, "depthwise")}
    cpu = mncost.load_hardware("cpu")

    def refined(slowdown):
        hw = dataclasses.replace(cpu, refinements=mncost.hardware.Refinements(slowdown=slowdown))
        return mncost.analyze("convnext-atto", hw, resolution=160).totals.refined_latency_s

    assert refined({"depthwise": 2.0}) == refined({"depthwise": 2.0, "large_depthwise": 2.0}) > refined({})
    assert refined({"depthwise": 2.0, "large_depthwise": 1.0}) == refined({})  # ConvNeXt has no small depthwise kernel


def test_batched_nnls_is_exact():
    from scipy.optimize import nnls

    rng = np.random.default_rng(1)
    z = rng.normal(size=(6, 12, 4))
    z[:, :, 0] = np.abs(z[:, :, 0]) + 1.0  # the roofline column
    t = rng.normal(size=(6, 12)) + 2.0
    got = F._nnls_batched(z, t)
    for b in range(6):
        want, _ = nnls(z[b], t[b])
        assert got[b] == pytest.approx(want, abs=1e-8)


# -- fits recover known parameters ----------------------------------------------------


TRUTH_BY_TERM = {  # every candidate term, at a size these fourteen networks can resolve
    "overhead": {"overhead_s": 5e-6},
    "invoke": {"invoke_s": 3e-4},
    "slow:depthwise": {"slowdown": {"depthwise": 2.5}},  # falls back onto the large kernels too (GROUP_FALLBACK)
    "slow:large_depthwise": {"slowdown": {"large_depthwise": 6.0}},  # ConvNeXt-Atto's and FastViT-T8's 7×7 depthwise
    "slow:se": {"slowdown": {"se": 3.0}},
    "slow:attention": {"slowdown": {"attention": 4.0}},
    "slow:elementwise": {"slowdown": {"elementwise": 2.0}},
    "slow:norm": {"slowdown": {"norm": 3.0}},
    "act:hard": {"act_s_per_elem": {"hard": 2e-9}},  # 2 ns per hard-swish output element
    "act:smooth": {"act_s_per_elem": {"smooth": 5e-9}},  # 5 ns per GELU / swish output element
}


def test_every_candidate_term_has_a_recovery_case():
    assert set(TRUTH_BY_TERM) == set(F.TERMS)


def _assert_params(got, truth, rel):
    assert got.peak_macs_per_s == pytest.approx(truth.peak_macs_per_s, rel=rel)
    assert got.mem_bw_bytes_per_s == pytest.approx(truth.mem_bw_bytes_per_s, rel=rel)
    assert got.overhead_s == pytest.approx(truth.overhead_s, rel=rel, abs=1e-12)
    assert got.invoke_s == pytest.approx(truth.invoke_s, rel=rel, abs=1e-12)
    for g, factor in truth.slowdown.items():
        assert got.slowdown[g] == pytest.approx(factor, rel=rel)
    for c, seconds in truth.act_s_per_elem.items():
        assert got.act_s_per_elem[c] == pytest.approx(seconds, rel=rel)


def test_fit_recovers_peak_and_bandwidth_exactly(recovery_set):
    truth = ModelParams(1e11, 3e9)  # ridge 33 MACs/B: 0-74% of each network's time compute-bound, both roofs identifiable
    y = predict_latency_s(recovery_set, truth)
    got = F.fit_variant(recovery_set, y, F.PLAIN)
    _assert_params(got.params, truth, 1e-6)
    assert got.cost < 1e-15


@pytest.mark.parametrize("term", list(TRUTH_BY_TERM))
def test_fit_recovers_each_term_exactly(recovery_set, term):
    truth = ModelParams(1e11, 3e9, **TRUTH_BY_TERM[term])
    got = F.fit_variant(recovery_set, predict_latency_s(recovery_set, truth), F.with_terms([term]))
    _assert_params(got.params, truth, 1e-5)


def test_fit_recovers_all_terms_together_exactly(recovery_set):
    truth = ModelParams(1e11, 3e9, overhead_s=5e-6, invoke_s=3e-4, slowdown={"attention": 4.0, "depthwise": 2.0}, act_s_per_elem={"smooth": 5e-9})
    got = F.fit_variant(recovery_set, predict_latency_s(recovery_set, truth), F.with_terms(["overhead", "invoke", "slow:attention", "slow:depthwise", "act:smooth"]))
    _assert_params(got.params, truth, 1e-5)


def test_depthwise_and_large_depthwise_are_told_apart(recovery_set):
    # Both slowed, each at its own factor; a depthwise factor alone also slows the 7×7 layers.
    truth = ModelParams(1e11, 3e9, slowdown={"depthwise": 2.0, "large_depthwise": 6.0})
    got = F.fit_variant(recovery_set, predict_latency_s(recovery_set, truth), F.with_terms(["slow:depthwise", "slow:large_depthwise"]))
    _assert_params(got.params, truth, 1e-5)
    alone = ModelParams(1e11, 3e9, slowdown={"depthwise": 2.0})
    both = ModelParams(1e11, 3e9, slowdown={"depthwise": 2.0, "large_depthwise": 2.0})
    assert np.all(predict_latency_s(recovery_set, alone) == predict_latency_s(recovery_set, both))


@pytest.mark.parametrize("term", [None, *TRUTH_BY_TERM])
def test_fit_recovers_each_term_under_noise(recovery_set, term):
    # 2% multiplicative noise on 14 networks: the parameters come back within a few tens of percent,
    # and the fit explains the noiseless latencies to within the noise.
    truth = ModelParams(1e11, 3e9, **(TRUTH_BY_TERM[term] if term else {}))
    clean = predict_latency_s(recovery_set, truth)
    noise = np.exp(np.random.default_rng(0).normal(0.0, 0.02, recovery_set.n_networks))
    variant = F.with_terms([term]) if term else F.PLAIN
    got = F.fit_variant(recovery_set, clean * noise, variant).params
    assert got.peak_macs_per_s == pytest.approx(truth.peak_macs_per_s, rel=0.25)
    assert got.mem_bw_bytes_per_s == pytest.approx(truth.mem_bw_bytes_per_s, rel=0.25)
    if term:
        key, value = next(iter(TRUTH_BY_TERM[term].items()))
        fitted = getattr(got, key)[next(iter(value))] if isinstance(value, dict) else getattr(got, key)
        expected = next(iter(value.values())) if isinstance(value, dict) else value
        assert fitted == pytest.approx(expected, rel=0.35)
    assert np.max(np.abs(np.log(predict_latency_s(recovery_set, got) / clean))) < 0.05
    assert F.fit_variant(recovery_set, clean * noise, variant).params == got  # deterministic: fixed lattice, no random restarts


def test_fast_and_precise_fits_agree(int8_set):
    y = predict_latency_s(int8_set, ModelParams(1e11, 3e9, overhead_s=5e-6))
    fast = F.fit_variant(int8_set, y, F.with_terms(["overhead"]), precise=False).params
    precise = F.fit_variant(int8_set, y, F.with_terms(["overhead"])).params
    assert fast.ridge_macs_per_byte == pytest.approx(precise.ridge_macs_per_byte, rel=2 ** (1 / 16) - 1)  # within half a lattice step


def test_fixed_ridge_fits_only_the_scale(int8_set):
    y = predict_latency_s(int8_set, ModelParams(6e11, 6e11 / 40.0))
    got = F.fit_variant(int8_set, y, F.paper_ridge(40.0)).params
    assert got.ridge_macs_per_byte == pytest.approx(40.0, rel=1e-12)
    assert got.peak_macs_per_s == pytest.approx(6e11, rel=1e-6)


# -- leave-one-out, by hand -------------------------------------------------------------


def one_layer_networks(macs: list[float]) -> NetworkSet:
    n = len(macs)
    zeros = np.zeros(n)
    return NetworkSet(
        names=tuple(f"n{i}" for i in range(n)), net_index=np.arange(n), macs=np.asarray(macs, float),
        weight_bytes=zeros, act_read_bytes=zeros, act_write_bytes=zeros, in_tensor_bytes=zeros + 1, out_tensor_bytes=zeros + 1,
        group=np.zeros(n, dtype=np.int64), weight_dtype="int8", activation_dtype="int8",
    )


def test_leave_one_out_by_hand():
    # MACs alone, fitted scale: log peak = mean(log MACs − log latency) over the fitting rows.
    # MACs/latency ratios are 1e9, 1e9, 1e9 and 5e8 MAC/s (the last network is slow).
    net = one_layer_networks([1e6, 2e6, 4e6, 8e6])
    y = np.array([1e-3, 2e-3, 4e-3, 16e-3])
    loo = F.leave_one_out(net, y, F.MACS)
    # Networks 0-2 are predicted from peak = (1e9 · 1e9 · 5e8)^(1/3) = 1e9 · 2^(-1/3);
    # network 3 from the other three, all at 1e9: 8e6 / 1e9 = 8 ms.
    slow_peak = 1e9 * 2 ** (-1 / 3)
    assert loo.tolist() == pytest.approx([1e6 / slow_peak, 2e6 / slow_peak, 4e6 / slow_peak, 8e-3], rel=1e-12)
    s = F.score(loo, y)
    assert s.spearman == pytest.approx(1.0)  # the order survives
    assert s.worst_ape == pytest.approx(0.5)  # network 3: 8 ms predicted, 16 ms measured
    assert s.median_ape == pytest.approx(2 ** (1 / 3) - 1)  # networks 0-2 each 26% high
    # In sample the slow network pulls everyone: peak = (1e9³ · 5e8)^(1/4).
    inside = F.fit_variant(net, y, F.MACS).params.peak_macs_per_s
    assert inside == pytest.approx(1e9 * 2 ** (-1 / 4), rel=1e-12)


def test_leave_one_out_never_sees_the_row_it_predicts(int8_set):
    y = predict_latency_s(int8_set, ModelParams(1e11, 3e9, overhead_s=4e-6))
    for variant in (F.PLAIN, F.with_terms(["overhead"])):
        loo = F.leave_one_out(int8_set, y, variant)
        y_changed = y.copy()
        y_changed[3] *= 10  # only row 3's own measurement changes
        loo_changed = F.leave_one_out(int8_set, y_changed, variant)
        assert loo_changed[3] == pytest.approx(loo[3], rel=1e-9)
        assert not np.allclose(loo_changed[:3], loo[:3], rtol=1e-3)  # the others did see it


# -- honest selection: the held-out row never reaches its own fold ------------------------------


@pytest.fixture(scope="module")
def selection_case(int8_set):
    # A device with a real per-layer overhead and 2% noise: the selection has something to find.
    truth = ModelParams(1e11, 3e9, overhead_s=6e-6)
    noise = np.exp(np.random.default_rng(3).normal(0.0, 0.02, int8_set.n_networks))
    return F.Design.of(int8_set), predict_latency_s(int8_set, truth) * noise


@pytest.mark.parametrize("poison", [np.nan, 1e3, 1e-9])
@pytest.mark.parametrize("held_out", [0, 4, 8])
def test_poisoned_held_out_row_changes_nothing_in_its_fold(selection_case, held_out, poison):
    design, y = selection_case
    chosen, predicted = F.fold_prediction(F.Selector(design, y), held_out)
    bad = y.copy()
    bad[held_out] = poison if np.isnan(poison) else y[held_out] * poison
    chosen_bad, predicted_bad = F.fold_prediction(F.Selector(design, bad), held_out)
    assert chosen_bad == chosen and predicted_bad == predicted  # bit for bit: the row is never read


def test_poisoned_row_only_moves_the_folds_that_train_on_it(selection_case):
    design, y = selection_case
    clean = F.nested_selection(design, y)
    bad = y.copy()
    bad[4] *= 1e3
    poisoned = F.nested_selection(design, bad)
    assert poisoned.loo_predicted_s[4] == clean.loo_predicted_s[4] and poisoned.per_fold[4] == clean.per_fold[4]
    assert not np.allclose(np.delete(poisoned.loo_predicted_s, 4), np.delete(clean.loo_predicted_s, 4), rtol=1e-3)


def test_selection_reads_only_its_training_rows(selection_case):
    design, y = selection_case
    rows = [1, 2, 3, 5, 6, 7, 9]
    chosen, path = F.Selector(design, y).select(rows)
    masked = np.full_like(y, np.nan)
    masked[rows] = y[rows]
    assert F.Selector(design, masked).select(rows) == (chosen, path)


def test_nested_selection_does_not_depend_on_row_order():
    # Pixel 8 EdgeTPU (19 networks): several folds leave no compute-bound layer, so their ridge
    # is flat over a range; a bare argmin there picked by rounding, and the CSV's row order moved
    # the nested LOO r_s between 0.922 and 0.940 and the median error between 13.6 % and 19.5 %.
    rows = [r for r in paper.table6() if r.device == "Pixel 8 EdgeTPU"]
    orders = [rows, sorted(rows, key=lambda r: (r.model, r.alpha)), sorted(rows, key=lambda r: (r.status != "ok", r.latency_ms))]
    got = []
    for order in orders:
        fit = fit_measurements(order, name="p8", device="Pixel 8 EdgeTPU")
        by_config = {r.config: (p, c) for r, p, c in zip(fit.rows, fit.selection.loo_predicted_s, fit.selection.per_fold)}
        got.append((fit.selection.chosen.name, [by_config[r.config] for r in rows if r.status == "ok"]))
    for name, predictions in got[1:]:
        assert name == got[0][0]
        assert [c for _, c in predictions] == [c for _, c in got[0][1]]
        assert [p for p, _ in predictions] == pytest.approx([p for p, _ in got[0][1]], rel=1e-6)


def test_selection_finds_a_real_term_and_rarely_invents_one(int8_set):
    # Synthetic devices, 2% noise, 12 draws each: a real per-layer overhead is found; without one,
    # the plain roofline is kept in most draws (MIN_GAIN's calibration, fit.py).
    design = F.Design.of(int8_set)
    found = kept_plain = 0
    for seed in range(12):
        noise = np.exp(np.random.default_rng(200 + seed).normal(0.0, 0.02, int8_set.n_networks))
        with_overhead = predict_latency_s(int8_set, ModelParams(1e11, 3e9, overhead_s=6e-6)) * noise
        found += F.Selector(design, with_overhead).select(range(10))[0].terms == ("overhead",)
        plain = predict_latency_s(int8_set, ModelParams(1e11, 3e9)) * noise
        kept_plain += F.Selector(design, plain).select(range(10))[0] == F.PLAIN
    assert found == 12 and kept_plain >= 8


def test_candidate_terms_follow_the_architectures_only(int8_set):
    design = F.Design.of(int8_set)
    # attention is in networks 8 and 9 only (the two hybrids): too few for a slowdown
    assert "slow:attention" not in F.candidate_terms(design, range(10))
    assert F.candidate_terms(design, range(10))[:2] == ("overhead", "invoke")
    assert F.max_params(4) == 2 and F.max_params(10) == 4 and F.max_params(20) == 7


def test_a_group_seen_in_one_family_only_is_no_candidate(int8_set):
    # families come from the specs' `family`; the rule counts families among the training rows
    design = F.Design.of(int8_set)
    fam = [int8_set.family_of(i) for i in range(10)]
    assert fam[0] == fam[1] == "MobileNetV1" and fam[6] == fam[7] == fam[8] == "MobileNetV4"
    depthwise = design.has_group("depthwise")
    assert depthwise[[2, 3, 6, 7]].all()
    # three networks with depthwise layers, all MobileNetV4: one family, no slowdown
    assert "slow:depthwise" not in F.candidate_terms(design, [6, 7, 8])
    # the same count from two families: a candidate
    assert "slow:depthwise" in F.candidate_terms(design, [3, 6, 7])
    # networks without families (hand-built sets) are each their own family
    assert one_layer_networks([1e6, 2e6]).family_of(1) == "n1"


def test_score_by_hand():
    s = F.score(np.array([1.1, 1.8, 3.0, 5.0]), np.array([1.0, 2.0, 4.0, 3.0]))
    assert s.spearman == pytest.approx(0.8)  # ranks 1,2,3,4 vs 1,2,4,3: 1 − 6·2/(4·15)
    assert s.median_ape == pytest.approx((0.1 + 0.25) / 2)
    assert s.worst_ape == pytest.approx(2 / 3)
    assert s.n == 4


# -- measurement CSVs ---------------------------------------------------------------------


@pytest.mark.parametrize("path", BAD_CSV, ids=lambda p: p.stem)
def test_bad_measurements_fail_with_one_line(path: Path):
    first = path.read_text(encoding="utf-8").splitlines()[0]
    expected = first[len("# error: "):].replace("{file}", str(path)).replace("{dir}", str(path.parent))
    with pytest.raises(MncostError) as err:
        fit_measurements(read_measurements(path), name="x", refinements=())
    assert isinstance(err.value, MeasurementError)
    assert str(err.value) == expected
    assert "\n" not in str(err.value) and err.value.file == str(path)


def test_fixture_folder_is_populated():
    assert len(BAD_CSV) >= 20


def test_missing_file_and_device_errors(tmp_path):
    with pytest.raises(MeasurementError, match="file not found"):
        read_measurements(tmp_path / "none.csv")
    rows = paper.table6()
    with pytest.raises(MeasurementError, match="no rows of device 'Pixel 9'"):
        fit_measurements(rows, name="x", device="Pixel 9")
    with pytest.raises(MeasurementError, match="measures 7 devices"):
        fit_measurements(rows, name="x")
    with pytest.raises(mncost.OptionError, match="--ridge must be a positive"):
        fit_measurements(rows, name="x", device="Pixel 4 DSP", ridge_macs_per_byte=-1.0)
    with pytest.raises(mncost.OptionError, match="--dtype must be one of"):
        fit_measurements(rows, name="x", device="Pixel 4 DSP", dtype="int4")
    with pytest.raises(MeasurementError, match="the rows say dtype 'int8', the fit was asked for 'fp16'"):
        fit_measurements(rows, name="x", device="Pixel 4 DSP", dtype="fp16")


def test_csv_round_trip_and_spec_paths(tmp_path):
    (tmp_path / "nets").mkdir()
    (tmp_path / "nets" / "mine.yaml").write_text((REPO / "specs" / "v2.yaml").read_text())
    text = "# comment\nmodel,alpha,resolution,latency_ms,status\nnets/mine.yaml,0.5,160,1.5,ok\nv1,,,,failed\n"
    (tmp_path / "m.csv").write_text(text)
    rows = read_measurements(tmp_path / "m.csv")
    assert [(r.model, r.alpha, r.resolution, r.status, r.line) for r in rows] == [("nets/mine.yaml", 0.5, 160, "ok", 3), ("v1", 1.0, None, "failed", 4)]
    again = parse_measurements(format_measurements(rows, comments=("round trip",)), file=str(tmp_path / "m.csv"))
    strip = [dataclasses.replace(r, line=0) for r in rows]
    assert [dataclasses.replace(r, line=0) for r in again] == strip
    from mncost.fidelity.measurements import measurement_walk

    assert measurement_walk(rows[0]).resolution == 160


# -- the paper's data -------------------------------------------------------------------


def test_paper_rows_record_how_each_graph_was_made():
    # The papers' own TensorFlow MobileNets on TFLite are native graphs; PyTorch models (and every
    # CoreML row) were exported: the MobileNetV4 paper's Figure 1 caption.
    for r in paper.table6():
        tf_mobilenet = r.model.startswith(("v1", "v2", "v3-", "v4-")) and r.device != "iPhone 13 CoreML"
        assert r.graph == ("native" if tf_mobilenet else "exported"), (r.model, r.device)
    assert {r.graph for key in ("mnv3", "mnv2") for r in paper.dataset_rows(key)} == {"native"}


def test_paper_table6_data():
    rows = paper.table6()
    assert len(rows) == 22 * 7  # the 22 Table 6 models that are built-in specs, on 7 devices
    assert paper.devices(rows) == ["Pixel 6 CPU", "Pixel 8 EdgeTPU", "iPhone 13 CoreML", "Pixel 4 DSP", "Pixel 7 GPU", "Samsung S23 CPU", "Samsung S23 GPU"]
    failed = sorted(r.label for r in rows if r.status == "failed")
    assert {r.device for r in rows if r.status == "failed"} == {"Pixel 4 DSP"}  # the table's "Failed" is on the DSP only
    assert failed == ["ConvNext-S", "FastViT-S12", "FastViT-SA12", "FastViT-SA24", "FastViT-SA36", "FastViT-T8", "MNv4-Hybrid-L", "MNv4-Hybrid-M"]
    unreported = {(r.device, r.label) for r in rows if r.status == "not_reported"}
    efficientvit = {r.label for r in rows if r.model.startswith("efficientvit")}
    assert unreported == {(d, e) for d in ("Pixel 6 CPU", "Pixel 8 EdgeTPU", "Pixel 4 DSP", "Pixel 7 GPU") for e in efficientvit} | {
        ("iPhone 13 CoreML", m) for m in ("MNv4-Hybrid-M", "MNv4-Hybrid-L", "ConvNext-S", "FastViT-SA36")}
    assert {r.dtype for r in rows if "GPU" in r.device or "CoreML" in r.device} == {"fp16"}
    assert {r.dtype for r in rows if "GPU" not in r.device and "CoreML" not in r.device} == {"int8"}
    v3 = next(r for r in rows if r.model == "v3-large")
    w = mncost.walk(mncost.load_spec("v3-large"), alpha=v3.alpha, width_rule=v3.width_rule)
    assert round(sum(layer.params for layer in w.layers) / 1e6, 1) == 2.7  # the table's 2.7 M
    assert paper.table16()["Pixel 4 DSP"].ridge_macs_per_byte == 347.3


def test_table6_count_conflicts_are_the_ones_the_file_records():
    # The CSV's comments list where Table 6's Params / MACs differ from mncost's count of the same
    # configuration; everything else agrees within 4 %. (label: table's params M, MACs G)
    comments = paper.TABLE6.read_text(encoding="utf-8")
    table = {"MobileOne-S0": (2.1, 0.3), "MobileOne-S4": (14.8, 1.5), "FastViT-T8": (3.6, 0.7), "FastViT-S12": (8.8, 1.8),
             "FastViT-SA12": (10.9, 1.9), "FastViT-SA24": (20.6, 3.8), "FastViT-SA36": (30.4, 5.6), "ConvNext-S": (50.0, 8.7),
             "MIT-EfficientViT-B1-r224": (9.1, 0.5), "MIT-EfficientViT-B2-r256": (24.0, 2.1), "MIT-EfficientViT-B3-r224": (49.0, 4.0)}
    first = {r.label: r for r in paper.table6() if r.device == "Pixel 6 CPU"}
    for label, (params_m, macs_g) in table.items():
        r = first[label]
        w = mncost.walk(mncost.load_spec(r.model), alpha=r.alpha, resolution=r.resolution)
        params, macs = sum(x.params for x in w.layers) / 1e6, sum(x.macs for x in w.layers) / 1e9
        if label == "MobileOne-S4":  # re-parameterized S4: 2.98 G, the table prints 1.5 G
            assert round(macs, 2) == 2.98 and "1.5 G MACs; the re-parameterized S4 has 2.98 G" in comments
        elif label == "MobileOne-S0":  # 0.275 G, printed 0.3
            assert round(macs, 3) == 0.275 and "MobileOne-S0: 0.275 G MACs" in comments
        else:
            assert macs == pytest.approx(macs_g, rel=0.04), label
        if label.startswith("FastViT"):  # timm's re-parameterized FastViT: +0.4 to +1.0 M over the paper's figures
            assert 0.35 < params - params_m < 1.05 and f"{params:.2f}" in comments, label
        else:
            assert params == pytest.approx(params_m, rel=0.02), label


def test_paper_dsp_fit_and_its_profile(tmp_path):
    fit = fit_measurements(paper.table6(), name="pixel4-dsp", device="Pixel 4 DSP", ridge_macs_per_byte=347.3, refinements=(F.with_terms(["overhead"]),))
    assert len(fit.rows) == 11 and len(fit.skipped) == 11
    # The per-layer overhead is what the DSP's plain roofline misses (reports/fidelity/paper.md):
    # LOO r_s 0.916 → 0.975, median error 18.4 % → 10.6 %.
    assert fit.evaluation("+overhead").loo.spearman > fit.plain.loo.spearman + 0.05
    assert fit.evaluation("+overhead").loo.median_ape < fit.plain.loo.median_ape * 0.6
    path = tmp_path / "pixel4-dsp.yaml"
    fit.write_profile(path)
    hw = mncost.load_hardware(path)
    assert (hw.name, hw.weight_dtype) == ("pixel4-dsp", "int8")
    got = [mncost.analyze(r.model, hw, alpha=r.alpha, resolution=r.resolution, width_rule=r.width_rule).totals.latency_s for r in fit.rows]
    assert got == pytest.approx(fit.plain.predicted_s.tolist(), rel=1e-5)
    assert "leave-one-out" in hw.note and path.read_text().startswith("# Written by mncost fit")
    text = render_fit(fit)
    assert [line.split("|")[1].strip() for line in text.splitlines() if line.startswith("| ")][1:] == [
        "macs", "roofline", "roofline @RP 347.3", "+overhead", f"selected: {fit.selection.chosen.name}"]
    assert hw.expected_error is not None and hw.expected_error.networks == 11
    assert hw.expected_error.loo_median_ape == round(fit.selection.loo.median_ape, 6)
    record = fit.fit_record()
    assert record["variants"]["roofline"]["loo_spearman"] == round(fit.plain.loo.spearman, 6)
    with_record = check_profile(fit.profile(fit_key=True))  # the `fit:` record is kept, and ignored by the roofline
    assert with_record.fit["variants"]["roofline"]["loo_spearman"] == record["variants"]["roofline"]["loo_spearman"]
    assert with_record.peak_macs_per_s == hw.peak_macs_per_s


def test_fidelity_core_imports_no_torch_and_mncost_no_numpy():
    code = ("import sys, mncost; mncost.analyze('v2'); assert 'numpy' not in sys.modules and 'scipy' not in sys.modules; "
            "import mncost.fidelity.device, mncost.fidelity.report, mncost.fidelity.bench, mncost.fidelity.calibrate; "
            "assert 'torch' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=REPO)


# -- calibrate and bench (torch) --------------------------------------------------------


@pytest.fixture(scope="module")
def torch():
    if os.environ.get("CI"):
        import torch as module
    else:
        module = pytest.importorskip("torch")
    return module


def test_calibrate_quick(torch):
    from mncost.fidelity.calibrate import calibrate, calibration_profile

    before = torch.get_num_threads()
    cal = calibrate(threads=1, quick=True)
    assert torch.get_num_threads() == before
    assert cal.threads == 1 and cal.matmul_n == 128
    assert math.isfinite(cal.peak_macs_per_s) and cal.peak_macs_per_s > 1e7
    assert math.isfinite(cal.mem_bw_bytes_per_s) and cal.mem_bw_bytes_per_s > 1e6
    hw = check_profile(calibration_profile(cal))
    assert (hw.weight_dtype, hw.peak_macs_per_s) == ("fp32", pytest.approx(cal.peak_macs_per_s, rel=1e-3))


def test_bench_quick_per_layer(torch):
    from mncost.fidelity.bench import bench, bench_all, bench_grid

    hw = mncost.load_hardware("cpu")
    result = bench("v3-small", alpha=0.5, resolution=32, threads=1, hw=hw, quick=True)
    w = mncost.walk(mncost.load_spec("v3-small"), alpha=0.5, resolution=32)
    assert [layer.name for layer in result.layers] == [layer.name for layer in w.layers]
    assert result.unmatched == ()
    assert all(layer.measured_s > 0 for layer in result.layers)
    assert result.latency_s > 0 and result.threads == 1
    assert result.predicted_s == pytest.approx(mncost.analyze("v3-small", hw, alpha=0.5, resolution=32).totals.latency_s, rel=1e-12)
    rows = bench_all(bench_grid(quick=True), threads=1, quick=True)
    assert len(rows) == 4 and all(r.latency_ms > 0 and r.dtype == "fp32" and r.threads == 1 for r in rows)
    again = parse_measurements(format_measurements(rows))
    assert [(r.model, r.alpha, r.resolution, r.latency_ms) for r in again] == [(r.model, r.alpha, r.resolution, float(f"{r.latency_ms:.6g}")) for r in rows]


def test_bench_row_is_a_measurement(torch):
    from mncost.fidelity.bench import bench

    row = bench("v1", alpha=0.25, resolution=32, threads=1, quick=True, layer_runs=0).measurement()
    assert isinstance(row, Measurement) and row.device == "local-cpu" and row.runs == 3


def test_campaign_section_noise_line_and_verdict(tmp_path):
    """The committed ONNX Runtime campaign: the noise figures are its rows' IQR / median, and the verdict
    follows how many networks are above bench's 10 % mark (none, a few, many)."""
    import statistics

    from mncost.fidelity.report import campaign_section

    src = Path(__file__).resolve().parents[1] / "reports" / "fidelity" / "local_onnx_zoo_int8_measurements.csv"
    rows = read_measurements(src)
    noise = [r.latency_iqr_ms / r.latency_ms for r in rows]
    text = campaign_section(src)
    assert (f"from {min(noise):.1%} to {max(noise):.1%} (median {statistics.median(noise):.1%}); "
            f"{sum(n > 0.10 for n in noise)} of {len(rows)} networks above the 10% mark") in text
    for noisy, verdict in ((0, "Quiet enough to trust the medians."), (2, "Quiet but for those"), (3, "describe a busy machine")):
        changed = [dataclasses.replace(r, latency_iqr_ms=r.latency_ms * (0.2 if i < noisy else 0.01)) for i, r in enumerate(rows)]
        path = tmp_path / f"campaign{noisy}.csv"
        path.write_text(format_measurements(changed))
        assert verdict in campaign_section(path), noisy
