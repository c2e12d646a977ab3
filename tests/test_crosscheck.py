"""The cross-check agrees exactly on every built-in and catches real errors, naming the layer."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys

import pytest

if os.environ.get("CI"):  # CI installs the torch extra: these tests must run there, never skip
    import fvcore  # noqa: F401
    import torch  # noqa: F401
else:
    pytest.importorskip("torch")
    pytest.importorskip("fvcore")

import mncost
from helpers import REPO, run_cli
from mncost.blocks import BLOCK_TYPES
from mncost.crosscheck import crosscheck, grid


def _tested_points():
    """Every MobileNet grid point; for the zoo (torch models up to 50x slower to trace) each spec's
    default point here, its whole grid by ``mncost crosscheck --all``."""
    zoo = {e["spec"] for e in mncost.reference.counts()["entries"] if e.get("generated_by") == "mncost/reference/zoo.py"}
    points = []
    for p in grid():
        if p[0] in zoo and not (p[2] == 1.0 and p[3] == mncost.load_spec(p[0]).resolution):
            continue
        points.append(p)
    return points


@pytest.mark.parametrize("point", _tested_points(), ids=lambda p: f"{p[0]}-{p[1]}-a{p[2]}-r{p[3]}")
def test_every_builtin_grid_point_is_exact(point):
    name, rule, alpha, res = point
    result = crosscheck(name, alpha=alpha, resolution=res, width_rule=rule)
    assert not result.mismatched_layers, [(d.name, d.problems) for d in result.mismatched_layers[:3]]
    assert all(t.ok for t in result.totals), result.totals
    assert result.unsupported_ops == {}
    if name != "v1-cifar":
        assert result.reference is not None and result.reference.ok, result.reference
    assert result.ok


def test_grid_covers_every_builtin_and_all_pinned_points():
    points = grid()
    assert {p[0] for p in points} == set(mncost.builtin.spec_files())
    assert len(points) == 144 + 5 + 89  # MobileNet grids, V1-CIFAR widths, the zoo grids (mncost/reference/zoo_counts.json)


def test_a_wrong_count_is_caught_and_named(monkeypatch):
    original = BLOCK_TYPES["ir"]

    def off_by_one(block, ctx, shape, name):
        layers, out = original.expand(block, ctx, shape, name)
        return [dataclasses.replace(x, macs=x.macs + 1) if x.name == "stage3.1.dw" else x for x in layers], out

    monkeypatch.setitem(BLOCK_TYPES, "ir", dataclasses.replace(original, expand=off_by_one))
    result = crosscheck("v2", use_reference=False)
    assert not result.ok
    assert [d.name for d in result.mismatched_layers] == ["stage3.1.dw"]
    assert result.mismatched_layers[0].problems == ["MACs 1,354,753 vs fvcore 1,354,752"]  # 192 channels · 3·3 · 28·28, plus the injected 1


def test_a_wrong_shape_is_caught_and_named(monkeypatch):
    original = BLOCK_TYPES["pool"]

    def wrong_shape(block, ctx, shape, name):
        layers, out = original.expand(block, ctx, shape, name)
        return [dataclasses.replace(layers[0], out_shape=(shape[0], 2, 2))], (shape[0], 2, 2)

    monkeypatch.setitem(BLOCK_TYPES, "pool", dataclasses.replace(original, expand=wrong_shape))
    result = crosscheck("v1", use_reference=False)
    bad = {d.name: d.problems for d in result.mismatched_layers}
    assert bad["head.0"] == ["shape (1024, 2, 2) vs torch (1024, 1, 1)"]


def test_a_wrong_spec_disagrees_with_the_reference_implementation(capsys, tmp_path):
    text = (REPO / "specs" / "v2.yaml").read_text().replace("{type: ir, expand: 6, out: 32, n: 3, stride: 2}", "{type: ir, expand: 6, out: 40, n: 3, stride: 2}")
    assert "out: 40" in text
    wrong = tmp_path / "v2.yaml"
    wrong.write_text(text)
    result = crosscheck(wrong)
    assert not result.mismatched_layers  # the torch model is built from the same (wrong) spec...
    assert result.reference is not None and not result.reference.ok  # ...but torchvision's V2 differs
    assert result.reference.layer_problems[0].startswith("stage3.0.project ↔ features.4.conv.2: MACs")
    code, out, _ = run_cli(capsys, "crosscheck", str(wrong))
    assert code == 1
    assert "MISMATCH" in out and "stage3.0.project" in out


def test_unsupported_operators_are_reported_not_dropped(monkeypatch):
    from mncost.crosscheck import fvcount

    monkeypatch.setattr(fvcount, "ELEMENTWISE_OPS", fvcount.ELEMENTWISE_OPS - {"aten::hardswish", "aten::hardswish_"})
    result = crosscheck("v3-small", use_reference=False)
    assert not result.ok
    assert set(result.unsupported_ops) & {"aten::hardswish", "aten::hardswish_"}


def test_cli_json_and_exit_code(capsys):
    code, out, _ = run_cli(capsys, "crosscheck", "v4-hybrid-m", "--format", "json")
    assert code == 0
    data = json.loads(out)
    assert data["ok"] is True and data["mismatched_layers"] == []
    totals = {t["quantity"]: t for t in data["totals"]}
    assert totals["attention MACs"]["torch"] == 41_943_040
    assert data["reference"]["source"] in ("committed", "live")


def test_user_spec_without_reference(capsys, tmp_path):
    spec = tmp_path / "tiny.yaml"
    spec.write_text(
        "name: tiny\nsource: test\nresolution: 40\nstages:\n  - name: body\n    blocks:\n"
        "      - {type: conv, out: 16, k: 3, stride: 2, act: relu}\n"
        "      - {type: uib, start_dw: 3, mid_dw: 5, expand: 4, out: 24, stride: 2}\n"
        "      - {type: mqa, heads: 2, key_dim: 16, value_dim: 16, kv_stride: 2, query_stride: 2, out: 24}\n"
        "      - {type: fused_ib, out: 24, expand: 2}\n"
        "      - {type: fc, out: 10, width: fixed}\n"
    )
    result = crosscheck(spec)
    assert result.ok, [(d.name, d.problems) for d in result.mismatched_layers]
    assert result.reference is None and "no reference count" in result.reference_note


def test_without_the_torch_extra_it_says_how_to_install(capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "fvcore", None)
    code, out, err = run_cli(capsys, "crosscheck", "v2")
    assert (code, out) == (2, "")
    assert err.splitlines() == ["error: crosscheck needs torch and fvcore: pip install torch==2.13.0 && pip install 'mncost[torch]'"]


def test_model_or_all_not_both(capsys):
    code, _, err = run_cli(capsys, "crosscheck", "v2", "--all")
    assert code == 2 and err.splitlines() == ["error: give a MODEL or --all, not both and not neither"]


# -- --reference: the real network, layers paired by execution order ----------------------------

import torch  # noqa: E402
from torch import nn  # noqa: E402

from mncost.crosscheck import budget, crosscheck_many  # noqa: E402
from mncost.crosscheck.quiet import quiet_dependencies  # noqa: E402
from mncost.crosscheck.reference_model import parse  # noqa: E402
from mncost.torchnet import SpecNet  # noqa: E402
from mncost.errors import OptionError  # noqa: E402
from mncost.spec import load_spec  # noqa: E402

PLAIN = (
    "name: plain\nsource: test\nresolution: 32\nstages:\n  - name: body\n    blocks:\n"
    "      - {type: conv, out: 16, k: 3, stride: 2, act: relu}\n"
    "      - {type: dwconv, k: 3, act: relu}\n"
    "      - {type: pwconv, out: PW_OUT, act: relu}\n"
    "      - {type: pool}\n"
    "      - {type: fc, out: 10, width: fixed}\n"
)


class HandWritten(nn.Module):
    """PLAIN with PW_OUT=32, written by hand: other names, and defined out of execution order."""

    def __init__(self) -> None:
        super().__init__()
        self.classifier = nn.Linear(32, 10)
        self.project, self.project_bn = nn.Conv2d(16, 32, 1, bias=False), nn.BatchNorm2d(32)
        self.first, self.first_bn = nn.Conv2d(3, 16, 3, 2, 1, bias=False), nn.BatchNorm2d(16)
        self.depthwise, self.depthwise_bn = nn.Conv2d(16, 16, 3, 1, 1, groups=16, bias=False), nn.BatchNorm2d(16)

    def forward(self, x):
        x = torch.relu(self.first_bn(self.first(x)))
        x = torch.relu(self.depthwise_bn(self.depthwise(x)))
        x = torch.relu(self.project_bn(self.project(x)))
        return self.classifier(torch.flatten(nn.functional.adaptive_avg_pool2d(x, 1), 1))


def _plain(tmp_path, pw_out=32):
    path = tmp_path / f"plain{pw_out}.yaml"
    path.write_text(PLAIN.replace("PW_OUT", str(pw_out)))
    return path


def test_a_hand_written_network_with_other_names_is_paired_by_execution_order(tmp_path):
    result = crosscheck(_plain(tmp_path), reference=HandWritten())
    assert result.ok, result.reference
    assert result.reference.layer_problems == ()
    assert {t.quantity: t.other for t in result.reference.totals} == {
        # 16·27·16² + 16·9·16² + 32·16·16² + 32·10; params 432 + 144 + 512 + 330; BN 2·(16+16+32)
        "conv + linear MACs": 110592 + 36864 + 131072 + 320, "attention MACs": 0, "params": 1418, "BN + layer-scale params": 128}
    assert "4 conv/linear/attention layers paired" in result.reference.note


def test_a_wrong_spec_against_the_hand_written_network_names_the_first_differing_layers(tmp_path):
    result = crosscheck(_plain(tmp_path, pw_out=24), reference=HandWritten())
    assert result.mismatched_layers == []  # the spec agrees with itself...
    assert not result.ok and not result.reference.ok  # ...not with the network
    assert result.reference.layer_problems[:2] == (
        "body.2 ↔ project: MACs 98,304 vs 131,072, params 384 vs 512, shape (24, 16, 16) vs (32, 16, 16)",
        "body.4 ↔ classifier: MACs 240 vs 320, params 250 vs 330",
    )


def test_the_spec_net_as_its_own_reference_agrees_attention_included(tmp_path):
    spec = tmp_path / "tiny.yaml"
    spec.write_text(
        "name: tiny\nsource: test\nresolution: 40\nstages:\n  - name: body\n    blocks:\n"
        "      - {type: conv, out: 16, k: 3, stride: 2, act: relu}\n"
        "      - {type: mqa, heads: 2, key_dim: 16, value_dim: 16, kv_stride: 2, query_stride: 2, out: 16}\n"
        "      - {type: fc, out: 10, width: fixed}\n"
    )
    net = SpecNet(load_spec(spec))
    net(torch.zeros(1, 3, 40, 40))  # materialize the lazy classifier
    result = crosscheck(spec, reference=net)
    assert result.ok, result.reference
    totals = {t.quantity: t for t in result.reference.totals}
    assert totals["attention MACs"].other == totals["attention MACs"].mncost > 0


@pytest.mark.parametrize("text,expected", [
    ("torchvision:mobilenet_v2", ("torchvision", "mobilenet_v2", ())),
    ("timm:mobilenetv4_conv_small?channel_multiplier=0.75", ("timm", "mobilenetv4_conv_small", (("channel_multiplier", 0.75),))),
    ("timm:m?a=1&b=true,c=x&d=none", ("timm", "m", (("a", 1), ("b", True), ("c", "x"), ("d", None)))),
])
def test_reference_names_parse(text, expected):
    ref = parse(text)
    assert (ref.library, ref.name, ref.kwargs) == expected


@pytest.mark.parametrize("text", ["mobilenet_v2", "keras:x", "timm:", "timm:x?=1", "timm:x?a"])
def test_bad_reference_names_are_one_line_errors(capsys, text):
    code, out, err = run_cli(capsys, "crosscheck", "v2", "--reference", text)
    assert (code, out) == (2, "")
    assert len(err.splitlines()) == 1 and err.startswith("error: --reference")


def test_a_reference_library_that_is_not_installed_is_named(capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "timm", None)
    code, out, err = run_cli(capsys, "crosscheck", "v2", "--reference", "timm:mobilenetv3_small_100")
    assert (code, out) == (2, "")
    assert err.splitlines() == ["error: --reference timm:mobilenetv3_small_100: timm is not installed here (pip install timm)"]


def test_torchvision_reference(capsys):
    pytest.importorskip("torchvision")
    assert crosscheck("v2", reference="torchvision:mobilenet_v2").ok
    wrong = (REPO / "specs" / "v2.yaml").read_text().replace("{type: ir, expand: 6, out: 32, n: 3, stride: 2}", "{type: ir, expand: 6, out: 40, n: 3, stride: 2}")
    result = crosscheck(load_spec_text(wrong), reference="torchvision:mobilenet_v2")
    assert not result.ok and result.reference.layer_problems[0].startswith("stage3.0.project ↔ features.4.conv.2: MACs")


def test_timm_reference():
    pytest.importorskip("timm")
    result = crosscheck("v4-hybrid-m", reference="timm:mobilenetv4_hybrid_medium")
    assert result.ok, result.reference
    assert crosscheck("v3-small", width_rule="paper", alpha=0.75, reference="timm:mobilenetv3_small_075").ok


def load_spec_text(text):
    import tempfile
    from pathlib import Path

    path = Path(tempfile.mkdtemp()) / "spec.yaml"
    path.write_text(text)
    return load_spec(path)


# -- expected: counts -------------------------------------------------------------------------


def _v2_with_expected_params(tmp_path, params):
    text = (REPO / "specs" / "v2.yaml").read_text()
    assert "params: 3470760}" in text
    path = tmp_path / "v2.yaml"
    path.write_text(text.replace("params: 3470760}", f"params: {params}}}"))
    return path


def test_expected_counts_that_disagree_fail_the_crosscheck(capsys, tmp_path):
    path = _v2_with_expected_params(tmp_path, 3470761)
    result = crosscheck(path, use_reference=False)
    assert not result.ok and not result.mismatched_layers
    assert [(t.quantity, t.mncost, t.other) for t in result.expected if not t.ok] == [("params", 3470760, 3470761)]
    code, out, _ = run_cli(capsys, "crosscheck", str(path), "--format", "json")
    assert code == 1 and json.loads(out)["expected"][2] == {"quantity": "params", "mncost": 3470760, "expected": 3470761, "ok": False}
    assert crosscheck(path, alpha=0.5, use_reference=False).expected == ()  # expected is for α = 1 only


def test_expected_counts_that_agree_pass():
    result = crosscheck("v4-hybrid-m", use_reference=False)
    assert [t.other for t in result.expected] == [1_229_240_320, 41_943_040, 10_992_632] and result.ok


def test_analyze_warns_in_one_line_when_expected_disagrees(capsys, tmp_path):
    path = _v2_with_expected_params(tmp_path, 3470761)
    code, out, err = run_cli(capsys, "analyze", str(path), "--format", "json")
    assert code == 0 and json.loads(out)["totals"]["params"] == 3470760
    assert err.splitlines() == [f"warning: {path}: expected: the spec's counts disagree with its expected counts (params 3,470,760 vs expected 3,470,761)"]
    for args in (["--alpha", "0.5"], ["--resolution", "192"]):
        code, _, err = run_cli(capsys, "analyze", str(path), "--format", "json", *args)
        assert (code, err) == (0, "")
    code, _, err = run_cli(capsys, "analyze", "v2", "--format", "json")
    assert (code, err) == (0, "")


# -- memory and work budget -------------------------------------------------------------------


def test_the_budget_estimate_of_v2():
    from mncost.walker import walk

    w = walk(load_spec("v2"))
    e = budget.estimate(w)
    assert e.weight_bytes == 4 * (3_470_760 + 34_112)
    assert e.activation_bytes == 3 * 4 * (96 * 112 * 112 + 96 * 56 * 56)  # the largest layer, stage2.0.dw: 96×112² in, 96×56² out
    assert e.macs == 300_774_272


@pytest.mark.parametrize("args,first", [
    (["v2", "--resolution", "100000"], "error: cross-check of v2 at α=1, resolution 100000 needs about 3,600.0 GB (activations 3,600.0 GB, weights 0.0 GB), above the 8 GB limit; raise it with --max-memory-gb"),
    (["v2", "--resolution", "100000", "--max-memory-gb", "0"], "error: --max-memory-gb must be a positive number, got 0.0"),
    (["v2", "--max-gmacs", "0.1"], "error: cross-check of v2 at α=1, resolution 224 runs 0.3 GMACs in torch, above the 0.1 GMAC limit; raise it with --max-gmacs"),
])
def test_too_large_a_check_is_refused_before_torch_runs(capsys, args, first):
    code, out, err = run_cli(capsys, "crosscheck", *args)
    assert (code, out, err.splitlines()) == (2, "", [first])


def test_a_huge_kernel_is_refused(capsys, tmp_path):
    text = (REPO / "specs" / "v2.yaml").read_text().replace("k: 3, stride: 2, act: relu6, kind: stem", "k: 1001, stride: 2, act: relu6, kind: stem")
    path = tmp_path / "k1001.yaml"
    path.write_text(text)
    code, _, err = run_cli(capsys, "crosscheck", str(path))
    assert code == 2 and err.splitlines() == ["error: cross-check of v2 at α=1, resolution 224 runs 1,206.9 GMACs in torch, above the 50 GMAC limit; raise it with --max-gmacs"]


# -- warnings, names, parallel runs -----------------------------------------------------------


def test_dependency_deprecations_are_silenced_but_mncost_warnings_are_not():
    import warnings

    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        with quiet_dependencies():
            warnings.warn_explicit("`torch.jit.script` is deprecated", FutureWarning, "_script.py", 1, module="torch.jit._script")
            warnings.warn_explicit("old", DeprecationWarning, "x.py", 1, module="fvcore.nn.jit_analysis")
            warnings.warn_explicit("ours", FutureWarning, "x.py", 1, module="mncost.walker")
            warnings.warn_explicit("a real problem", UserWarning, "x.py", 1, module="torch.nn")
    assert [str(w.message) for w in seen] == ["ours", "a real problem"]


def test_no_future_warning_from_importing_the_counter():
    import subprocess

    done = subprocess.run([sys.executable, "-W", "default", "-c", "import mncost.crosscheck.fvcount"], capture_output=True, text=True, cwd=REPO,
                          env={**os.environ, "PYTHONPATH": str(REPO)})
    assert done.returncode == 0 and "Warning" not in done.stderr, done.stderr


def test_markup_in_a_model_name_is_shown_as_text(capsys, tmp_path):
    path = tmp_path / "odd.yaml"
    path.write_text(PLAIN.replace("PW_OUT", "32").replace("name: plain", "name: '[/x][bold red]'"))
    code, out, _ = run_cli(capsys, "crosscheck", str(path))
    assert code == 0 and out.startswith("[/x][bold red] α=1, resolution 32")


def test_worker_processes_give_the_same_results_in_the_same_order():
    points = [p for p in grid() if p[0] == "v1-cifar"][:4]
    assert list(crosscheck_many(points, jobs=2)) == list(crosscheck_many(points, jobs=1))
    with pytest.raises(OptionError):
        list(crosscheck_many(points, jobs=0))


def test_one_module_serves_every_resolution_whose_linear_inputs_agree(tmp_path):
    import mncost.crosscheck as cc

    pooled = load_spec(_plain(tmp_path))  # global pool before the fc: its input is 32 at any resolution
    first = crosscheck(pooled, resolution=32)
    ((net, sizes, _),) = cc._last_net.values()
    assert sizes == {"body.4.linear": 32}
    second = crosscheck(pooled, resolution=64)
    assert next(iter(cc._last_net.values()))[0] is net  # reused, not rebuilt
    assert first.ok and second.ok
    assert [t.mncost for t in second.totals if t.quantity == "MACs"] != [t.mncost for t in first.totals if t.quantity == "MACs"]
    # without the pool the fc reads C×H×W (32×16×16 at 32 px): each resolution gets a module sized for it
    path = tmp_path / "flat.yaml"
    path.write_text(PLAIN.replace("PW_OUT", "32").replace("      - {type: pool}\n", ""))
    flat = load_spec(path)
    results = []
    for resolution in (32, 64, 32):
        results.append(crosscheck(flat, resolution=resolution))
        assert next(iter(cc._last_net.values()))[1] == {"body.3.linear": 32 * (resolution // 2) ** 2}
    assert all(r.ok for r in results) and results[0] == results[2]


def test_worker_processes_end_without_a_traceback():
    # the CLI runs with its signal handlers set; the pool's closing SIGTERM once printed a traceback per worker
    code = ("from mncost.output import interrupt_on_signals\nfrom mncost.crosscheck import crosscheck_many, grid\n"
            "with interrupt_on_signals():\n    print(all(r.ok for r in crosscheck_many([p for p in grid() if p[0] in ('v1-cifar', 'v1')][:12], jobs=2)))\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)}, check=False)
    assert (done.returncode, done.stdout, done.stderr) == (0, "True\n", "")
