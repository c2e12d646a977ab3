"""The published top-1 table: validation, exact lookup, and ``sweep`` filling it in."""

from __future__ import annotations

import csv
import io
import math

import pytest

import mncost
from helpers import REPO, run_cli
from mncost import builtin
from mncost.accuracy import TABLE, builtin_table, entries_for, load_table, parse_table, published_top1, top1_for
from mncost.errors import AccuracyError
from mncost.walker import walk

HEADER = "model,alpha,resolution,width_rule,top1,weights,source,published_macs_m"


def raw_rows() -> list[tuple[int, dict[str, str]]]:
    """The shipped CSV read with the csv module alone (not through mncost.accuracy)."""
    lines = [(i, line) for i, line in enumerate(TABLE.read_text(encoding="utf-8").splitlines(), start=1) if line and not line.startswith("#")]
    reader = csv.DictReader(io.StringIO("\n".join(line for _, line in lines)))
    return list(zip((i for i, _ in lines[1:]), reader))


def test_every_shipped_row_has_a_source_a_value_in_range_and_a_unique_key():
    rows = raw_rows()
    assert len(rows) == len(builtin_table()) > 100
    keys = set()
    for line, row in rows:
        assert row["source"].strip() and row["weights"].strip(), f"line {line}: no source or weights"
        top1 = float(row["top1"])
        assert 0 < top1 < 100 and math.isfinite(top1), f"line {line}"
        k = (row["model"], round(float(row["alpha"]), 6), int(row["resolution"]), row["width_rule"])
        assert k not in keys, f"line {line}: duplicate {k}"
        keys.add(k)


def _grid(model: str) -> set[tuple[float, int]]:
    return {(a, r) for (m, a, r, _) in builtin_table() if m == model}


def test_the_checkpoint_grids_are_complete():
    assert _grid("v1") == {(a, r) for a in (0.25, 0.5, 0.75, 1.0) for r in (128, 160, 192, 224)}
    v2 = {(a, r) for a in (0.35, 0.5, 0.75, 1.0) for r in (96, 128, 160, 192, 224)} | {(1.3, 224), (1.4, 224)}
    assert _grid("v2") == v2 and len(v2) == 22
    assert _grid("v3-large") == _grid("v3-small") == {(0.75, 224), (1.0, 224)}


def test_rows_of_built_in_models_name_a_rule_the_spec_has_and_can_be_walked():
    for (model, alpha, res, rule), entry in builtin_table().items():
        if model not in builtin.spec_files():
            continue  # rows for architectures this build does not ship yet
        spec = mncost.load_spec(model)
        assert rule in spec.width_rules, f"line {entry.line}: {model} has no width rule {rule!r}"
        walk(spec, alpha=alpha, resolution=res, width_rule=rule)


# Rows whose printed MACs disagree with the source's own other rows: TF-slim's V1 table prints
# 317/233/162/104 M for α = 0.75 where the paper's Table 6 prints 325 M (224) for the same
# network (α·c is a whole multiple of 8 in every layer), and 34 M for 0.25/192 between 41 M (224)
# and 21 M (160), where MACs scale as N²; its V3-Small row prints 66 M where the paper's Table 3
# (the spec's published.macs) prints 56 M. These are checked against the paper / the N² scaling.
PRINTED_DIFFERENTLY = {("v1", 0.75, 224), ("v1", 0.75, 192), ("v1", 0.75, 160), ("v1", 0.75, 128), ("v1", 0.25, 192), ("v3-small", 1.0, 224)}


def _macs_m(model: str, alpha: float, res: int, rule: str) -> float:
    return sum(x.macs for x in walk(mncost.load_spec(model), alpha=alpha, resolution=res, width_rule=rule).layers) / 1e6


def test_rows_build_the_network_their_source_counts():
    """Where the source prints MACs, mncost's count of that configuration agrees (so the width rule is right)."""
    checked = 0
    for (model, alpha, res, rule), entry in builtin_table().items():
        if entry.published_macs_m is None or model not in builtin.spec_files():
            continue
        macs_m = _macs_m(model, alpha, res, rule)
        if (model, alpha, res) in PRINTED_DIFFERENTLY:
            continue
        # the tables print whole millions (TF-slim V2 truncates: 32.6 M is printed 32)
        assert abs(macs_m - entry.published_macs_m) <= max(1.0, 0.01 * entry.published_macs_m), (model, alpha, res, rule, macs_m)
        checked += 1
    assert checked == 16 + 22 + 6 - 7 + 5  # v3 rows: both rules at α = 1, the paper rule at 0.75; + the zoo rows that print MACs (GhostNet 0.5/1.0/1.3, MobileNet-EdgeTPU 1.0/0.75)
    assert _macs_m("v1", 0.75, 224, "timm") == pytest.approx(325, abs=1)          # MobileNets paper, Table 6
    assert _macs_m("v3-small", 1.0, 224, "paper") == pytest.approx(mncost.load_spec("v3-small").published.macs / 1e6, abs=1)
    for alpha, res in ((0.75, 192), (0.75, 160), (0.75, 128), (0.25, 192)):
        assert _macs_m("v1", alpha, res, "timm") == pytest.approx(_macs_m("v1", alpha, 224, "timm") * (res / 224) ** 2, rel=0.03)


def test_v3_rows_under_both_rules_at_alpha_1_are_one_network():
    for model in ("v3-large", "v3-small"):
        spec = mncost.load_spec(model)
        a, b = (walk(spec, alpha=1.0, resolution=224, width_rule=r).layers for r in ("paper", "torchvision"))
        assert [(x.macs, x.params, x.act_elems) for x in a] == [(x.macs, x.params, x.act_elems) for x in b]
    # ...and at α = 0.75 they are not, so only the paper rule (TF-slim's) carries the number
    assert published_top1("v3-large", 0.75, 224, "paper") is not None
    assert published_top1("v3-large", 0.75, 224, "torchvision") is None


def test_lookup_is_exact():
    top1, source = published_top1("v2", 0.5, 160, "torchvision")
    assert top1 == 61.0 and "TF-slim" in source and "mobilenet_v2_0.5_160" in source
    assert published_top1("v1", 0.25, 128, "timm")[0] == 41.5
    assert published_top1("mnasnet", 1.3, 224, "torchvision")[0] == 76.506
    assert published_top1("v2", 0.5, 161, "torchvision") is None      # no neighbouring resolution
    assert published_top1("v2", 0.55, 160, "torchvision") is None     # no neighbouring α
    assert published_top1("v2", 0.5, 160, "paper") is None            # another width rule is another network
    assert published_top1("v2", 0.5 + 1e-9, 160, "torchvision")[0] == 61.0  # α from a float range


def _copy_spec(tmp_path, name: str, top1: str | None):
    text = (REPO / "specs" / "v2.yaml").read_text(encoding="utf-8").replace("name: v2", f"name: {name}")
    text = text.replace("top1: 72.0", f"top1: {top1}") if top1 else text.replace(", top1: 72.0", "")
    path = tmp_path / f"{name}.yaml"
    path.write_text(text, encoding="utf-8")
    return mncost.load_spec(path)


def test_a_user_spec_counts_its_own_top1_at_alpha_1_and_default_resolution(tmp_path):
    spec = _copy_spec(tmp_path, "my-v2", "77.7")
    assert top1_for(spec, 1.0, 224, "torchvision") == 77.7
    assert top1_for(spec, 1.0, 192, "torchvision") is None
    assert top1_for(spec, 0.5, 224, "torchvision") is None


def test_a_user_file_reusing_a_built_in_name_gets_no_shipped_rows(tmp_path):
    spec = _copy_spec(tmp_path, "v2", None)
    assert entries_for(spec) == []
    assert top1_for(spec, 0.5, 224, "torchvision") is None
    assert top1_for(mncost.load_spec("v2"), 0.5, 224, "torchvision") == 65.4


def test_a_user_table_adds_rows(tmp_path):
    path = tmp_path / "mine.csv"
    path.write_text(f"# my numbers\n{HEADER}\nv2,0.6,200,torchvision,66.6,my run,my notebook,\n", encoding="utf-8")
    extra = load_table(path)
    assert top1_for(mncost.load_spec("v2"), 0.6, 200, "torchvision", extra) == 66.6


BAD = [
    ("v2,1,224,torchvision,,w,src,", 3, "top1", "must not be empty"),
    ("v2,1,224,torchvision,72,w,,", 3, "source", "must not be empty"),
    ("v2,1,224,torchvision,100,w,src,", 3, "top1", "percentage in (0, 100)"),
    ("v2,1,224,torchvision,0,w,src,", 3, "top1", "percentage in (0, 100)"),
    ("v2,1,224,torchvision,nan,w,src,", 3, "top1", "expected a number"),
    ("v2,1,224,torchvision,7_2,w,src,", 3, "top1", "expected a number"),
    ("v2,0x1,224,torchvision,72,w,src,", 3, "alpha", "expected a number"),
    ("v2,1,224,torchvision,high,w,src,", 3, "top1", "expected a number"),
    ("v2,-1,224,torchvision,72,w,src,", 3, "alpha", "must be positive"),
    ("v2,1,22.5,torchvision,72,w,src,", 3, "resolution", "positive integer"),
    ("v2,1,224,torchvision,72,w,src,-3", 3, "published_macs_m", "must be positive"),
    ("v2,1,224,torchvision,72,w", 3, None, "expected 8 cells"),
    ("v2,1,224,torchvision,72,w,src,\nv2,1.0,224,torchvision,71,w,src,", 4, "model", "duplicate configuration v2 α=1 r=224 torchvision (first on line 3)"),
]


@pytest.mark.parametrize("body,line,key,message", BAD)
def test_bad_rows_are_one_line_errors_with_file_and_line(body, line, key, message):
    with pytest.raises(AccuracyError) as info:
        parse_table(f"# comment\n{HEADER}\n{body}\n", "mine.csv")
    text = str(info.value)
    assert text.startswith(f"mine.csv:{line}: " + (f"{key}: " if key else "")), text
    assert message in text and "\n" not in text


def test_bad_headers():
    with pytest.raises(AccuracyError, match=r"^mine.csv:1: unknown column 'acc'"):
        parse_table("model,alpha,resolution,width_rule,acc,source\n", "mine.csv")
    with pytest.raises(AccuracyError, match=r"^mine.csv:1: missing column 'source'"):
        parse_table("model,alpha,resolution,width_rule,top1\n", "mine.csv")
    with pytest.raises(AccuracyError, match=r"^mine.csv: no header row"):
        parse_table("# only a comment\n", "mine.csv")


def test_a_bad_user_table_through_the_cli_is_one_line_exit_2(capsys, tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text(f"{HEADER}\nv2,1,224,torchvision,172,w,src,\n", encoding="utf-8")
    code, out, err = run_cli(capsys, "pick", "--hw", "cpu", "--budget-ms", "2", "--accuracy", str(path))
    assert code == 2 and out == ""
    assert err == f"error: {path}:2: top1: must be a percentage in (0, 100), got 172\n"
    code, _, err = run_cli(capsys, "pick", "--hw", "cpu", "--budget-ms", "2", "--accuracy", str(tmp_path / "missing.csv"))
    assert code == 2 and err.startswith("error: ") and "no such file" in err and err.count("\n") == 1


def test_sweep_fills_published_top1_for_exact_configurations(capsys):
    code, out, err = run_cli(capsys, "sweep", "--models", "v2", "--alpha", "0.5,1.0", "--resolution", "160,200,224", "--hw", "cpu", "--format", "csv")
    assert code == 0, err
    got = {(float(r["alpha"]), int(r["resolution"])): r["top1"] for r in csv.DictReader(io.StringIO(out))}
    # TF-slim MobileNetV2 checkpoint table: 0.5/160 61.0, 1.0/160 68.8, 0.5/224 65.4, 1.0/224 71.8; nothing at 200
    assert got == {(0.5, 160): "61.0", (1.0, 160): "68.8", (0.5, 200): "", (1.0, 200): "", (0.5, 224): "65.4", (1.0, 224): "71.8"}


def test_sweep_of_a_width_rule_without_published_numbers_fills_nothing(capsys):
    code, out, err = run_cli(capsys, "sweep", "--models", "v3-large", "--alpha", "0.75,1.0", "--width-rule", "torchvision", "--hw", "cpu", "--format", "csv")
    assert code == 0, err
    got = {float(r["alpha"]): r["top1"] for r in csv.DictReader(io.StringIO(out))}
    assert got == {0.75: "", 1.0: "75.2"}  # torchvision's α = 0.75 net is not TF-slim's; at α = 1 they are one network


def test_top1_frontier_over_rows_with_a_published_number():
    from mncost.hardware import load_hardware
    from mncost.sweep import sweep
    from mncost.top1_frontier import frontier_line, partial, with_top1

    df = sweep([mncost.load_spec(m) for m in ("v1", "v2", "v4-conv-s")], [load_hardware("edgetpu"), load_hardware("cpu")],
               alphas=[0.5, 0.75, 1.0], resolutions=[160, 224])
    assert partial(df)  # v4-conv-s has no number at α < 1
    sub = with_top1(df)
    assert sub["top1"].notna().all() and len(sub) == df["top1"].notna().sum()
    for hw, group in sub.groupby("hardware"):
        for _, row in group.iterrows():
            dominated = ((group["latency_s"] <= row["latency_s"]) & (group["top1"] > row["top1"])).any() or \
                        ((group["latency_s"] < row["latency_s"]) & (group["top1"] >= row["top1"])).any()
            assert row["pareto"] == (not dominated), (hw, row["model"], row["alpha"], row["resolution"])
    line = frontier_line(df, "edgetpu")
    assert line.startswith("Top-1 frontier (latency vs published top-1, the 13 rows that have one): ")  # v1 and v2: 3 α × 2 resolutions each; v4-conv-s: α=1 r=224
    assert "v4-conv-s α=1 r=224 (73.756 at" in line  # the most accurate row is always on the frontier
