"""Quantized ONNX graphs: the graph's int8 tensors set the bytes, the MACs stay the float graph's.

A hand-built pair (QDQ and QOperator forms of one conv + global pool) checks the rule
against numbers derived by hand; built-ins exported from torch and quantized with
``onnxruntime.quantization.quantize_static`` (calibrated on generated inputs) check it
layer by layer against the float graph they were quantized from.
"""

from __future__ import annotations

import json
import logging
import warnings
from pathlib import Path

import pytest

onnx = pytest.importorskip("onnx")
from onnx import TensorProto, helper  # noqa: E402

from mncost.analysis import analyze  # noqa: E402
from mncost.cli import main  # noqa: E402

PROFILE = "gpu"  # fp16 weights and activations: a byte at int8 is visibly not a byte at the profile's dtype


def _init(name: str, dtype: int, dims: list[int], size: int) -> onnx.TensorProto:
    return helper.make_tensor(name, dtype, dims, bytes(size * max(1, _numel(dims))), raw=True)


def _numel(dims: list[int]) -> int:
    n = 1
    for d in dims:
        n *= d
    return n


def _scalars() -> list[onnx.TensorProto]:
    return [helper.make_tensor("s", TensorProto.FLOAT, [], [0.05]), helper.make_tensor("z8", TensorProto.INT8, [], [0]),
            helper.make_tensor("z32", TensorProto.INT32, [], [0]), helper.make_tensor("zu", TensorProto.UINT8, [], [0])]


def _save(nodes: list[onnx.NodeProto], inits: list[onnx.TensorProto], path: Path, *, ms: bool = False) -> Path:
    graph = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 8, 8])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)], inits)
    opsets = [helper.make_opsetid("", 17)] + ([helper.make_opsetid("com.microsoft", 1)] if ms else [])
    onnx.save(helper.make_model(graph, opset_imports=opsets), str(path))
    return path


def qdq_model(path: Path) -> Path:
    """x → Q/DQ → Conv(DQ(int8 w 4×3×3×3), DQ(int32 b)) → Q/DQ → GlobalAveragePool → Q/DQ → y."""
    nodes = [
        helper.make_node("QuantizeLinear", ["x", "s", "z8"], ["xq"], name="qx"),
        helper.make_node("DequantizeLinear", ["xq", "s", "z8"], ["xd"], name="dqx"),
        helper.make_node("DequantizeLinear", ["w", "s", "z8"], ["wd"], name="dqw"),
        helper.make_node("DequantizeLinear", ["b", "s", "z32"], ["bd"], name="dqb"),
        helper.make_node("Conv", ["xd", "wd", "bd"], ["c"], name="conv", pads=[1, 1, 1, 1]),
        helper.make_node("QuantizeLinear", ["c", "s", "z8"], ["cq"], name="qc"),
        helper.make_node("DequantizeLinear", ["cq", "s", "z8"], ["cd"], name="dqc"),
        helper.make_node("GlobalAveragePool", ["cd"], ["p"], name="pool"),
        helper.make_node("QuantizeLinear", ["p", "s", "z8"], ["pq"], name="qp"),
        helper.make_node("DequantizeLinear", ["pq", "s", "z8"], ["y"], name="dqy"),
    ]
    return _save(nodes, [_init("w", TensorProto.INT8, [4, 3, 3, 3], 1), _init("b", TensorProto.INT32, [4], 4), *_scalars()], path)


def qoperator_model(path: Path) -> Path:
    """x → Q → QLinearConv(int8 w, int32 b) → com.microsoft QLinearGlobalAveragePool → DQ → y."""
    nodes = [
        helper.make_node("QuantizeLinear", ["x", "s", "zu"], ["xq"], name="qx"),
        helper.make_node("QLinearConv", ["xq", "s", "zu", "w", "s", "z8", "s", "zu", "b"], ["cq"], name="conv", pads=[1, 1, 1, 1]),
        helper.make_node("QLinearGlobalAveragePool", ["cq", "s", "zu", "s", "zu"], ["pq"], name="pool", domain="com.microsoft", channels_last=0),
        helper.make_node("DequantizeLinear", ["pq", "s", "zu"], ["y"], name="dqy"),
    ]
    return _save(nodes, [_init("w", TensorProto.INT8, [4, 3, 3, 3], 1), _init("b", TensorProto.INT32, [4], 4), *_scalars()], path, ms=True)


# By hand: conv 3→4, 3×3, pad 1 on 8×8: MACs = 4·8·8·(3·9) = 6912; params = 4·27 + 4 = 112
# (the int32 bias counted at the weight's dtype, as every bias); it reads 3·64 int8 and
# writes 4·64 int8; the pool reads 4·64 and writes 4, int8 (its output is quantized too).
HAND = {"conv": (6912, 112, 112, 3 * 64 + 4 * 64), "pool": (0, 0, 0, 4 * 64 + 4)}
# --profile-dtypes: the same counts at the profile's fp16, 2 bytes each.
HAND_PROFILE = {name: (macs, params, 2 * wb, 2 * ab) for name, (macs, params, wb, ab) in HAND.items()}


@pytest.mark.parametrize("build", [qdq_model, qoperator_model])
def test_hand_derived_bytes(build: object, tmp_path: Path) -> None:
    path = build(tmp_path / "q.onnx")  # type: ignore[operator]
    for graph_dtypes, want in ((True, HAND), (False, HAND_PROFILE)):
        result = analyze(path, PROFILE, graph_dtypes=graph_dtypes)
        got = {layer.name: (layer.macs, layer.params, layer.weight_bytes, layer.activation_bytes) for layer in result.layers}
        assert got == want
        assert not result.unhandled_ops


def test_profile_dtypes_flag(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from mncost import launch

    path = qdq_model(tmp_path / "q.onnx")
    totals = {}
    for extra in ([], ["--profile-dtypes"]):
        args = ["analyze", str(path), "--hw", PROFILE, "-f", "json", *extra]
        assert main(args) == 0
        totals[bool(extra)] = json.loads(capsys.readouterr().out)["totals"]
        assert launch.parse_analyze(args) is not None and launch.main(args) == 0  # the light entry point agrees
        assert json.loads(capsys.readouterr().out)["totals"] == totals[bool(extra)]
    assert (totals[False]["weight_bytes"], totals[False]["activation_bytes"]) == (112, 448 + 260)
    assert (totals[True]["weight_bytes"], totals[True]["activation_bytes"]) == (224, 2 * (448 + 260))
    assert totals[False]["macs"] == totals[True]["macs"] == 6912


def test_a_float_op_after_a_dequantize_writes_float(tmp_path: Path) -> None:
    """uint8 input → DequantizeLinear → Relu → float output: the Relu reads the uint8 tensor (1 byte an element,
    the DQ fused into it) and writes a float tensor, at the profile's fp16 (2 bytes): 3·64 + 2·3·64."""
    nodes = [helper.make_node("DequantizeLinear", ["x", "s"], ["d"], name="dq"), helper.make_node("Relu", ["d"], ["y"], name="relu")]
    graph = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.UINT8, [1, 3, 8, 8])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)], [helper.make_tensor("s", TensorProto.FLOAT, [], [0.1])])
    path = tmp_path / "dq.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(path))
    (layer,) = analyze(path, PROFILE).layers
    assert (layer.name, layer.activation_bytes) == ("relu", 3 * 64 + 2 * 3 * 64)
    (layer,) = analyze(path, PROFILE, graph_dtypes=False).layers
    assert layer.activation_bytes == 2 * (3 * 64 + 3 * 64)


@pytest.fixture(scope="module")
def quantized(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Path]]:
    """v1-cifar and v3-small (SE, h-swish, residual adds), each as float, QDQ and QOperator graphs."""
    pytest.importorskip("torch")
    np = pytest.importorskip("numpy")
    pytest.importorskip("onnxruntime")
    from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_dynamic, quantize_static
    from onnxruntime.quantization.shape_inference import quant_pre_process

    from test_onnx import export

    folder = tmp_path_factory.mktemp("quant")
    out: dict[str, dict[str, Path]] = {}
    for name, res in (("v1-cifar", 32), ("v3-small", 224)):
        class Inputs(CalibrationDataReader):
            def __init__(self) -> None:
                self._it = iter([{"image": np.random.default_rng(i).standard_normal((1, 3, res, res)).astype(np.float32)} for i in range(2)])

            def get_next(self) -> dict[str, object] | None:
                return next(self._it, None)

        prepared = folder / f"{name}.float.onnx"
        root = logging.getLogger()
        level = root.level
        root.setLevel(logging.ERROR)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                quant_pre_process(str(export(name, folder, dynamic=False)), str(prepared))  # folds BN into the convs
                files = {"float": prepared}
                for form in ("QDQ", "QOperator"):
                    files[form] = folder / f"{name}.{form}.onnx"
                    quantize_static(str(prepared), str(files[form]), Inputs(), quant_format=getattr(QuantFormat, form),
                                    activation_type=QuantType.QInt8 if form == "QDQ" else QuantType.QUInt8,
                                    weight_type=QuantType.QInt8, per_channel=form == "QDQ")
                files["dynamic"] = folder / f"{name}.dynamic.onnx"
                quantize_dynamic(str(prepared), str(files["dynamic"]), weight_type=QuantType.QInt8, op_types_to_quantize=["Conv", "MatMul", "Gemm"])
        finally:
            root.setLevel(level)
        out[name] = files
    return out


@pytest.mark.parametrize("name", ["v1-cifar", "v3-small"])
@pytest.mark.parametrize("form", ["QDQ", "QOperator"])
def test_quantize_static_graphs(quantized: dict[str, dict[str, Path]], name: str, form: str) -> None:
    """MACs and params as the float graph, layer by layer; weight bytes = params × 1; activations 1 byte an element."""
    ref = analyze(quantized[name]["float"], PROFILE)
    mine = analyze(quantized[name][form], PROFILE)
    assert not mine.unhandled_ops and not ref.unhandled_ops
    assert len(mine.layers) == len(ref.layers)
    walked = __import__("mncost.graph.count", fromlist=["graph_walk"]).graph_walk(quantized[name]["float"], warn=False)[0].layers
    for got, want, counts in zip(mine.layers, ref.layers, walked):
        assert (got.op, got.macs, got.params, got.attention_macs) == (want.op, want.macs, want.params, want.attention_macs), got.name
        assert got.weight_bytes == got.params  # int8 weights (and biases at the weight's dtype)
        assert want.weight_bytes == 2 * want.params  # the float graph follows the profile: fp16
        assert got.activation_bytes == counts.act_read_elems + counts.act_write_elems, got.name  # every tensor int8
    assert mine.totals.macs == ref.totals.macs
    assert mine.totals.activation_bytes * 2 == ref.totals.activation_bytes


def test_dynamic_quantization(quantized: dict[str, dict[str, Path]]) -> None:
    """ConvInteger/MatMulInteger are the convs and the fc (their int32 outputs are no shape arithmetic): the float
    graph's MACs; int8 weights (the biases are added by later float Adds); each writes its int32 accumulator, 4 bytes."""
    ref = analyze(quantized["v1-cifar"]["float"], PROFILE)
    mine = analyze(quantized["v1-cifar"]["dynamic"], PROFILE)
    assert not mine.unhandled_ops
    dense = [layer for layer in mine.layers if layer.macs]
    assert [(l.op, l.macs) for l in dense] == [(l.op, l.macs) for l in ref.layers if l.macs]
    walked = {l.name: l for l in __import__("mncost.graph.count", fromlist=["graph_walk"]).graph_walk(quantized["v1-cifar"]["dynamic"])[0].layers}
    for layer in dense:
        counts = walked[layer.name]
        assert layer.weight_bytes == layer.params
        assert layer.activation_bytes == counts.act_read_elems * 1 + counts.act_write_elems * 4, layer.name  # uint8 in, int32 out
