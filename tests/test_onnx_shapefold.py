"""Shape arithmetic ONNX shape inference leaves unsized, evaluated by mncost.graph.shapefold.

Graphs are built by hand with onnx.helper; every count below is derived by hand.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

onnx = pytest.importorskip("onnx")
from onnx import ModelProto, NodeProto, TensorProto, helper  # noqa: E402

from mncost.cli import main  # noqa: E402
from mncost.graph.count import graph_walk  # noqa: E402
from mncost.graph.loader import load_graph  # noqa: E402
from mncost.graph.shapefold import Value, evaluate  # noqa: E402


def ints(name: str, values: list[int]) -> TensorProto:
    return helper.make_tensor(name, TensorProto.INT64, [len(values)], values)


def weights(name: str, dims: list[int]) -> TensorProto:
    n = 1
    for d in dims:
        n *= d
    return helper.make_tensor(name, TensorProto.FLOAT, dims, bytes(4 * n), raw=True)


def split_model() -> ModelProto:
    """x 1×8×H×W → 1×1 conv (8) → channel split a[:, :C//2] → 3×3 conv (6, pad 1) → reshape to 1×4·6×(H·W)//4 → MatMul 64×10.

    Both the Slice end (C // 2) and the Reshape target (H·W // 4) are Div on shapes, which
    ONNX shape inference does not propagate; the second reads the shape of a tensor that is
    sized only once the first is evaluated (two rounds).
    """
    nodes = [
        helper.make_node("Conv", ["x", "w0"], ["a"], name="conv0"),
        helper.make_node("Shape", ["a"], ["a_shape"], name="shape_a"),
        helper.make_node("Gather", ["a_shape", "one"], ["channels"], name="gather_c", axis=0),
        helper.make_node("Div", ["channels", "two"], ["half"], name="div_half"),
        helper.make_node("Slice", ["a", "zero", "half", "one"], ["b"], name="split"),
        helper.make_node("Conv", ["b", "w1"], ["d"], name="conv1", pads=[1, 1, 1, 1]),
        helper.make_node("Shape", ["d"], ["d_shape"], name="shape_d"),
        helper.make_node("Gather", ["d_shape", "one"], ["c2"], name="gather_c2", axis=0),
        helper.make_node("Gather", ["d_shape", "two"], ["h"], name="gather_h", axis=0),
        helper.make_node("Gather", ["d_shape", "three"], ["w"], name="gather_w", axis=0),
        helper.make_node("Mul", ["h", "w"], ["hw"], name="mul_hw"),
        helper.make_node("Div", ["hw", "four"], ["hw4"], name="div_hw"),
        helper.make_node("Mul", ["c2", "four"], ["c4"], name="mul_c"),
        helper.make_node("Concat", ["one", "c4", "hw4"], ["target"], name="concat", axis=0),
        helper.make_node("Reshape", ["d", "target"], ["r"], name="reshape"),
        helper.make_node("MatMul", ["r", "w2"], ["y"], name="fc"),
    ]
    inits = [weights("w0", [8, 8, 1, 1]), weights("w1", [6, 4, 3, 3]), weights("w2", [64, 10]),
             ints("zero", [0]), ints("one", [1]), ints("two", [2]), ints("three", [3]), ints("four", [4])]
    graph = helper.make_graph(nodes, "split", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 8, "h", "w"])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)], inits)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def test_split_graph_is_sized_and_counted(tmp_path: Path) -> None:
    path = tmp_path / "split.onnx"
    onnx.save(split_model(), str(path))
    graph = load_graph(path, 16)
    assert graph.shape("half") == (1,) and graph.shape("b") == (1, 4, 16, 16)
    assert graph.shape("d") == (1, 6, 16, 16) and graph.shape("r") == (1, 24, 64) and graph.shape("y") == (1, 24, 10)
    w, mapped = graph_walk(path, resolution=16, warn=False)
    assert not mapped.unhandled
    counted = {layer.name: (layer.macs, layer.params) for layer in w.layers if layer.macs}
    assert counted == {
        "conv0": (8 * 8 * 16 * 16, 8 * 8),  # C_out·C_in·H·W, C_out·C_in
        "conv1": (6 * 4 * 9 * 16 * 16, 6 * 4 * 9),  # C_out·C_in·k²·H·W
        "fc": (24 * 64 * 10, 64 * 10),  # rows·K·N, K·N
    }
    assert [n.name for n in graph.nodes] == [n.name for n in split_model().graph.node]  # the graph mapped keeps its own nodes
    assert mapped.views["Div"] == 2  # shape arithmetic stays a view


def data_dependent_model() -> ModelProto:
    """The Slice end is the image's largest value (cast to int): no shape can be computed."""
    nodes = [
        helper.make_node("ReduceMax", ["x"], ["peak"], name="peak", keepdims=0),
        helper.make_node("Cast", ["peak"], ["peak_i"], name="cast", to=TensorProto.INT64),
        helper.make_node("Unsqueeze", ["peak_i", "zero"], ["end"], name="unsqueeze"),
        helper.make_node("Slice", ["x", "zero", "end", "one"], ["part"], name="take"),
        helper.make_node("Conv", ["part", "w"], ["y"], name="conv"),
    ]
    graph = helper.make_graph(nodes, "data", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, "h", "w"])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
                              [weights("w", [8, 3, 1, 1]), ints("zero", [0]), ints("one", [1])])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def test_data_dependent_slice_still_names_the_tensor(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "data.onnx"
    onnx.save(data_dependent_model(), str(path))
    code = main(["analyze", str(path), "-r", "16"])
    out, err = capsys.readouterr()
    assert code == 2 and out == ""
    assert err.strip().splitlines() == [f"error: {path}: shape inference could not tell the shape of tensor 'part' (output of node 'take', Slice)"]


def node(op: str, inputs: list[str], **attrs: Any) -> NodeProto:
    return helper.make_node(op, inputs, ["out"], **attrs)


def vec(*xs: int) -> Value:
    return Value(7, (len(xs),), xs)


VALUES = {"a": vec(7, -7, 9), "b": vec(2), "m": Value(7, (2, 3), (1, 2, 3, 4, 5, 6)), "i": vec(1, 0), "s": Value(7, (), (3,)), "k": Value(7, (), (2,)), "k9": Value(7, (), (9,)), "big": vec(2**63 - 1), "two_f": Value(1, (), (2.0,)),
          "f": Value(1, (2,), (2.5, -2.5)), "t": Value(9, (3,), (True, False, True))}


@pytest.mark.parametrize("proto,expected", [
    (node("Div", ["a", "b"]), vec(3, -3, 4)),  # integer Div truncates toward zero (onnxruntime), not floor
    (node("Mod", ["a", "b"]), vec(1, 1, 1)),  # integer Mod takes the divisor's sign
    (node("Mod", ["f", "two_f"], fmod=1), Value(1, (2,), (0.5, -0.5))),  # fmod takes the dividend's sign
    (node("Mul", ["big", "b"]), None),  # past int64: unknown, never wrapped around
    (node("Sub", ["m", "a"]), Value(7, (2, 3), (-6, 9, -6, -3, 12, -3))),  # broadcast of 3 over 2×3
    (node("Gather", ["m", "i"], axis=0), Value(7, (2, 3), (4, 5, 6, 1, 2, 3))),
    (node("Gather", ["m", "k"], axis=1), vec(3, 6)),  # a scalar index drops the axis
    (node("Gather", ["a", "s"], axis=0), None),  # index 3 is out of range for 3 elements: unknown, not an error
    (node("Slice", ["a", "b", "s"]), vec(9)),
    (node("Slice", ["a", "s", "b"], ), vec()),  # start past end: empty
    (node("Concat", ["a", "b", "i"], axis=0), vec(7, -7, 9, 2, 1, 0)),
    (node("Unsqueeze", ["s", "i"]), Value(7, (1, 1), (3,))),  # axes (1, 0) on a scalar
    (node("Unsqueeze", ["s", "b"]), None),  # axis 2 on a scalar: out of range, unknown
    (node("Cast", ["f"], to=TensorProto.INT64), vec(2, -2)),  # float → int truncates
    (node("Floor", ["f"]), Value(1, (2,), (2.0, -3.0))),
    (node("Where", ["t", "a", "b"]), vec(7, 2, 9)),
    (node("Range", ["b", "s", "s"]), vec(2)),  # start 2, limit 3, delta 3
    (node("Max", ["a", "b", "s"]), vec(7, 3, 9)),
    (node("Equal", ["a", "k9"]), Value(9, (3,), (False, False, True))),
    (node("Reshape", ["m", "a"]), None),  # a target with negative sizes other than -1
    (node("Div", ["a", "zero"]), None),  # division by zero: unknown
    (node("Transpose", ["m"], perm=[1, 0]), Value(7, (3, 2), (1, 4, 2, 5, 3, 6))),
    (node("Transpose", ["m"]), Value(7, (3, 2), (1, 4, 2, 5, 3, 6))),  # default: the axes reversed
    (node("Transpose", ["m"], perm=[0, 0]), None),  # not a permutation: unknown
])
def test_evaluate(proto: NodeProto, expected: Value | None) -> None:
    values = {**VALUES, "zero": vec(0)}
    assert evaluate(proto, values, {}, 17) == expected


def test_shape_reads_the_static_shape() -> None:
    shapes = {"x": (1, 116, 28, 28)}
    assert evaluate(node("Shape", ["x"]), {}, shapes, 17) == vec(1, 116, 28, 28)
    assert evaluate(node("Shape", ["x"], start=1, end=-1), {}, shapes, 17) == vec(116, 28)
    assert evaluate(node("Size", ["x"]), {}, shapes, 17) == Value(7, (), (116 * 28 * 28,))
    assert evaluate(node("Shape", ["y"]), {}, shapes, 17) is None  # not sized: unknown
