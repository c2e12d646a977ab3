"""Bad ONNX files: one line naming the file and the problem, exit 2, nothing written."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

onnx = pytest.importorskip("onnx")
from onnx import TensorProto, helper  # noqa: E402

from mncost.cli import main  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def conv_model(*, opset: int = 17, in_shape: list[object] | None = None, in_type: int = TensorProto.FLOAT) -> onnx.ModelProto:
    """x (1×3×H×W) → 3×3 conv (8 filters, pad 1) → Relu."""
    w = helper.make_tensor("w", TensorProto.FLOAT, [8, 3, 3, 3], bytes(4 * 216), raw=True)
    nodes = [helper.make_node("Conv", ["x", "w"], ["c"], name="conv", pads=[1, 1, 1, 1]), helper.make_node("Relu", ["c"], ["y"], name="relu")]
    graph = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", in_type, in_shape or [1, 3, "h", "w"])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)], [w])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(args)
    out, err = capsys.readouterr()
    return code, out, err


def assert_one_line(code: int, err: str, path: Path, needle: str) -> None:
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith(f"error: {path}: "), lines[0]
    assert needle in lines[0], lines[0]
    assert "Traceback" not in err


def test_good_model_counts(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "m.onnx"
    onnx.save(conv_model(), str(path))
    code, out, err = run(["analyze", str(path), "-r", "16", "-f", "json"], capsys)
    assert code == 0, err
    import json

    data = json.loads(out)
    (layer,) = data["layers"]
    assert layer["macs"] == 8 * 16 * 16 * 3 * 9  # C_out·H·W·C_in·k²
    assert layer["params"] == 216
    assert layer["elementwise_ops"] == 8 * 16 * 16  # the fused Relu
    assert layer["name"] == "conv"


CASES = {
    "not-protobuf": (lambda p: p.write_bytes(b"\xff\xff\xff\xff garbage, not a model"), "not an ONNX model"),
    "text": (lambda p: p.write_text("name: v2\nstages: []\n"), "not an ONNX model"),
    "empty": (lambda p: p.write_bytes(b""), "not an ONNX model"),
    "truncated": (lambda p: p.write_bytes(conv_model().SerializeToString()[:120]), "not an ONNX model"),
    "opset-old": (lambda p: onnx.save(conv_model(opset=5), str(p)), "opset 5 is too old"),
    "opset-new": (lambda p: onnx.save(conv_model(opset=99), str(p)), "opset 99 is newer than the installed onnx"),
    "not-image": (lambda p: onnx.save(conv_model(in_shape=[1, 77]), str(p)), "input 'x' has shape 1×77"),
    "fixed-batch": (lambda p: onnx.save(conv_model(in_shape=[4, 3, 16, 16]), str(p)), "fixed batch of 4"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_file(case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    make, needle = CASES[case]
    path = tmp_path / f"{case}.onnx"
    make(path)
    out_file = tmp_path / "out.json"
    code, out, err = run(["analyze", str(path), "-r", "16", "-f", "json", "-o", str(out_file)], capsys)
    assert_one_line(code, err, path, needle)
    assert not out_file.exists() and out == ""
    assert [p.name for p in tmp_path.iterdir()] == [path.name]  # no temporary file left either


def test_cycle(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    model = conv_model()
    model.graph.node.append(helper.make_node("Relu", ["b"], ["a"], name="r1"))
    model.graph.node.append(helper.make_node("Relu", ["a"], ["b"], name="r2"))
    path = tmp_path / "cycle.onnx"
    path.write_bytes(model.SerializeToString())
    code, _, err = run(["analyze", str(path), "-r", "16"], capsys)
    assert_one_line(code, err, path, "the graph has a cycle (through node 'r1', Relu)")


def test_dangling_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    model = conv_model()
    model.graph.node.append(helper.make_node("Relu", ["nowhere"], ["z"], name="lost"))
    path = tmp_path / "dangling.onnx"
    path.write_bytes(model.SerializeToString())
    code, _, err = run(["analyze", str(path), "-r", "16"], capsys)
    assert_one_line(code, err, path, "node 'lost' (Relu) reads tensor 'nowhere'")


def test_unknown_dtype(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    model = conv_model()
    model.graph.initializer.append(helper.make_tensor("z", TensorProto.COMPLEX64, [2], [1.0, 0.0]))
    path = tmp_path / "complex.onnx"
    path.write_bytes(model.SerializeToString())
    code, _, err = run(["analyze", str(path), "-r", "16"], capsys)
    assert_one_line(code, err, path, "initializer 'z' has dtype 14 (complex64)")


def test_qlinear_op_without_its_inputs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    graph = helper.make_graph([helper.make_node("QLinearConv", ["x"], ["y"], name="qc")], "g",
                              [helper.make_tensor_value_info("x", TensorProto.UINT8, [1, 3, 8, 8])],
                              [helper.make_tensor_value_info("y", TensorProto.UINT8, None)])
    path = tmp_path / "short.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(path))
    out_file = tmp_path / "out.csv"
    code, _, err = run(["analyze", str(path), "-f", "csv", "-o", str(out_file)], capsys)
    assert_one_line(code, err, path, "node 'qc' (QLinearConv) lacks inputs: it needs inputs 0, 3 (of the x, x_scale, x_zero_point, w, ")
    assert not out_file.exists()


def test_over_the_size_limit(tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    from mncost.graph import loader

    monkeypatch.setattr(loader, "MAX_ONNX_BYTES", 100)
    path = tmp_path / "big.onnx"
    onnx.save(conv_model(), str(path))
    code, _, err = run(["analyze", str(path), "-r", "16"], capsys)
    assert_one_line(code, err, path, "file is more than the 100-byte limit")


def test_external_data(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "ext.onnx"
    onnx.save_model(conv_model(), str(path), save_as_external_data=True, all_tensors_to_one_file=True, location="ext.bin", size_threshold=0)
    code, out, err = run(["analyze", str(path), "-r", "16", "-f", "csv"], capsys)
    assert code == 0, err  # read from beside the model
    assert ",216," in out  # params of the conv
    (tmp_path / "ext.bin").write_bytes(b"\0" * 10)
    code, _, err = run(["analyze", str(path), "-r", "16"], capsys)
    assert_one_line(code, err, path, "external data file 'ext.bin' is shorter than")
    (tmp_path / "ext.bin").unlink()
    code, _, err = run(["analyze", str(path), "-r", "16"], capsys)
    assert_one_line(code, err, path, "external data file 'ext.bin' not found beside the model")


def test_unhandled_ops_are_listed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    model = conv_model()
    model.graph.node.append(helper.make_node("Hardmax", ["y"], ["z"], name="odd"))
    model.graph.output.append(helper.make_tensor_value_info("z", TensorProto.FLOAT, None))
    path = tmp_path / "odd.onnx"
    path.write_bytes(model.SerializeToString())
    code, out, err = run(["analyze", str(path), "-r", "16", "-f", "json"], capsys)
    assert code == 0
    assert "Hardmax ×1" in err and err.startswith("warning: ")
    import json

    assert json.loads(out)["unhandled_ops"] == {"Hardmax": 1}


def _python(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, env={"PYTHONPATH": str(ROOT), "PATH": ""})


def test_without_onnx_one_line_says_how_to_install(tmp_path: Path) -> None:
    path = tmp_path / "m.onnx"
    onnx.save(conv_model(), str(path))
    proc = _python(f"import sys; sys.modules['onnx'] = None; from mncost.cli import main; sys.exit(main(['analyze', {str(path)!r}, '-r', '16']))")
    assert proc.returncode == 2
    assert proc.stderr.strip() == "error: reading ONNX files needs the onnx package: pip install 'mncost[onnx]'"


def test_onnx_stays_off_other_paths_and_numpy_off_this_one(tmp_path: Path) -> None:
    path = tmp_path / "m.onnx"
    onnx.save(conv_model(), str(path))
    proc = _python("import sys; from mncost.cli import main; main(['analyze', 'v2', '-f', 'csv']); print('onnx' in sys.modules, file=sys.stderr)")
    assert proc.stderr.strip().splitlines()[-1] == "False"
    proc = _python(f"import sys; from mncost.cli import main; main(['analyze', {str(path)!r}, '-r', '16', '-f', 'csv']); "
                   "print('numpy' in sys.modules, 'onnx.onnx_cpp2py_export' in sys.modules, file=sys.stderr)")
    assert proc.stderr.strip().splitlines()[-1] == "False True"


def test_qlinear_conv_counts_as_its_float_conv(tmp_path: Path) -> None:
    """QuantizeLinear → QLinearConv → DequantizeLinear: the Q/DQ are free, the conv counted as a float one (no bias here)."""
    from mncost.graph.count import graph_walk

    w = helper.make_tensor("w", TensorProto.INT8, [8, 3, 3, 3], bytes(216), raw=True)
    scale = helper.make_tensor("s", TensorProto.FLOAT, [], [0.1])
    zero8 = helper.make_tensor("z", TensorProto.INT8, [], [0])
    zero_u8 = helper.make_tensor("zu", TensorProto.UINT8, [], [0])
    nodes = [
        helper.make_node("QuantizeLinear", ["x", "s", "zu"], ["xq"], name="q"),
        helper.make_node("QLinearConv", ["xq", "s", "zu", "w", "s", "z", "s", "zu"], ["yq"], name="qconv", pads=[1, 1, 1, 1]),
        helper.make_node("DequantizeLinear", ["yq", "s", "zu"], ["y"], name="dq"),
    ]
    graph = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 16, 16])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)], [w, scale, zero8, zero_u8])
    path = tmp_path / "q.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(path))
    walked, mapped = graph_walk(path)
    (layer,) = walked.layers
    assert (layer.name, layer.macs, layer.params) == ("qconv", 8 * 16 * 16 * 27, 216)
    assert layer.act_read_elems == 3 * 16 * 16 and layer.act_write_elems == 8 * 16 * 16
    assert mapped.views == {"QuantizeLinear": 1, "DequantizeLinear": 1} and not mapped.unhandled
