"""ONNX graphs count exactly as the specs they were exported from.

Every built-in spec's torch model (the crosscheck builder) is exported with the
legacy exporter, with a dynamic height and width, and analyzed at two resolutions:
MACs, params, weight and activation bytes (and attention MACs) agree layer by
layer and in total with the spec's own walk.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("onnx")

from mncost import builtin  # noqa: E402
from mncost.analysis import analyze  # noqa: E402
from mncost.spec import load_spec  # noqa: E402

BUILTINS = list(builtin.spec_files())  # all 50: the MobileNets and the zoo (SE variants, Ghost, MHSA, LiteMLA, blur pools)
COMPARED = ("macs", "params", "weight_bytes", "activation_bytes", "attention_macs")


def export(spec_name: str, folder: Path, *, fold_bn: bool = False, dynamic: bool = True) -> Path:
    from mncost.torchnet import SpecNet

    spec = load_spec(spec_name)
    torch.manual_seed(0)
    net = SpecNet(spec).eval()
    x = torch.zeros(1, spec.in_channels, spec.resolution, spec.resolution)
    with torch.no_grad():
        net(x)  # materialize lazy layers
    path = folder / f"{spec_name}{'-folded' if fold_bn else ''}{'' if dynamic else '-fixed'}.onnx"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            net, (x,), str(path), dynamo=False, opset_version=17, input_names=["image"],
            training=torch.onnx.TrainingMode.EVAL, do_constant_folding=fold_bn,  # constant folding folds BN into the convs
            dynamic_axes={"image": {0: "batch", 2: "height", 3: "width"}} if dynamic else None,
        )
    return path


@pytest.fixture(scope="session")
def exported(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("onnx")
    return {name: export(name, folder) for name in BUILTINS}


def _rows(result: object) -> list[tuple[int, ...]]:
    return [tuple(getattr(layer, key) for key in COMPARED) for layer in result.layers]  # type: ignore[attr-defined]


@pytest.mark.parametrize("name", BUILTINS)
@pytest.mark.parametrize("scale", [1.0, 0.75])
def test_onnx_counts_equal_the_spec(exported: dict[str, Path], name: str, scale: float) -> None:
    spec = load_spec(name)
    res = int(spec.resolution * scale) // 8 * 8
    mine = analyze(exported[name], "pixel8-edgetpu" if "pixel8-edgetpu" in builtin.hardware_files() else "cpu", resolution=res)
    ref = analyze(name, mine.profile, resolution=res)
    assert mine.resolution == res
    assert len(mine.layers) == len(ref.layers)
    for got, want in zip(mine.layers, ref.layers):
        assert tuple(getattr(got, k) for k in COMPARED) == tuple(getattr(want, k) for k in COMPARED), (got.name, want.name)
        assert got.elementwise_ops == want.elementwise_ops, (got.name, want.name)
    for key in ("macs", "params", "weight_bytes", "activation_bytes", "attention_macs", "bn_params", "elementwise_ops"):
        assert getattr(mine.totals, key) == getattr(ref.totals, key), key
    assert mine.totals.latency_s == pytest.approx(ref.totals.latency_s, rel=1e-12)
    assert not mine.unhandled_ops
    from mncost.graph.count import graph_walk
    from mncost.walker import walk

    graph_layers, spec_layers = graph_walk(exported[name], resolution=res)[0].layers, walk(spec, resolution=res).layers
    assert [(g.group, g.bn_params) for g in graph_layers] == [(s.group, s.bn_params) for s in spec_layers]
    names = [layer.name for layer in mine.layers]
    assert len(set(names)) == len(names) and all(n.startswith("/") for n in names)  # the graph's node names


@pytest.mark.parametrize("name", ["v3-small", "v4-conv-s"])
def test_bn_already_folded_by_the_exporter(tmp_path: Path, name: str) -> None:
    """A graph whose BN the exporter folded has a bias per conv instead: C_out more params, same MACs and traffic."""
    path = export(name, tmp_path, fold_bn=True, dynamic=False)
    mine = analyze(path, "cpu")
    ref = analyze(name, "cpu")
    assert len(mine.layers) == len(ref.layers)
    for got, want in zip(mine.layers, ref.layers):
        assert (got.macs, got.activation_bytes) == (want.macs, want.activation_bytes)
        assert got.params == want.params + want.bn_params // 2  # the folded shift is a conv bias now
        assert got.bn_params == 0


def test_fixed_size_model_refuses_another_resolution(tmp_path: Path) -> None:
    from mncost.errors import MncostError

    path = export("v1-cifar", tmp_path, dynamic=False)
    assert analyze(path, "cpu").resolution == 32
    with pytest.raises(MncostError, match=r"input 'image' has a fixed size 32×32; it cannot be analyzed at 64×64"):
        analyze(path, "cpu", resolution=64)


def test_alpha_is_refused(exported: dict[str, Path]) -> None:
    from mncost.errors import OptionError

    with pytest.raises(OptionError, match="--alpha does not apply to an ONNX graph"):
        analyze(exported["v2"], "cpu", alpha=0.5, resolution=224)


def test_dynamic_size_needs_a_resolution(exported: dict[str, Path]) -> None:
    from mncost.errors import MncostError

    with pytest.raises(MncostError, match=r"input 'image' \(batch×3×height×width\) has a dynamic height/width: give --resolution N"):
        analyze(exported["v2"], "cpu")


@pytest.mark.parametrize("name", BUILTINS)
def test_import_round_trip(exported: dict[str, Path], name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """``mncost import`` of an exported built-in writes a spec that counts exactly as the original, at two resolutions."""
    from mncost.cli import main
    from mncost.walker import walk

    spec = load_spec(name)
    out = tmp_path / f"{name}-imported.yaml"
    assert main(["import", str(exported[name]), "-r", str(spec.resolution), "-o", str(out)]) == 0, capsys.readouterr().err
    imported = load_spec(out)
    assert imported.resolution == spec.resolution
    for res in (spec.resolution, int(spec.resolution * 0.75) // 8 * 8):
        mine, ref = walk(imported, resolution=res).layers, walk(spec, resolution=res).layers
        keys = ("macs", "params", "bn_params", "act_read_elems", "act_write_elems", "elementwise_ops", "attention_macs", "group", "op")
        assert [tuple(getattr(l, k) for k in keys) for l in mine] == [tuple(getattr(l, k) for k in keys) for l in ref]
    text = out.read_text()
    assert "# /" in text and "width: fixed" in text  # node names in comments; widths fixed and said so


class _Residual(torch.nn.Module):
    """stem conv → x + conv(conv(x)) (a ResNet-like skip around two single convs, no block of its own) → pool → fc."""

    def __init__(self) -> None:
        super().__init__()
        nn = torch.nn
        self.stem = nn.Sequential(nn.Conv2d(3, 16, 3, 2, 1, bias=False), nn.BatchNorm2d(16), nn.ReLU())
        self.a = nn.Sequential(nn.Conv2d(16, 16, 3, 1, 1, bias=False), nn.BatchNorm2d(16), nn.ReLU())
        self.b = nn.Sequential(nn.Conv2d(16, 16, 3, 1, 1, bias=False), nn.BatchNorm2d(16))
        self.head = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(16, 10))

    def forward(self, x: object) -> object:
        x = self.stem(x)
        return self.head(x + self.b(self.a(x)))


def test_import_of_a_residual_add_outside_a_block(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The blocks since the add's skip become a residual group, which counts as the graph does (by hand below)."""
    from mncost.cli import main
    from mncost.walker import walk

    path = tmp_path / "residual.onnx"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(_Residual().eval(), (torch.zeros(1, 3, 32, 32),), str(path), dynamo=False, opset_version=17,
                          input_names=["image"], training=torch.onnx.TrainingMode.EVAL, do_constant_folding=False)
    out = tmp_path / "residual.yaml"
    assert main(["import", str(path), "-o", str(out)]) == 0, capsys.readouterr().err
    assert "{type: group, residual: true, blocks: [{type: conv, out: 16, k: 3, stride: 1, act: relu, width: fixed}, " \
           "{type: conv, out: 16, k: 3, stride: 1, width: fixed}]}" in out.read_text()
    layers = walk(load_spec(out)).layers
    # stem 16·16²·27, two 3×3 16→16 convs on 16×16 (16·16²·144 each), the fc 16·10
    assert [layer.macs for layer in layers] == [110592, 589824, 589824, 0, 0, 160]
    assert layers[3].op == "add" and layers[3].act_read_elems == 2 * 16 * 16 * 16 and layers[3].act_write_elems == 16 * 16 * 16


def test_import_of_an_mqa_that_does_not_fit_is_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """timm's MobileNetV4-Hybrid-M with a bias on one key projection: the mqa block's projections are bias-free,
    so the importer names the attention and the layer that does not fit, and writes nothing."""
    import onnx

    from mncost.cli import main

    model = onnx.load(Path(__file__).resolve().parent / "onnx_reference" / "timm_mobilenetv4_hybrid_medium.onnx")
    node = next(n for n in model.graph.node if n.name == "/blocks/blocks.2/blocks.2.4/attn/key/proj/Conv")
    model.graph.initializer.append(onnx.helper.make_tensor("key_bias", onnx.TensorProto.FLOAT, [64], [0.0] * 64))
    node.input.append("key_bias")
    path, out = tmp_path / "biased.onnx", tmp_path / "x.yaml"
    onnx.save(model, path)
    assert main(["import", str(path), "-o", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert err == (f"error: {path}: cannot import node '/blocks/blocks.2/blocks.2.4/attn/query/proj/Conv' (Conv): a Mobile MQA "
                   "(attention at '/blocks/blocks.2/blocks.2.4/attn/MatMul') whose layers do not fit the mqa block: expected the k "
                   "projection (a bias-free 1×1 conv from 160 channels, no BN) at '/blocks/blocks.2/blocks.2.4/attn/key/proj/Conv' (pwconv)")
    assert not out.exists()


BRANCHES = """name: branches
source: test (a Fire module, a strided and a split ShuffleNetV2 unit)
resolution: 64
stages:
  - name: s
    blocks:
      - {type: conv, out: 24, k: 3, stride: 2, act: relu, width: fixed}
      - {type: pwconv, out: 16, bias: true, bn: false, act: relu, width: fixed}
      - type: concat
        branches:
          - [{type: pwconv, out: 32, bias: true, bn: false, act: relu, width: fixed}]
          - [{type: conv, out: 32, k: 3, bias: true, bn: false, act: relu, width: fixed}]
      - type: concat
        branches:
          - [{type: dwconv, k: 3, stride: 2}, {type: pwconv, out: 32, act: relu, width: fixed}]
          - [{type: pwconv, out: 32, act: relu, width: fixed}, {type: dwconv, k: 3, stride: 2}, {type: pwconv, out: 32, act: relu, width: fixed}]
      - {type: shuffle, groups: 2}
      - type: concat
        split: true
        branches:
          - []
          - [{type: pwconv, out: 32, act: relu, width: fixed}, {type: dwconv, k: 3}, {type: pwconv, out: 32, act: relu, width: fixed}]
      - {type: shuffle, groups: 2}
      - {type: pool}
      - {type: fc, out: 10, width: fixed}
"""


@pytest.mark.parametrize("name", ["branches", "ghostnet"])
def test_concatenated_branches_count_as_the_spec_and_import_back(name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Concats and channel splits are views in the graph as in the spec, a channel shuffle moves the map once: the
    export of a spec with Fire and ShuffleNetV2 units (and GhostNet's concat + slice) counts as the spec layer by
    layer at two resolutions, and imports back to a spec that counts the same."""
    from mncost.cli import main
    from mncost.graph.count import graph_walk
    from mncost.walker import walk

    if name == "branches":
        (tmp_path / "branches.yaml").write_text(BRANCHES)
        name = str(tmp_path / "branches.yaml")
    path = export(name, tmp_path)
    spec = load_spec(name)
    keys = ("op", "macs", "params", "bn_params", "act_read_elems", "act_write_elems", "elementwise_ops")
    for res in (spec.resolution, spec.resolution * 3 // 4 // 8 * 8):
        graph, mapped = graph_walk(path, resolution=res, warn=False)
        mine = walk(spec, resolution=res).layers
        assert not mapped.unhandled and len(graph.layers) == len(mine)
        for got, want in zip(graph.layers, mine):
            assert [getattr(got, k) for k in keys] == [getattr(want, k) for k in keys], (got.name, want.name)
    out = tmp_path / "imported.yaml"
    assert main(["import", str(path), "--resolution", str(spec.resolution), "-o", str(out)]) == 0, capsys.readouterr().err
    back = walk(load_spec(out)).layers
    assert [[getattr(x, k) for k in keys] for x in back] == [[getattr(x, k) for k in keys] for x in walk(spec).layers]
