"""Independent check: ONNX files of real torchvision / timm models against fvcore.

The files in tests/onnx_reference were exported from the upstream models
(``pretrained=False``) with their weight values dropped (shapes and dtypes kept:
counting needs nothing else); counts.json holds fvcore's conv + linear MACs,
attention MACs and conv + linear params of the same models
(tests/onnx_reference/generate.py, run in a reference environment). mncost's
totals on the graphs must equal them exactly.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytest.importorskip("onnx")

from mncost.graph.count import graph_walk  # noqa: E402

HERE = Path(__file__).resolve().parent / "onnx_reference"
COUNTS = json.loads((HERE / "counts.json").read_text())["entries"]


# tv_shufflenet_v2_x1_0's channel split computes its Slice ends with Div on tensor shapes,
# which ONNX shape inference does not propagate: mncost.graph.shapefold sizes it.
@pytest.mark.parametrize("name", sorted(COUNTS))
def test_totals_equal_fvcore(name: str) -> None:
    entry = COUNTS[name]
    w, mapped = graph_walk(HERE / entry["file"], resolution=entry["resolution"], warn=False)
    macs = sum(layer.macs for layer in w.layers)
    attention = sum(layer.attention_macs for layer in w.layers)
    params = sum(layer.params for layer in w.layers)
    assert not mapped.unhandled
    assert macs - attention == entry["macs"]  # conv + linear
    assert attention == entry["attention_macs"]
    assert params == entry["params"]  # conv + linear weights and biases


def test_timm_hybrid_graph_counts_as_the_builtin_spec() -> None:
    """timm's own MNv4-Hybrid-M graph lays out K and V with Reshape → Transpose → Unsqueeze →
    Transpose before the core; those belong to the attention layer, so the graph counts as the
    built-in ``v4-hybrid-m`` (written from the paper) layer by layer, traffic included."""
    from mncost import load_spec, walk

    w, _ = graph_walk(HERE / "timm_mobilenetv4_hybrid_medium.onnx", resolution=256, warn=False)
    spec = walk(load_spec("v4-hybrid-m"), resolution=256).layers
    keys = ("op", "macs", "params", "bn_params", "act_read_elems", "act_write_elems", "elementwise_ops", "attention_macs")
    assert len(w.layers) == len(spec) == 157
    for theirs, mine in zip(w.layers, spec):
        assert [getattr(theirs, k) for k in keys] == [getattr(mine, k) for k in keys], (theirs.name, mine.name)
