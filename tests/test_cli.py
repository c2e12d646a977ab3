"""The CLI end to end, per output format, plus the JSON schema that scripts rely on."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

import mncost
from helpers import run_cli

JSON_TOP = {"model", "hardware", "alpha", "resolution", "batch", "totals", "layers"}
JSON_TOTALS = {"macs", "params", "weight_bytes", "activation_bytes", "latency_s"}
JSON_LAYER = {
    "name", "op", "in_shape", "out_shape", "macs", "params", "weight_bytes", "activation_bytes",
    "intensity", "mac_time_s", "mem_time_s", "latency_s", "bound",
}


def test_json_schema_and_values(capsys):
    code, out, err = run_cli(capsys, "analyze", "v2", "--alpha", "0.75", "--resolution", "160", "--hw", "cpu", "--format", "json")
    assert code == 0 and err == ""
    data = json.loads(out)
    assert JSON_TOP <= data.keys()
    assert JSON_TOTALS <= data["totals"].keys()
    assert all(JSON_LAYER <= layer.keys() for layer in data["layers"])
    assert (data["model"], data["hardware"], data["alpha"], data["resolution"], data["batch"]) == ("v2", "cpu", 0.75, 160, 1)
    expected = mncost.analyze("v2", "cpu", alpha=0.75, resolution=160)
    assert data["totals"]["macs"] == expected.totals.macs
    assert isinstance(data["totals"]["macs"], int)
    # per-layer rows sum to the totals, exactly for the integer columns
    for key in ("macs", "params", "weight_bytes", "activation_bytes"):
        assert sum(layer[key] for layer in data["layers"]) == data["totals"][key]
    assert sum(layer["latency_s"] for layer in data["layers"]) == pytest.approx(data["totals"]["latency_s"], rel=1e-12)
    for layer in data["layers"]:
        assert layer["latency_s"] == max(layer["mac_time_s"], layer["mem_time_s"])
        assert layer["bound"] in ("compute", "memory")


def test_csv_has_one_row_per_layer(capsys):
    code, out, _ = run_cli(capsys, "analyze", "v3-small", "--hw", "edgetpu", "--format", "csv")
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    result = mncost.analyze("v3-small", "edgetpu")
    assert len(rows) == len(result.layers)
    assert rows[0]["name"] == "stem.0" and rows[0]["in_shape"] == "3x224x224" and rows[0]["out_shape"] == "16x112x112"
    assert sum(int(r["macs"]) for r in rows) == result.totals.macs == 56_510_400


def test_markdown_is_a_github_table(capsys):
    code, out, _ = run_cli(capsys, "analyze", "v1", "--hw", "dsp", "--format", "md")
    assert code == 0
    assert out.startswith("# v1 on dsp\n")
    lines = out.splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("| layer |"))
    assert lines[header + 1] == "|:---|:---|:---|:---|---:|---:|---:|---:|---:|---:|:---|"
    body = [line for line in lines[header + 2 :] if line.startswith("|")]
    assert len(body) == len(mncost.analyze("v1", "dsp").layers)
    assert all(line.count("|") == 12 for line in body)
    assert "| **MACs** | 568,740,352 (569 M) |" in out


def test_table_shows_layers_and_summary(capsys):
    code, out, _ = run_cli(capsys, "analyze", "v3-large", "--hw", "edgetpu")
    assert code == 0
    assert "stage5.2.project" in out and "classifier" in out
    assert "216,589,760" in out
    assert "predicted latency" in out and "memory-bound" in out


def test_output_file_is_written_atomically(capsys, tmp_path):
    target = tmp_path / "v2.json"
    code, out, err = run_cli(capsys, "analyze", "v2", "--format", "json", "--output", str(target))
    assert code == 0 and out == ""
    assert json.loads(target.read_text())["totals"]["macs"] == 300_774_272
    assert [p.name for p in tmp_path.iterdir()] == ["v2.json"]


def test_output_into_missing_directory_is_refused(capsys, tmp_path):
    code, _, err = run_cli(capsys, "analyze", "v2", "--format", "csv", "--output", str(tmp_path / "nope" / "x.csv"))
    assert code == 2
    assert err.splitlines() == [f"error: {tmp_path / 'nope' / 'x.csv'}: directory {str(tmp_path / 'nope')!r} does not exist"]


def test_output_that_is_a_directory_is_refused(capsys, tmp_path):
    code, _, err = run_cli(capsys, "analyze", "v2", "--format", "csv", "--output", str(tmp_path))
    assert code == 2
    assert err.splitlines() == [f"error: {tmp_path}: is a directory; expected a file path"]


def test_renderer_failure_leaves_no_file(capsys, tmp_path, monkeypatch):
    from mncost import render

    def half_then_fail(result):
        raise RuntimeError("renderer broke half-way")

    monkeypatch.setattr(render, "to_csv", half_then_fail)
    target = tmp_path / "out.csv"
    code, _, err = run_cli(capsys, "analyze", "v2", "--format", "csv", "--output", str(target))
    assert code == 1 and "internal error" in err
    assert list(tmp_path.iterdir()) == []


def test_write_interrupted_midway_leaves_previous_file(tmp_path, monkeypatch):
    import os

    from mncost.output import write_atomic

    target = tmp_path / "report.md"
    target.write_text("old complete report\n")

    def boom(fd):
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "fsync", boom)
    with pytest.raises(KeyboardInterrupt):
        write_atomic(target, "new report " * 1000)
    assert target.read_text() == "old complete report\n"
    assert [p.name for p in tmp_path.iterdir()] == ["report.md"]


@pytest.mark.parametrize("command", ["models", "hardware"])
@pytest.mark.parametrize("fmt", ["json", "csv", "md"])
def test_listings(capsys, command, fmt):
    code, out, _ = run_cli(capsys, command, "--format", fmt)
    assert code == 0
    if fmt == "json":
        rows = json.loads(out)
        names = [row["name"] for row in rows]
        assert ("v3-large" in names) if command == "models" else (names[:4] == ["cpu", "dsp", "edgetpu", "gpu"] and "pixel6-cpu" in names)
        assert all(row["source"] for row in rows)


def test_hardware_listing_derives_the_ridge_point(capsys):
    _, out, _ = run_cli(capsys, "hardware", "--format", "json")
    rows = {row["name"]: row for row in json.loads(out)}
    assert rows["edgetpu"]["ridge_macs_per_byte"] == pytest.approx(433.8)
    assert rows["cpu"]["ridge_macs_per_byte"] == pytest.approx(31.2)
    assert rows["gpu"]["ridge_macs_per_byte"] == pytest.approx(7.6e11 / 51.2e9)


@pytest.mark.parametrize("command", ["analyze", "models", "hardware"])
def test_every_command_has_help(capsys, command):
    code, out, _ = run_cli(capsys, command, "--help")
    assert code == 0
    assert "Usage" in out and "--format" in out


def test_python_dash_m_and_any_working_directory(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "mncost", "analyze", "v3-small", "--format", "json"],
        cwd=tmp_path, capture_output=True, text=True, check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["totals"]["params"] == 2_530_744


def test_user_spec_and_profile_files(capsys, tmp_path):
    spec = tmp_path / "my_net.yaml"
    spec.write_text(
        "name: my_net\nsource: test\nresolution: 64\nstages:\n"
        "  - name: body\n    blocks:\n"
        "      - {type: conv, out: 16, k: 3, stride: 2, act: relu}\n"
        "      - {type: dsconv, out: 32, stride: 2}\n"
        "      - {type: pool}\n      - {type: fc, out: 10, width: fixed}\n"
    )
    board = tmp_path / "my_board.yaml"
    board.write_text("name: my_board\npeak_macs_per_s: 1e9\nmem_bw_bytes_per_s: 1e8\nweight_dtype: fp32\nactivation_dtype: fp16\n")
    code, out, err = run_cli(capsys, "analyze", str(spec), "--hw", str(board), "--format", "json")
    assert code == 0, err
    data = json.loads(out)
    conv = 16 * 32 * 32 * 3 * 9
    dw = 16 * 16 * 16 * 9
    pw = 32 * 16 * 16 * 16
    fc = 32 * 10
    assert data["totals"]["macs"] == conv + dw + pw + fc
    params = 16 * 27 + 16 * 9 + 32 * 16 + 32 * 10 + 10
    assert data["totals"]["params"] == params
    assert data["totals"]["weight_bytes"] == 4 * params
    first = data["layers"][0]
    assert first["activation_bytes"] == 2 * (3 * 64 * 64 + 16 * 32 * 32)
    assert first["mac_time_s"] == pytest.approx(conv / 1e9)
    assert first["mem_time_s"] == pytest.approx((4 * 16 * 27 + first["activation_bytes"]) / 1e8)


def test_every_subpackage_ships_in_the_wheel():
    # An editable install hides a package missing from pyproject's list; a wheel
    # (CI's install) lacks it and every command fails to import.
    import tomllib
    root = Path(__file__).resolve().parents[1]
    listed = set(tomllib.loads((root / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    on_disk = {".".join(p.parent.relative_to(root).parts) for p in (root / "mncost").rglob("__init__.py")}
    assert on_disk - listed == set()
