"""``pick``: the most accurate configuration under a latency budget, checked against ``analyze``."""

from __future__ import annotations

import csv
import io
import json

import pytest

import mncost
from helpers import REPO, run_cli
from mncost.accuracy import builtin_table
from mncost.errors import OptionError
from mncost.hardware import load_hardware
from mncost.pick import frontier, pick

V123 = ("v1", "v2", "v3-large", "v3-small")


def brute_force(models, hw: str, budget_s: float, min_top1: float | None = None):
    """Every shipped row of ``models`` timed with mncost.analyze; the best that fits, by hand."""
    timed = []
    for (model, alpha, res, rule), entry in builtin_table().items():
        if model not in models or (min_top1 is not None and entry.top1 < min_top1):
            continue
        latency = mncost.analyze(model, hw, alpha=alpha, resolution=res, width_rule=rule).totals.latency_s
        timed.append((entry.top1, -latency, model, alpha, res, latency))
    fits = [t for t in timed if t[-1] <= budget_s]
    return max(fits) if fits else None, timed


@pytest.fixture(scope="module")
def v123_result():
    return pick([mncost.load_spec(m) for m in V123], [load_hardware(h) for h in ("edgetpu", "cpu", "gpu", "dsp")], budget_s=2e-3)


@pytest.mark.parametrize("hw", ["edgetpu", "cpu", "gpu", "dsp"])
def test_best_under_budget_matches_brute_force_over_analyze(v123_result, hw):
    best, _ = brute_force(V123, hw, 2e-3)
    got = next(p for p in v123_result.profiles if p.hardware == hw)
    top1, _, model, alpha, res, latency = best
    assert (got.best.model, got.best.alpha, got.best.resolution, got.best.top1) == (model, alpha, res, top1)
    assert got.best.latency_s == pytest.approx(latency, rel=1e-12)
    assert got.margin_s == pytest.approx(2e-3 - latency, rel=1e-9)


def test_hand_checked_choices_differ_between_profiles(v123_result):
    # TF-slim numbers under 2 ms: the Edge TPU profile takes V3-Small (67.5; V3-Large 0.75 needs more),
    # the CPU profile V2 1.0 at 160 (68.8), the GPU and DSP profiles V3-Large 1.0 (75.2)
    best = {p.hardware: (p.best.label, p.best.top1) for p in v123_result.profiles}
    assert best == {"edgetpu": ("v3-small α=1 r=224", 67.5), "cpu": ("v2 α=1 r=160", 68.8),
                    "gpu": ("v3-large α=1 r=224", 75.2), "dsp": ("v3-large α=1 r=224", 75.2)}
    assert v123_result.choice_changes


def test_picks_are_sorted_fit_and_the_frontier_is_not_dominated(v123_result):
    for p in v123_result.profiles:
        assert all(c.latency_s <= 2e-3 for c in p.picks)
        assert [c.top1 for c in p.picks] == sorted((c.top1 for c in p.picks), reverse=True)
        assert p.best in p.frontier
        lat = [c.latency_s for c in p.frontier]
        assert lat == sorted(lat) and [c.top1 for c in p.frontier] == sorted(c.top1 for c in p.frontier)
        under = [c for c in p.near if c.latency_s <= 2e-3]
        assert under and under[-1] == p.best
        assert p.next_better is None or (p.next_better.latency_s > 2e-3 and p.next_better.top1 > p.best.top1)


def test_a_fitted_profile_is_timed_by_its_selected_model(capsys):
    # On a fitted profile pick uses the prediction analyze stands behind (the selected model), says so
    # with its leave-one-out error, and keeps the plain roofline beside it; a generic profile is unchanged.
    fitted, generic = load_hardware("pixel6-cpu"), load_hardware("cpu")
    assert fitted.refinements is not None and fitted.expected_error is not None
    r = pick([mncost.load_spec(m) for m in ("v2", "fastvit-t8")], [fitted, generic], budget_s=30e-3)
    on_fitted, on_generic = r.profiles
    assert on_fitted.prediction == f"selected model ({fitted.expected_error.sentence()})" and on_generic.prediction == "plain roofline"
    for c in on_fitted.all:
        t = mncost.analyze(c.model, fitted, alpha=c.alpha, resolution=c.resolution, width_rule=c.width_rule).totals
        assert (c.latency_s, c.plain_latency_s) == (t.refined_latency_s, t.latency_s)
    assert all(c.latency_s == c.plain_latency_s for c in on_generic.all)
    slower = [c for c in on_fitted.all if c.model == "fastvit-t8"]  # its 7×7 depthwise: far above the plain roofline
    assert slower and all(c.latency_s > 2 * c.plain_latency_s for c in slower)
    code, out, _ = run_cli(capsys, "pick", "--budget-ms", "30", "--models", "v2,fastvit-t8", "--hw", "pixel6-cpu", "--format", "json")
    doc = json.loads(out)["hardware"][0]
    assert code == 0 and doc["prediction"].startswith("selected model (leave-one-out median error") and "plain_latency_s" in doc["best"]


def test_frontier_definition():
    from mncost.pick import Candidate

    def c(top1, lat):
        return Candidate("m", 1.0, 224, "r", top1, "s", 1, 1, lat)

    pts = [c(70, 1.0), c(69, 2.0), c(72, 2.0), c(72, 3.0), c(75, 4.0)]
    assert frontier(pts) == [pts[0], pts[2], pts[4]]


def test_nothing_fits_reports_the_fastest_and_how_far_over():
    result = pick([mncost.load_spec(m) for m in V123], [load_hardware("edgetpu")], budget_s=2e-3, min_top1=75)
    p = result.profiles[0]
    best, timed = brute_force(V123, "edgetpu", 2e-3, min_top1=75)
    assert best is None and p.best is None and p.picks == ()
    fastest = min(timed, key=lambda t: t[-1])
    assert p.fastest_over.latency_s == pytest.approx(fastest[-1], rel=1e-12)
    assert p.margin_s == pytest.approx(2e-3 - fastest[-1], rel=1e-9) and p.margin_s < 0


def test_identical_networks_under_two_rules_are_listed_once(v123_result):
    for p in v123_result.profiles:
        labels = [c.label for c in p.picks]
        assert len(labels) == len(set(labels))


def test_a_user_spec_with_its_own_top1_is_a_candidate(capsys, tmp_path):
    text = (REPO / "specs" / "v2.yaml").read_text(encoding="utf-8").replace("name: v2", "name: my-net").replace("top1: 72.0", "top1: 99.0")
    path = tmp_path / "my-net.yaml"
    path.write_text(text, encoding="utf-8")
    code, out, err = run_cli(capsys, "pick", "--hw", "edgetpu", "--budget-ms", "5", "--models", f"v3-small,{path}", "--format", "json")
    assert code == 0, err
    data = json.loads(out)
    best = data["hardware"][0]["best"]
    assert (best["model"], best["alpha"], best["resolution"], best["top1"]) == ("my-net", 1.0, 224, 99.0)
    assert best["latency_s"] == pytest.approx(mncost.analyze(path, "edgetpu").totals.latency_s, rel=1e-12)


def test_cli_formats(capsys, tmp_path):
    code, out, err = run_cli(capsys, "pick", "--hw", "edgetpu,cpu", "--budget-ms", "2", "--models", ",".join(V123), "--format", "csv")
    assert code == 0, err
    rows = list(csv.DictReader(io.StringIO(out)))
    picks = {r["hardware"]: r for r in rows if r["role"] == "pick" and r["rank"] == "1"}
    assert (picks["edgetpu"]["model"], picks["edgetpu"]["top1"]) == ("v3-small", "67.5")
    assert (picks["cpu"]["model"], picks["cpu"]["resolution"]) == ("v2", "160")
    assert all(r["fits"] == "True" for r in rows if r["role"] == "pick")
    code, out, err = run_cli(capsys, "pick", "--hw", "edgetpu,cpu", "--budget-ms", "2", "--models", ",".join(V123), "--format", "md")
    assert code == 0, err
    assert out.startswith("# Pick: budget 2 ms per image") and "The choice changes between profiles" in out
    assert "| edgetpu | v3-small α=1 r=224 | 67.5 |" in out
    target = tmp_path / "pick.json"
    code, out, err = run_cli(capsys, "pick", "--hw", "gpu", "--budget-ms", "2", "--models", ",".join(V123), "--format", "json", "--output", str(target))
    assert code == 0 and out == ""
    data = json.loads(target.read_text(encoding="utf-8"))
    assert data["budget_s"] == 0.002 and data["hardware"][0]["best"]["model"] == "v3-large" and data["choice_changes"] is False
    code, out, err = run_cli(capsys, "pick", "--hw", "cpu", "--budget-ms", "2", "--models", "v2")
    assert code == 0 and "v2 α=1 r=160" in out


@pytest.mark.parametrize("args,message", [
    (["--budget-ms", "0"], "--budget-ms must be a positive finite number, got 0"),
    (["--budget-ms", "-1"], "--budget-ms must be a positive finite number, got -1"),
    (["--budget-ms", "nan"], "--budget-ms must be a positive finite number, got nan"),
    (["--budget-ms", "inf"], "--budget-ms must be a positive finite number, got inf"),
    (["--budget-ms", "2", "--min-top1", "100"], "--min-top1 must be a percentage in (0, 100), got 100"),
    (["--budget-ms", "2", "--min-top1", "-5"], "--min-top1 must be a percentage in (0, 100), got -5"),
    (["--budget-ms", "2", "--top", "0"], "--top must be a positive integer, got 0"),
    (["--budget-ms", "2", "--hw", "tpu9"], "unknown hardware 'tpu9'"),
    (["--budget-ms", "2", "--models", "v9"], "unknown model 'v9'"),
    (["--budget-ms", "2", "--models", "v1-cifar"], "no configuration has a published top-1 among the models given (v1-cifar)"),
    (["--budget-ms", "2", "--min-top1", "99"], "no configuration with top-1 ≥ 99 has a published top-1"),
])
def test_bad_options_are_one_line_exit_2(capsys, args, message):
    code, out, err = run_cli(capsys, "pick", "--hw", "cpu", *args) if "--hw" not in args else run_cli(capsys, "pick", *args)
    assert code == 2 and out == ""
    assert err.startswith("error: ") and message in err and err.count("\n") == 1, err


def test_missing_budget_is_a_usage_error(capsys):
    code, _, err = run_cli(capsys, "pick", "--hw", "cpu")
    assert code == 2 and "--budget-ms" in err


def test_library_validates_too():
    with pytest.raises(OptionError, match="positive finite number of seconds"):
        pick([mncost.load_spec("v2")], [load_hardware("cpu")], budget_s=float("nan"))
    with pytest.raises(OptionError, match="no hardware profiles"):
        pick([mncost.load_spec("v2")], [], budget_s=1e-3)


def test_report_pick_writes_the_chart_and_the_tables(capsys, tmp_path):
    import matplotlib.image as mpimg

    out_dir = tmp_path / "rep"
    code, _, err = run_cli(capsys, "report", "--pick", "--budget-ms", "2", "--hw", "edgetpu,cpu", "--models", ",".join(V123), "--output-dir", str(out_dir))
    assert code == 0, err
    assert {p.name for p in out_dir.iterdir()} == {"report.md", "report.html", "pick.csv", "pick.json", "pick.png", "pick.svg"}
    pixels = mpimg.imread(out_dir / "pick.png")
    assert pixels.ndim == 3 and pixels.std() > 0
    md = (out_dir / "report.md").read_text(encoding="utf-8")
    assert "![" in md and "(pick.png)" in md and "| edgetpu | v3-small α=1 r=224 | 67.5 |" in md
    data = json.loads((out_dir / "pick.json").read_text(encoding="utf-8"))
    assert [h["best"]["model"] for h in data["hardware"]] == ["v3-small", "v2"]
    code, out, err = run_cli(capsys, "report", "--pick", "--output-dir", str(tmp_path / "rep2"))
    assert code == 2 and err == "error: --budget-ms is required\n" and not (tmp_path / "rep2").exists()


def test_readme_example_is_the_real_output(capsys):
    text = (REPO / "README.md").read_text(encoding="utf-8")
    block = text.split("The first command prints", 1)[1].split("```", 2)[1]
    code, out, err = run_cli(capsys, "pick", "--hw", "edgetpu,cpu", "--budget-ms", "2", "--models", ",".join(V123), "--top", "3", "--format", "md")
    assert code == 0, err
    lines = set(out.splitlines())
    shown = [line for line in block.splitlines() if line.strip()]
    assert len(shown) > 10 and all(line in lines for line in shown), [line for line in shown if line not in lines]


def test_two_inputs_with_one_name_are_refused(capsys):
    code, out, err = run_cli(capsys, "pick", "--hw", "cpu", "--budget-ms", "2", "--models", f"v2,{REPO / 'specs' / 'v2.yaml'}")
    assert code == 2 and out == "" and "names must be unique" in err and err.count("\n") == 1
