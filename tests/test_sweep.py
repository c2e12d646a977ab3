"""Sweeps, rankings, Pareto frontiers, ridge-point sweeps and report folders."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import xml.etree.ElementTree as ET

import pandas as pd
import pytest

import mncost
from helpers import run_cli
from mncost.grids import parse_floats, parse_ints
from mncost.hardware import builtin_hardware
from mncost.ridge import flips, ridge_latencies, ridge_sweep
from mncost.sweep import csv_chunks, pareto_mask, rank, rank_changes, sweep

SPECS = ["v2", "v3-small", "v4-conv-s"]


@pytest.fixture(scope="module")
def grid_df():
    specs = [mncost.load_spec(n) for n in SPECS]
    return sweep(specs, builtin_hardware(), alphas=[0.5, 1.0], resolutions=[160, 224])


def test_sweep_rows_equal_single_analyze_results(grid_df):
    assert len(grid_df) == 3 * 2 * 2 * len(builtin_hardware())  # every built-in profile, fitted ones included
    for _, row in grid_df.iterrows():
        single = mncost.analyze(row["model"], row["hardware"], alpha=row["alpha"], resolution=row["resolution"]).totals
        assert (row["macs"], row["params"], row["weight_bytes"], row["activation_bytes"]) == (single.macs, single.params, single.weight_bytes, single.activation_bytes)
        assert row["latency_s"] == pytest.approx(single.latency_s, rel=1e-12)
        assert row["memory_bound_share"] == pytest.approx(single.memory_bound_share, rel=1e-9, abs=1e-12)


def test_ranks_are_per_hardware_and_follow_the_prediction(grid_df):
    # predicted_s is what analyze stands behind: the selected model on a fitted profile, else the plain roofline
    fitted = grid_df["refined_latency_s"].notna()
    assert fitted.any() and (~fitted).any()
    assert (grid_df.loc[fitted, "predicted_s"] == grid_df.loc[fitted, "refined_latency_s"]).all()
    assert (grid_df.loc[~fitted, "predicted_s"] == grid_df.loc[~fitted, "latency_s"]).all()
    for _, group in grid_df.groupby("hardware"):
        ordered = group.sort_values("rank")
        assert ordered["rank"].tolist() == list(range(1, len(group) + 1))
        assert ordered["predicted_s"].is_monotonic_increasing


def test_rank_ties_share_the_better_rank():
    df = pd.DataFrame({"hardware": ["a"] * 4, "latency_s": [3.0, 1.0, 1.0, 2.0]})
    assert rank(df, "latency_s").tolist() == [4, 1, 1, 3]


@pytest.mark.parametrize(
    "latency, quality, expected",
    [
        ([1, 2, 3], [70, 75, 80], [True, True, True]),          # each step buys accuracy
        ([1, 2, 3], [70, 68, 80], [True, False, True]),         # slower and worse: dominated
        ([1, 1, 2], [70, 72, 71], [False, True, False]),        # same latency: the better one only
        ([2, 1], [70, 70], [False, True]),                      # same quality: the faster one only
        ([5], [1], [True]),
    ],
)
def test_pareto_mask_by_hand(latency, quality, expected):
    assert pareto_mask(latency, quality) == expected


def test_pareto_uses_top1_when_every_row_has_it():
    specs = [mncost.load_spec(n) for n in ("v1", "v2", "v3-large", "v3-small", "v4-conv-s")]
    df = sweep(specs, [mncost.load_hardware("cpu")])
    assert df["top1"].notna().all()
    front = df[df["pareto"]].sort_values("latency_s")
    # hand check: a variant is on the frontier iff no faster variant has a higher top-1
    for _, row in df.iterrows():
        faster_better = df[(df["latency_s"] < row["latency_s"]) & (df["top1"] >= row["top1"])]
        assert row["pareto"] == faster_better.empty
    assert front["top1"].is_monotonic_increasing


def test_rank_changes_name_the_variants_that_move(grid_df):
    changes = rank_changes(grid_df)
    assert set(changes.columns) >= {"variant", "best", "worst", "spread"}
    for _, r in changes.iterrows():
        ranks = grid_df[grid_df.apply(lambda x: f"{x['model']} α={x['alpha']:g} r={x['resolution']}", axis=1) == r["variant"]]["rank"]
        assert r["spread"] == ranks.max() - ranks.min() > 0


def test_csv_round_trips_through_pandas(capsys):
    code, out, _ = run_cli(capsys, "sweep", "--models", "v2,v3-large", "--alpha", "0.5:1.0:0.25", "--hw", "cpu,edgetpu", "--format", "csv")
    assert code == 0
    df = pd.read_csv(io.StringIO(out))
    assert list(df.columns) == ["model", "alpha", "resolution", "width_rule", "hardware", "macs", "params", "weight_bytes",
                                "activation_bytes", "latency_s", "memory_bound_share", "top1", "rank", "pareto", "refined_latency_s", "predicted_s"]
    assert len(df) == 2 * 3 * 2
    assert df["macs"].dtype == "int64"
    again = sweep([mncost.load_spec("v2"), mncost.load_spec("v3-large")], [mncost.load_hardware("cpu"), mncost.load_hardware("edgetpu")], alphas=[0.5, 0.75, 1.0])
    pd.testing.assert_frame_equal(df, again.reset_index(drop=True), check_exact=False, rtol=1e-12)


@pytest.mark.parametrize("case", ["zoo", "huge counts"])
def test_streamed_csv_is_byte_identical_to_pandas_to_csv(capsys, tmp_path, case):
    # the CLI streams the CSV to the file in chunks (the frame's text never exists whole):
    # it must be pandas' own to_csv of the whole frame, byte for byte, in any chunking
    if case == "zoo":  # text columns, published top-1 (and NaN where there is none), bn params
        names, hws, kwargs = ["v2", "v3-large", "mnasnet"], ["cpu", "edgetpu"], {"alphas": [0.5, 1.0], "resolutions": [160, 224], "include_bn_params": True}
        args = ["--models", ",".join(names), "--alpha", "0.5,1.0", "--resolution", "160,224", "--include-bn-params"]
    else:  # counts beyond int64: exact Python integers in the frame
        names, hws, kwargs = ["v2", "v4-hybrid-l"], ["cpu", "gpu"], {"alphas": [1.0, 4.0], "resolutions": [224, 4096], "batch": 10**6}
        args = ["--models", ",".join(names), "--alpha", "1.0,4.0", "--resolution", "224,4096", "--batch", str(10**6)]
    df = sweep([mncost.load_spec(n) for n in names], [mncost.load_hardware(h) for h in hws], **kwargs)
    expected = df.to_csv(index=False)
    if case == "zoo":
        assert df["top1"].notna().any() and df["top1"].isna().any()  # published numbers and empty cells
    else:
        assert df["macs"].dtype == object and df["macs"].max() > 2**63
    for rows in (1, 7, 50_000):
        assert "".join(csv_chunks(df, rows=rows)) == expected
    out = tmp_path / "sweep.csv"
    code, stdout, err = run_cli(capsys, "sweep", *args, "--hw", ",".join(hws), "--format", "csv", "--output", str(out))
    assert (code, stdout, err) == (0, "", f"wrote {out}\n")
    assert out.read_bytes() == expected.encode()
    code, stdout, _ = run_cli(capsys, "sweep", *args, "--hw", ",".join(hws), "--format", "csv")
    assert code == 0 and stdout == expected


def test_json_and_markdown(capsys):
    code, out, _ = run_cli(capsys, "sweep", "--alpha", "0.5,1.0", "--hw", "cpu,dsp", "--format", "json")
    assert code == 0
    rows = json.loads(out)
    assert {r["hardware"] for r in rows} == {"cpu", "dsp"} and all("rank" in r and "pareto" in r for r in rows)
    code, out, _ = run_cli(capsys, "sweep", "--alpha", "0.5,1.0", "--hw", "cpu,dsp", "--format", "md")
    lines = out.splitlines()
    header = lines.index("| rank | variant | MACs | params | latency | memory-bound | top-1 | Pareto |")
    assert lines[header + 1] == "|---:|:---|---:|---:|---:|---:|---:|:---:|"
    end = lines.index("", header)
    body = lines[header + 2 : end]
    assert len(body) == 9 * 2  # the nine built-in ImageNet models at two widths
    assert all(line.count("|") == 9 for line in body)


def test_table_says_which_variants_change_rank(capsys):
    code, out, _ = run_cli(capsys, "sweep", "--models", "v1,v2,v3-large,v4-conv-m", "--hw", "cpu,edgetpu")
    assert code == 0
    assert "Variants that change rank between hardware" in out and "v1 α=1 r=224" in out


@pytest.mark.parametrize(
    "text, expected",
    [("0.5,0.75,1.0", [0.5, 0.75, 1.0]), ("0.5:1.4:0.1", [0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.1, 1.2, 1.3, 1.4]), ("1.0,1.0", [1.0])],
)
def test_parse_floats(text, expected):
    assert parse_floats(text, "--alpha") == expected


def test_parse_ints_and_errors():
    assert parse_ints("128:224:32", "--resolution") == [128, 160, 192, 224]
    for bad, message in [("1:0:1", "start <= stop"), ("1:2", "has no step"), ("a,b", "not a number"), ("0.5", "expected integers"), ("", "comma-separated")]:
        with pytest.raises(mncost.MncostError, match=message):
            parse_ints(bad, "--resolution")


def test_ridge_latency_formula_by_hand():
    w = mncost.walk(mncost.load_spec("v1"))
    macs = sum(x.macs for x in w.layers)
    lat = ridge_latencies(w, [0.0, 1e9], peak_macs_per_s=1e12)
    assert lat[0] == pytest.approx(macs / 1e12)  # RP 0: MACs only
    byts = sum(x.params + x.act_elems for x in w.layers)  # int8: one byte each
    assert lat[1] == pytest.approx(1e9 * byts / 1e12, rel=1e-9)  # huge RP: bytes only


def test_ridge_flips_where_curves_cross():
    walks = [mncost.walk(mncost.load_spec(n)) for n in ("v1", "v3-large")]
    df = ridge_sweep(walks, [0, 50, 100], peak_macs_per_s=1e12)
    found = flips(df)
    assert [(f.ridge_lo, f.ridge_hi, f.faster, f.slower) for f in found] == [(50, 100, "v1", "v3-large")]
    at = df.set_index(["model", "ridge_macs_per_byte"])["latency_s"]
    assert at["v3-large", 50] < at["v1", 50] and at["v1", 100] < at["v3-large", 100]


# -- report folders ---------------------------------------------------------------------------


def _check_images(folder):
    import matplotlib.image as mpimg

    pngs = sorted(folder.glob("*.png"))
    assert pngs
    for png in pngs:
        pixels = mpimg.imread(png)
        assert pixels.ndim == 3 and pixels.shape[0] > 100 and pixels.shape[1] > 100
        assert pixels.std() > 0  # not a blank image
        svg = png.with_suffix(".svg")
        assert ET.parse(svg).getroot().tag.endswith("svg")


@pytest.mark.parametrize(
    "args, expected_files",
    [
        (["v3-large", "--hw", "edgetpu"], {"report.md", "report.html", "layers.csv", "result.json", "roofline.png", "roofline.svg"}),
        (["--sweep", "--models", "v2,v4-conv-s", "--alpha", "0.5,1.0", "--resolution", "160,224", "--hw", "cpu,gpu"],
         {"report.md", "report.html", "sweep.csv", "sweep.json", "latency_vs_alpha.png", "latency_vs_alpha.svg",
          "latency_vs_resolution.png", "latency_vs_resolution.svg", "pareto.png", "pareto.svg",
          "pareto_top1.png", "pareto_top1.svg"}),  # published top-1 for some rows (v2): the top-1 frontier too
        (["--ridge", "--models", "v1,v2", "--rp", "0:200:50"], {"report.md", "report.html", "ridge.csv", "ridge.json", "ridge.png", "ridge.svg"}),
    ],
)
def test_report_folders(capsys, tmp_path, args, expected_files):
    out_dir = tmp_path / "rep"
    code, _, err = run_cli(capsys, "report", *args, "--output-dir", str(out_dir))
    assert code == 0, err
    assert {p.name for p in out_dir.iterdir()} == expected_files
    assert all(p.stat().st_size > 0 for p in out_dir.iterdir())
    _check_images(out_dir)
    md = (out_dir / "report.md").read_text()
    for image in [p.name for p in out_dir.glob("*.png")]:
        assert f"]({image})" in md
    assert "Counting conventions" in md
    assert [p.name for p in tmp_path.iterdir()] == ["rep"]  # no staging leftovers


def test_existing_report_folder_is_not_mixed(capsys, tmp_path):
    out_dir = tmp_path / "rep"
    out_dir.mkdir()
    (out_dir / "notes.txt").write_text("mine")
    code, _, err = run_cli(capsys, "report", "v2", "--output-dir", str(out_dir))
    assert code == 2
    assert err.splitlines() == [f"error: {out_dir}: exists and is not empty; use --force to replace it"]
    assert [p.name for p in out_dir.iterdir()] == ["notes.txt"]
    code, _, _ = run_cli(capsys, "report", "v2", "--output-dir", str(out_dir), "--force")
    assert code == 0
    assert "notes.txt" not in {p.name for p in out_dir.iterdir()}


def test_failed_report_leaves_nothing_behind(capsys, tmp_path, monkeypatch):
    from mncost import plots

    def broken(*args, **kwargs):
        raise RuntimeError("chart failed half-way")

    monkeypatch.setattr(plots, "roofline_chart", broken)
    code, _, err = run_cli(capsys, "report", "v2", "--output-dir", str(tmp_path / "rep"))
    assert code == 1 and "internal error" in err
    assert list(tmp_path.iterdir()) == []


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")


@pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (.ci/run installs it from Debian)")
def test_html_report_opens_in_headless_chromium(capsys, tmp_path):
    out_dir = tmp_path / "rep"
    code, _, _ = run_cli(capsys, "report", "v4-hybrid-m", "--hw", "edgetpu", "--output-dir", str(out_dir))
    assert code == 0
    page = (out_dir / "report.html").as_uri()
    script = (
        "<script>window.addEventListener('load',()=>{const bad=[...document.images].filter(i=>!i.complete||i.naturalWidth===0);"
        "document.title=bad.length?'BROKEN '+bad.map(i=>i.src).join(' '):'LOADED '+document.images.length;});</script>"
    )
    probe = out_dir / "probe.html"
    probe.write_text((out_dir / "report.html").read_text().replace("</body>", script + "</body>"))
    proc = subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--allow-file-access-from-files", "--virtual-time-budget=5000", "--dump-dom", probe.as_uri()],
        capture_output=True, text=True, timeout=120, check=False,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "<title>LOADED 1</title>" in proc.stdout, proc.stdout[:500]
    assert "Uncaught" not in proc.stderr
    assert page.endswith("report.html")
