"""``mncost import`` of the real torchvision / timm graphs in tests/onnx_reference.

The written spec must count as the graph (the importer checks it layer by layer before
writing); here the totals of the spec read back from the file are compared with the
graph's own totals, and its conv + linear MACs and params with fvcore's counts of the
upstream model (counts.json). The graphs that have no spec form yet must stop with the
one-line error naming the node where the vocabulary ends.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytest.importorskip("onnx")

from mncost.cli import main
from mncost.graph.count import graph_walk
from mncost.spec import load_spec
from mncost.walker import walk

HERE = Path(__file__).resolve().parent / "onnx_reference"
COUNTS = json.loads((HERE / "counts.json").read_text())["entries"]
KEYS = ("macs", "params", "bn_params", "act_read_elems", "act_write_elems", "elementwise_ops", "attention_macs")

IMPORTS = ["timm_efficientnet_lite0", "timm_mobilenetv4_hybrid_medium", "tv_convnext_tiny", "tv_efficientnet_b0", "tv_mnasnet0_5", "tv_mobilenet_v2",
           "tv_mobilenet_v3_small", "tv_regnet_y_400mf", "tv_resnet18"]
_NO_BLOCK = ("no block of the spec vocabulary starts here (blocks expect bias-free convs with their BN; concatenated branches, "
             "element-wise layers and residual adds whose skip is not the input of an earlier block have no block yet)")
FAILS = {
    # Fire modules concatenate two expand convs; the graph's Concat moves bytes that no block writes
    "tv_squeezenet1_1": f"cannot import node '/features/features.3/Concat' (Concat): {_NO_BLOCK}",
    # channel split + concat + shuffle
    "tv_shufflenet_v2_x1_0": f"cannot import node '/stage2/stage2.0/Concat' (Concat): {_NO_BLOCK}",
}


def test_every_reference_graph_is_listed() -> None:
    assert set(IMPORTS) | set(FAILS) == set(COUNTS)
    assert not set(IMPORTS) & set(FAILS)


@pytest.mark.parametrize("name", IMPORTS)
def test_imported_spec_counts_as_the_graph(name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    entry = COUNTS[name]
    out = tmp_path / f"{name}.yaml"
    assert main(["import", str(HERE / entry["file"]), "-o", str(out)]) == 0, capsys.readouterr().err
    spec = load_spec(out)
    mine = walk(spec).layers
    graph, _ = graph_walk(HERE / entry["file"], resolution=entry["resolution"], warn=False)
    assert len(mine) == len(graph.layers)
    for key in KEYS:
        assert sum(getattr(x, key) for x in mine) == sum(getattr(x, key) for x in graph.layers), key
    attention = sum(x.attention_macs for x in mine)
    assert attention == entry["attention_macs"]  # FlopCounterMode's SDPA count
    assert sum(x.macs for x in mine) - attention == entry["macs"]  # fvcore's conv + linear MACs of the upstream model
    assert sum(x.params for x in mine) == entry["params"]


@pytest.mark.parametrize("name", sorted(FAILS))
def test_graph_without_a_spec_form_is_a_one_line_error(name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = HERE / COUNTS[name]["file"]
    out = tmp_path / f"{name}.yaml"
    assert main(["import", str(path), "-o", str(out)]) == 2
    assert capsys.readouterr().err == f"error: {path}: {FAILS[name]}\n"
    assert not out.exists()


def test_convnext_reads_as_the_zoo_writes_it(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """ConvNeXt-T's channels-last block: dw 7×7 → permute → LayerNorm → Linear ×4 (GELU) → Linear → permute → γ, residual;
    its LayerNorms count the specs' 4 ops per element (README, "Counting conventions")."""
    out = tmp_path / "convnext.yaml"
    assert main(["import", str(HERE / "tv_convnext_tiny.onnx"), "-o", str(out)]) == 0, capsys.readouterr().err
    spec = load_spec(out)
    groups = [b for s in spec.stages for b in s.blocks if b.TYPE == "group"]
    assert len(groups) == 3 + 3 + 9 + 3  # ConvNeXt-T depths
    assert [b.TYPE for b in groups[0].blocks] == ["dwconv", "permute", "norm", "pwconv", "pwconv", "permute", "layer_scale"]
    norm = next(x for x in walk(spec).layers if x.op == "norm")
    assert norm.elementwise_ops == 4 * 96 * 56 * 56 and norm.bn_params == 2 * 96
