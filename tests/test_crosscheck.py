"""The cross-check agrees exactly on every built-in and catches real errors, naming the layer."""

from __future__ import annotations

import dataclasses
import json
import os
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
