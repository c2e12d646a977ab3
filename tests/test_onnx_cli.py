"""An ``.onnx`` path works in every command that takes a model, and counts as the spec it was exported from.

``v1-cifar``'s torch model is exported (dynamic height and width) as ``cifar-net.onnx``;
each command's numbers for the file must equal the same command's for ``v1-cifar``.
"""

from __future__ import annotations

import csv
import io
import json
import shutil
from pathlib import Path

import pytest

pytest.importorskip("torch")
pytest.importorskip("onnx")

from mncost.cli import main  # noqa: E402
from test_onnx import export  # noqa: E402

SPEC = "v1-cifar"


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("onnx-cli")
    path = folder / "cifar-net.onnx"
    shutil.move(export(SPEC, folder), path)
    return path


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    code = main(args)
    out, err = capsys.readouterr()
    assert code == 0, err
    return out


def rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


NUMBERS = ("macs", "params", "weight_bytes", "activation_bytes", "latency_s", "memory_bound_share")


def test_analyze(model: Path, capsys: pytest.CaptureFixture[str]) -> None:
    mine = json.loads(run(["analyze", str(model), "-r", "32", "--hw", "edgetpu", "-f", "json"], capsys))["totals"]
    ref = json.loads(run(["analyze", SPEC, "--hw", "edgetpu", "-f", "json"], capsys))["totals"]
    assert mine == ref


def test_sweep(model: Path, capsys: pytest.CaptureFixture[str]) -> None:
    table = rows(run(["sweep", "-m", f"{model},{SPEC}", "-r", "32,64", "--hw", "cpu,edgetpu", "-f", "csv"], capsys))
    mine = [[r[k] for k in ("resolution", "hardware", *NUMBERS)] for r in table if r["model"] == "cifar-net"]
    ref = [[r[k] for k in ("resolution", "hardware", *NUMBERS)] for r in table if r["model"] == SPEC]
    assert len(mine) == 4 and mine == ref
    assert {r["width_rule"] for r in table if r["model"] == "cifar-net"} == {"graph"}  # the imported spec's


def test_ridge(model: Path, capsys: pytest.CaptureFixture[str]) -> None:
    table = rows(run(["ridge", "-m", f"{model},{SPEC}", "-r", "32", "--rp", "0:100:50", "-f", "csv"], capsys))
    latency = {(r["model"].split(" ")[0], r["ridge_macs_per_byte"]): r["latency_s"] for r in table}  # "cifar-net α=1 r=32"
    assert [latency["cifar-net", rp] for rp in ("0.0", "50.0", "100.0")] == [latency[SPEC, rp] for rp in ("0.0", "50.0", "100.0")]


def test_report(model: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run(["report", str(model), "-r", "32", "--hw", "edgetpu", "--output-dir", str(tmp_path / "one")], capsys)
    run(["report", SPEC, "--hw", "edgetpu", "--output-dir", str(tmp_path / "ref")], capsys)
    mine, ref = (json.loads((tmp_path / d / "result.json").read_text())["totals"] for d in ("one", "ref"))
    assert mine == ref
    run(["report", "--sweep", "-m", str(model), "-r", "32", "--output-dir", str(tmp_path / "sweep")], capsys)
    assert (tmp_path / "sweep" / "report.md").is_file()


def test_crosscheck(model: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The imported spec's torch model, counted by fvcore, agrees with the spec's walk."""
    out = run(["crosscheck", str(model)], capsys)
    assert "all 29 layers agree (MACs, params, output shapes)" in out


def test_pick(model: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """An ONNX graph has no published top-1: alone it is a clear error, beside others it is left out."""
    assert main(["pick", "--hw", "cpu", "--budget-ms", "2", "-m", str(model)]) == 2
    assert capsys.readouterr().err.strip() == "error: no configuration has a published top-1 among the models given (cifar-net)"
    both = run(["pick", "--hw", "cpu", "--budget-ms", "5", "-m", f"{model},v1", "-f", "json"], capsys)
    alone = run(["pick", "--hw", "cpu", "--budget-ms", "5", "-m", "v1", "-f", "json"], capsys)
    assert json.loads(both) == json.loads(alone)


def test_fit_rows_name_onnx_files(model: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A measurement row whose model is an .onnx file (relative to the CSV) fits as the spec's row does."""
    shutil.copy(model, tmp_path / model.name)
    body = "{m},32,0.41\n{m},64,1.2\nv2,224,2.5\nv1,224,2.0\nv3-large,224,2.2\n"
    results = []
    for name in (model.name, SPEC):
        path = tmp_path / f"rows-{name}.csv"
        path.write_text("model,resolution,latency_ms\n" + body.format(m=name))
        results.append(json.loads(run(["fit", str(path), "--name", "t", "-f", "json"], capsys))["selected"])
    assert results[0] == results[1]
    missing = tmp_path / "missing.csv"
    missing.write_text("model,latency_ms\nnone.onnx,1.0\nv1,2.0\nv2,2.5\nv3-large,2.2\n")
    assert main(["fit", str(missing), "--name", "t"]) == 2
    assert capsys.readouterr().err.strip() == f"error: {missing}:2: model: ONNX file {str(tmp_path / 'none.onnx')!r} not found"
