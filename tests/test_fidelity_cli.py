"""The fidelity commands end to end: fit, calibrate, bench (quick modes), the reports."""

from __future__ import annotations

import json
import os

import pytest

import mncost
from helpers import REPO, run_cli

TABLE6 = REPO / "mncost" / "fidelity" / "data" / "mnv4_table6_latency.csv"

if os.environ.get("CI"):
    import scipy  # noqa: F401
    import torch  # noqa: F401
else:
    pytest.importorskip("scipy")


def test_fit_writes_a_profile_that_analyze_uses(capsys, tmp_path):
    out = tmp_path / "pixel6-cpu.yaml"
    code, stdout, err = run_cli(capsys, "fit", str(TABLE6), "--name", "pixel6-cpu", "--device", "Pixel 6 CPU", "--ridge", "31.2", "--output", str(out))
    assert code == 0, err
    assert "pixel6-cpu: 19 measured networks of Pixel 6 CPU (int8), 3 skipped (failed / not reported)" in stdout
    assert "| roofline @RP 31.2 |" in stdout and "r_s LOO" in stdout
    hw = mncost.load_hardware(out)
    assert hw.fit["measurements"] == 19 and "roofline" in hw.fit["variants"]
    assert mncost.analyze("v4-conv-l", hw).totals.latency_s > mncost.analyze("v4-conv-s", hw).totals.latency_s


def test_fit_json(capsys):
    code, stdout, _ = run_cli(capsys, "fit", str(TABLE6), "--name", "dsp", "--device", "Pixel 4 DSP", "--format", "json")
    assert code == 0
    data = json.loads(stdout)
    assert data["measurements"] == 11 and set(data["variants"]) >= {"macs", "roofline"}
    for scores in data["variants"].values():
        assert -1 <= scores["loo_spearman"] <= 1 and scores["loo_median_ape"] >= 0


def test_fit_needs_a_device_when_the_csv_has_several(capsys):
    code, out, err = run_cli(capsys, "fit", str(TABLE6), "--name", "x")
    assert (code, out) == (2, "")
    assert err.startswith(f"error: {TABLE6}: device: the file measures 7 devices") and len(err.splitlines()) == 1


def test_fit_offers_only_the_formats_it_prints(capsys):
    # fit's help used to offer csv and then refuse it: the choices are now what it prints
    code, _, err = run_cli(capsys, "fit", str(TABLE6), "--name", "x", "--device", "Pixel 6 CPU", "--format", "csv")
    assert code == 2 and err.splitlines() == ["error: Invalid value for '--format' / '-f': 'csv' is not one of 'table', 'md', 'json'. (see 'mncost fit --help')"]


torch_needed = pytest.mark.skipif(not os.environ.get("CI") and __import__("importlib").util.find_spec("torch") is None, reason="torch extra not installed")


@torch_needed
def test_calibrate_quick_writes_a_loadable_profile(capsys, tmp_path):
    out = tmp_path / "local.yaml"
    code, stdout, err = run_cli(capsys, "calibrate", "--quick", "--threads", "1", "--output", str(out))
    assert code == 0, err
    assert "1 thread(s)" in stdout and "ridge point" in stdout
    hw = mncost.load_hardware(out)
    assert hw.peak_macs_per_s > 1e8 and hw.mem_bw_bytes_per_s > 1e8 and hw.weight_dtype == "fp32"


@torch_needed
def test_bench_quick_measures_and_predicts(capsys):
    code, stdout, err = run_cli(capsys, "bench", "v3-small", "--alpha", "0.5", "--resolution", "96", "--quick", "--threads", "1", "--hw", "cpu", "--format", "json")
    assert code == 0, err
    data = json.loads(stdout)
    expected = mncost.analyze("v3-small", "cpu", alpha=0.5, resolution=96)
    assert data["predicted_s"] == pytest.approx(expected.totals.latency_s, rel=1e-9)
    assert data["latency_s"] > 0 and data["threads"] == 1
    assert [x["name"] for x in data["layers"]] == [x.name for x in expected.layers]
    assert sum(1 for x in data["layers"] if x["measured_s"] is not None) > len(data["layers"]) // 2


@torch_needed
def test_bench_all_quick_then_fit(capsys, tmp_path):
    out = tmp_path / "local.csv"
    code, stdout, err = run_cli(capsys, "bench", "--all", "--quick", "--threads", "1", "--output", str(out))
    assert code == 0, err
    assert "local-cpu-fitted:" in stdout and "r_s LOO" in stdout
    code, stdout, err = run_cli(capsys, "fit", str(out), "--name", "again")
    assert code == 0, err


def test_bench_needs_model_or_all(capsys):
    code, _, err = run_cli(capsys, "bench")
    assert code == 2 and err.splitlines() == ["error: give a MODEL or --all, not both and not neither"]


def test_fitted_refinements_are_applied_by_analyze_beside_the_plain_roofline(capsys, tmp_path):
    from mncost.fidelity import paper
    from mncost.fidelity.device import fit_measurements
    from mncost.fidelity.measurements import measurement_walk
    from mncost.fidelity.model import build_network_set, predict_latency_s

    fit = fit_measurements(paper.table6(), name="p8", device="Pixel 8 EdgeTPU")
    path = tmp_path / "p8.yaml"
    fit.write_profile(path)
    hw = mncost.load_hardware(path)
    assert hw.refinements is not None and hw.refinements.invoke_s > 0
    refined = fit.refined.fit.params
    for k, row in enumerate(fit.rows):
        result = mncost.analyze(row.model, hw, alpha=row.alpha, resolution=row.resolution, width_rule=row.width_rule)
        net = build_network_set([measurement_walk(row)], weight_dtype="int8", activation_dtype="int8")
        # the profile keeps six significant digits per parameter, hence 1e-5
        assert result.totals.refined_latency_s == pytest.approx(float(predict_latency_s(net, refined)[0]), rel=1e-5)
        assert result.totals.latency_s == pytest.approx(float(fit.plain.predicted_s[k]), rel=1e-5)  # plain unchanged
    code, out, _ = run_cli(capsys, "analyze", "v4-conv-s", "--hw", str(path))
    assert code == 0 and "refined latency" in out and "(plain roofline)" in out


def test_profiles_without_refinements_report_none(capsys):
    code, out, _ = run_cli(capsys, "analyze", "v2", "--format", "json")
    data = json.loads(out)
    assert data["totals"]["refined_latency_s"] is None
    assert all(layer["refined_latency_s"] is None for layer in data["layers"])


def test_slowdown_groups_agree_between_profile_schema_and_roofline():
    from mncost.hardware import SLOWDOWN_GROUPS
    from mncost.roofline import GROUPS

    assert SLOWDOWN_GROUPS == GROUPS
