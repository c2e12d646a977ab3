"""``mncost import`` of the real torchvision / timm graphs in tests/onnx_reference.

The written spec must count as the graph (the importer checks it layer by layer before
writing); here the totals of the spec read back from the file are compared with the
graph's own totals, and its conv + linear MACs and params with fvcore's counts of the
upstream model (counts.json). Every reference graph imports.
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

IMPORTS = sorted(COUNTS)


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


def _blocks(spec: object) -> list[object]:
    return [b for s in spec.stages for b in s.blocks]  # type: ignore[attr-defined]


def test_squeezenet_fire_modules_read_as_concat_blocks(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """SqueezeNet 1.1: 8 Fire modules, each a biased 1×1 squeeze (ReLU), then a concat of a 1×1 and a 3×3 expand."""
    out = tmp_path / "squeezenet.yaml"
    assert main(["import", str(HERE / "tv_squeezenet1_1.onnx"), "-o", str(out)]) == 0, capsys.readouterr().err
    concats = [b for b in _blocks(load_spec(out)) if b.TYPE == "concat"]
    assert len(concats) == 8
    assert {tuple(tuple((x.TYPE, getattr(x, "k", 1)) for x in br) for br in b.branches) for b in concats} == {(( ("pwconv", 1),), (("conv", 3),))}
    assert not any(b.split for b in concats)


def test_shufflenet_units_read_as_split_concats_and_shuffles(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """ShuffleNetV2 1.0×: 16 units (4 + 8 + 4); the first of each stage runs two strided branches on the whole map,
    the others split the channels in halves (the first passed through); each unit ends with a 2-group channel shuffle."""
    out = tmp_path / "shufflenet.yaml"
    assert main(["import", str(HERE / "tv_shufflenet_v2_x1_0.onnx"), "-o", str(out)]) == 0, capsys.readouterr().err
    blocks = _blocks(load_spec(out))
    concats = [b for b in blocks if b.TYPE == "concat"]
    assert [b.split for b in concats] == [False, True, True, True, False, *[True] * 7, False, True, True, True]
    assert all(b.branches[0] == () and [x.TYPE for x in b.branches[1]] == ["pwconv", "dwconv", "pwconv"] for b in concats if b.split)
    assert all([x.TYPE for x in b.branches[0]] == ["dwconv", "pwconv"] for b in concats if not b.split)
    assert [b.groups for b in blocks if b.TYPE == "shuffle"] == [2] * 16
