"""Concatenation and channel slicing in a graph: views where the specs count them as views.

A Concat, Split or unit-step Slice along an axis with only unit axes before it (the
channels of a batch-1 map) is a view: each part is a contiguous range of one buffer, so
a runtime writes each branch into its place (README, "Counting conventions"). Other
Concats and Slices move bytes. The graph here is written by hand; its counts are derived
by hand.
"""

from __future__ import annotations

from pathlib import Path

import pytest

onnx = pytest.importorskip("onnx")
from onnx import TensorProto, helper  # noqa: E402

from mncost.graph.count import graph_walk  # noqa: E402


def _ints(name: str, values: list[int]) -> TensorProto:
    return helper.make_tensor(name, TensorProto.INT64, [len(values)], values)


def _weights(name: str, dims: list[int]) -> TensorProto:
    return helper.make_tensor(name, TensorProto.FLOAT, dims, bytes(4 * dims[0] * dims[1] * dims[2] * dims[3]), raw=True)


def _model() -> onnx.ModelProto:
    """x 1×8×16×16 → 1×1 conv a → a[:, 0:4] (b) and a[:, 0:8:2] (c) → concat(b, c) on the channels (d)
    → concat(d, d) on the height (e, 1×8×32×16) → split into two 4-channel halves → a 1×1 conv each → add."""
    nodes = [
        helper.make_node("Conv", ["x", "w0"], ["a"], name="conv0"),
        helper.make_node("Slice", ["a", "zero", "four", "one", "one"], ["b"], name="first_half"),
        helper.make_node("Slice", ["a", "zero", "eight", "one", "two"], ["c"], name="every_other"),
        helper.make_node("Concat", ["b", "c"], ["d"], name="join_channels", axis=1),
        helper.make_node("Concat", ["d", "d"], ["e"], name="join_height", axis=2),
        helper.make_node("Split", ["e"], ["f", "g"], name="halves", axis=1, num_outputs=2),
        helper.make_node("Conv", ["f", "w1"], ["h"], name="conv1"),
        helper.make_node("Conv", ["g", "w2"], ["i"], name="conv2"),
        helper.make_node("Add", ["h", "i"], ["y"], name="add"),
    ]
    inits = [_weights("w0", [8, 8, 1, 1]), _weights("w1", [4, 4, 1, 1]), _weights("w2", [4, 4, 1, 1]),
             _ints("zero", [0]), _ints("one", [1]), _ints("two", [2]), _ints("four", [4]), _ints("eight", [8])]
    graph = helper.make_graph(nodes, "concat", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 8, 16, 16])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)], inits)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)])


def test_channel_concat_split_and_unit_slice_are_views(tmp_path: Path) -> None:
    path = tmp_path / "concat.onnx"
    onnx.save(_model(), str(path))
    w, mapped = graph_walk(path, warn=False)
    assert not mapped.unhandled
    rows = [(x.name, x.op, x.act_read_elems, x.act_write_elems) for x in w.layers]
    assert rows == [
        ("conv0", "pwconv", 8 * 256, 8 * 256),
        ("every_other", "move", 8 * 256, 4 * 256),  # a strided slice gathers: reads the map, writes the part
        ("join_height", "move", 2 * 8 * 256, 8 * 512),  # along H the parts interleave per channel: copied
        ("conv1", "pwconv", 4 * 512, 4 * 512),  # reads its half of e in place
        ("conv2", "pwconv", 4 * 512, 4 * 512),
        ("add", "add", 2 * 4 * 512, 4 * 512),
    ]
    assert (mapped.views["Slice"], mapped.views["Concat"], mapped.views["Split"]) == (1, 1, 1)
