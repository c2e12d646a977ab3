"""The built-in profiles fitted to the papers' devices: what they record, that they are what the
code fits, and that the generic profiles' stated trustworthiness is what the data say."""

from __future__ import annotations

import os
import re

import pytest

import mncost
from helpers import REPO, run_cli

if os.environ.get("CI"):
    import numpy as np
else:
    np = pytest.importorskip("numpy")
    pytest.importorskip("scipy")

from mncost.fidelity import paper  # noqa: E402
from mncost.fidelity.catalog import _fit_one, meets_goal  # noqa: E402
from mncost.fidelity.fit import score  # noqa: E402
from mncost.fidelity.profile import profile_yaml  # noqa: E402

FITTED = [d for d in paper.measured_devices() if d.profile]


@pytest.mark.parametrize("device", FITTED, ids=lambda d: d.profile)
def test_every_fitted_profile_records_its_data_and_honest_error(device):
    hw = mncost.load_hardware(device.profile)
    rows = [r for r in paper.dataset_rows(device.dataset) if r.device == device.device and r.status == "ok"]
    assert hw.kind == "fitted" and hw.fit["device"] == device.device and paper.DATASETS[device.dataset].path.name in hw.fit["source"]
    e = hw.expected_error
    assert e is not None and e.networks == len(rows) == hw.fit["measurements"]
    assert 0 <= e.loo_median_ape < 1 and -1 <= e.loo_spearman <= 1
    assert hw.fit["selected"]["model"] == e.model and len(hw.fit["selected"]["chosen_per_fold"]) == len(rows)
    assert (hw.refinements is not None) == bool(hw.fit["selected"]["terms"])
    assert {r.source for r in rows} and all(r.source for r in rows)  # a source on every row


@pytest.mark.parametrize("profile", ["pixel2-cpu-fp32", "pixel1-cpu-int8"])
def test_shipped_profile_is_what_the_fit_writes(profile):
    device = next(d for d in FITTED if d.profile == profile)
    fit = _fit_one(device)
    assert profile_yaml(fit.profile(), comments=fit.comments()) == (REPO / "hardware" / f"{profile}.yaml").read_text(encoding="utf-8")


def test_analyze_on_a_fitted_profile_prints_the_expected_error(capsys):
    code, out, _ = run_cli(capsys, "analyze", "v3-small", "--hw", "pixel1-cpu-fp32", "--width-rule", "paper", "--format", "md")
    hw = mncost.load_hardware("pixel1-cpu-fp32")
    refined = mncost.analyze("v3-small", hw, width_rule="paper").totals.refined_latency_s
    assert code == 0 and refined is not None
    line = next(x for x in out.splitlines() if "selected model" in x)
    assert f"leave-one-out median error {hw.expected_error.loo_median_ape:.0%} over 21 measured networks" in line
    assert f"{refined * 1e3:.3g} ms" in line


def test_hardware_listing_says_how_far_to_trust_each_profile(capsys):
    import json

    _, out, _ = run_cli(capsys, "hardware", "--format", "json")
    rows = {row["name"]: row for row in json.loads(out)}
    assert {"cpu", "gpu", "edgetpu", "dsp"} | {d.profile for d in FITTED} == set(rows)
    assert rows["pixel6-cpu"]["networks"] == 19 and rows["pixel6-cpu"]["fidelity"].startswith("fitted: ")
    assert rows["cpu"]["fidelity"].startswith("Generic:") and rows["cpu"]["networks"] is None


@pytest.mark.parametrize("generic", ["cpu", "gpu", "edgetpu", "dsp"])
def test_generic_profiles_state_their_measured_error(generic):
    """The numbers in each generic profile's ``fidelity`` text, recomputed from the paper's data."""
    hw = mncost.load_hardware(generic)
    device = next(d for d in paper.measured_devices() if d.generic == generic)
    rows = [r for r in paper.dataset_rows(device.dataset) if r.device == device.device and r.status == "ok"]
    pred = np.array([mncost.analyze(r.model, hw, alpha=r.alpha, resolution=r.resolution, width_rule=r.width_rule or None).totals.latency_s for r in rows])
    y = np.array([r.latency_s for r in rows])
    s = score(pred, y)
    m = re.search(r"\((?:Table 6), (\d+) networks\) its plain roofline ranks with r_s ([\d.]+) and misses by a median (\d+)% \(predicts ([\d.]+)x", hw.fidelity)
    assert m is not None, hw.fidelity
    assert int(m[1]) == len(rows) and m[2] == f"{s.spearman:.3f}" and m[3] == f"{s.median_ape:.0%}"[:-1]
    assert m[4] == f"{np.median(pred / y):.2f}" and device.profile in hw.fidelity


def test_goal_is_judged_only_on_ten_or_more_networks():
    small = _fit_one(next(d for d in FITTED if d.profile == "pixel2-cpu-fp32"))
    assert meets_goal(small) is None


def test_paper_report_per_family_cell_is_the_geometric_mean_of_measured_over_predicted():
    from mncost.fidelity.report import paper_report

    device = next(d for d in FITTED if d.profile == "pixel6-cpu")
    fit = _fit_one(device)
    text = paper_report(fits=[(device, fit)])
    fastvit = [k for k, r in enumerate(fit.rows) if r.model.startswith("fastvit")]
    assert len(fastvit) == 5
    plain = float(np.exp(np.mean(np.log(fit.latency_s[fastvit] / fit.plain.loo_predicted_s[fastvit]))))
    selected = float(np.exp(np.mean(np.log(fit.latency_s[fastvit] / fit.selection.loo_predicted_s[fastvit]))))
    assert plain > 2.0  # FastViT runs over twice as slow as the plain roofline predicts on the Pixel 6 CPU
    assert f"| FastViT | {plain:.2f} → {selected:.2f} |" in text


def test_analyze_reads_a_fitted_profile_as_the_fit_predicted_each_row():
    # The profile's header lists each measured row with the selected model's in-sample prediction
    # (4 digits). analyze must give the same: the refined latency for an exported graph, and that
    # less the activation cost for a native one (MNv4-Hybrid-L's GELU is the case that differs).
    device = next(d for d in FITTED if d.profile == "s23-gpu")
    hw = mncost.load_hardware("s23-gpu")
    assert hw.refinements is not None and hw.refinements.act_s_per_elem  # the case under test
    rows = {(r.model, r.alpha, r.resolution): r for r in paper.dataset_rows(device.dataset) if r.device == device.device and r.status == "ok"}
    text = (REPO / "hardware" / "s23-gpu.yaml").read_text(encoding="utf-8")
    listed = re.findall(r"^#   ([\w-]+), ([\d.]+), (\d+), [\w-]+, 1, [\d.]+, [\d.]+, [\d.]+, ([\d.e+-]+), [\d.e+-]+$", text, flags=re.M)
    assert len(listed) == len(rows)
    differ = 0
    for model, alpha, resolution, selected_ms in listed:
        r = rows[(model, float(alpha), int(resolution))]
        t = mncost.analyze(r.model, hw, alpha=r.alpha, resolution=r.resolution, width_rule=r.width_rule or None).totals
        native = t.refined_latency_s - (t.refined_activation_s or 0.0)
        got = native if r.graph == "native" else t.refined_latency_s
        differ += r.graph == "native" and t.refined_activation_s > 0
        assert got * 1e3 == pytest.approx(float(selected_ms), rel=1e-3), (model, r.graph)
    assert differ == 1  # v4-hybrid-l
