"""Graph patterns that count as one spec layer: a zero Pad before a conv, a blur filter, the
token layout of a Linear over a map, and multi-head attention in timm's layout.

Each graph is written by hand (or by a small torch module written here in timm's layout) and
its counts are derived by hand or from the spec block it stands for.
"""

from __future__ import annotations

import struct
import warnings
from pathlib import Path

import pytest

onnx = pytest.importorskip("onnx")
from onnx import TensorProto, helper  # noqa: E402

from mncost.graph.count import graph_walk  # noqa: E402
from mncost.spec import load_spec  # noqa: E402
from mncost.walker import walk  # noqa: E402

BINOMIAL = [1 / 16, 2 / 16, 1 / 16, 2 / 16, 4 / 16, 2 / 16, 1 / 16, 2 / 16, 1 / 16]


def _floats(name: str, dims: list[int], values: list[float]) -> TensorProto:
    return helper.make_tensor(name, TensorProto.FLOAT, dims, struct.pack(f"<{len(values)}f", *values), raw=True)


def _padded_dw(filt: list[float], *, value: float | None = None, stride: int = 2) -> onnx.ModelProto:
    """x 1×8×16×16 → Pad 1 on H and W (zeros, or ``value``) → 3×3 depthwise conv (weights ``filt`` per channel, stride)."""
    inputs = ["x", "pads"] + (["value"] if value is not None else [])
    nodes = [helper.make_node("Pad", inputs, ["p"], name="pad", mode="constant"),
             helper.make_node("Conv", ["p", "w"], ["y"], name="dw", group=8, kernel_shape=[3, 3], strides=[stride, stride])]
    inits = [helper.make_tensor("pads", TensorProto.INT64, [8], [0, 0, 1, 1, 0, 0, 1, 1]), _floats("w", [8, 1, 3, 3], filt * 8)]
    if value is not None:
        inits.append(_floats("value", [], [value]))
    graph = helper.make_graph(nodes, "pad", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 8, 16, 16])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)], inits)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)])


def _rows(path: Path) -> list[tuple[object, ...]]:
    w, mapped = graph_walk(path, warn=False)
    assert not mapped.unhandled
    return [(x.op, x.macs, x.params, x.act_read_elems, x.act_write_elems) for x in w.layers]


def test_a_zero_pad_is_the_padding_of_the_conv_that_reads_it(tmp_path: Path) -> None:
    # a learned 3×3 dw conv, stride 2, on the padded 18×18 map: 8·8·8·9 MACs, 72 params, reads the unpadded 8·256
    path = tmp_path / "pad.onnx"
    onnx.save(_padded_dw([0.1 * k for k in range(9)]), str(path))
    assert _rows(path) == [("dwconv", 8 * 64 * 9, 72, 8 * 256, 8 * 64)]


def test_a_pad_of_ones_moves_bytes(tmp_path: Path) -> None:
    # not a conv's zero padding: the Pad writes the 8×18×18 map, the conv reads it
    path = tmp_path / "ones.onnx"
    onnx.save(_padded_dw([0.1 * k for k in range(9)], value=1.0), str(path))
    assert _rows(path) == [("move", 0, 0, 8 * 256, 8 * 324), ("dwconv", 8 * 64 * 9, 72, 8 * 324, 8 * 64)]


def test_a_binomial_filter_is_a_blur_pool_without_parameters(tmp_path: Path) -> None:
    path = tmp_path / "blur.onnx"
    onnx.save(_padded_dw(BINOMIAL), str(path))
    assert _rows(path) == [("blur", 8 * 64 * 9, 0, 8 * 256, 8 * 64)]
    spec = tmp_path / "blur.yaml"
    spec.write_text("name: blur\nsource: test\nresolution: 16\nin_channels: 8\nstages:\n- name: s\n  blocks:\n"
                    "  - {type: pool2d, mode: blur, k: 3, stride: 2}\n")
    layer = walk(load_spec(spec)).layers[0]
    assert (layer.op, layer.macs, layer.params, layer.act_read_elems, layer.act_write_elems, layer.group) == ("blur", 8 * 64 * 9, 0, 8 * 256, 8 * 64, "depthwise")


def test_a_filter_that_differs_per_channel_is_learned(tmp_path: Path) -> None:
    model = _padded_dw(BINOMIAL)
    w = next(t for t in model.graph.initializer if t.name == "w")
    w.CopyFrom(_floats("w", [8, 1, 3, 3], BINOMIAL * 7 + [0.5] * 9))
    path = tmp_path / "learned.onnx"
    onnx.save(model, str(path))
    assert _rows(path) == [("dwconv", 8 * 64 * 9, 72, 8 * 256, 8 * 64)]


torch = pytest.importorskip("torch")


class _TimmLayoutAttention(torch.nn.Module):
    """Multi-head self-attention over a map laid out as timm's FastViT ``Attention`` lays it out:
    flatten → tokens → one Linear QKV → (3, heads) permute → unbind → SDPA → tokens → Linear → map."""

    def __init__(self, dim: int, head_dim: int) -> None:
        super().__init__()
        self.heads, self.head_dim = dim // head_dim, head_dim
        self.qkv = torch.nn.Linear(dim, 3 * dim, bias=False)
        self.proj = torch.nn.Linear(dim, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, c, h, w = x.shape
        t = x.flatten(2).transpose(-2, -1)
        qkv = self.qkv(t).reshape(b, h * w, 3, self.heads, self.head_dim).permute(2, 0, 3, 1, 4)
        q, k, v = qkv.unbind(0)
        o = torch.nn.functional.scaled_dot_product_attention(q, k, v)
        o = self.proj(o.transpose(1, 2).reshape(b, h * w, c))
        return o.transpose(-2, -1).reshape(b, c, h, w)


class _Net(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.stem = torch.nn.Sequential(torch.nn.Conv2d(3, 32, 3, 2, 1, bias=False), torch.nn.BatchNorm2d(32))
        self.norm = torch.nn.BatchNorm2d(32)
        self.attn = _TimmLayoutAttention(32, 8)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.stem(x)
        return x + self.attn(self.norm(x))


def test_multi_head_attention_in_timm_layout_counts_as_the_mhsa_block(tmp_path: Path) -> None:
    """The permute and unbind of the fused QKV and the token transposes are the core's and the linears' layout:
    the graph counts as stem → mhsa (BN pre-norm folded into QKV) → add, layer by layer."""
    net = _Net().eval()
    path = tmp_path / "attn.onnx"
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        torch.onnx.export(net, (torch.zeros(1, 3, 32, 32),), str(path), dynamo=False, opset_version=17,
                          training=torch.onnx.TrainingMode.EVAL, do_constant_folding=False)
    spec = tmp_path / "attn.yaml"
    spec.write_text("name: attn\nsource: test\nresolution: 32\nstages:\n- name: s\n  blocks:\n  - {type: conv, out: 32, stride: 2}\n"
                    "  - {type: group, residual: true, blocks: [{type: mhsa, head_dim: 8, norm: batchnorm}]}\n")
    keys = ("op", "macs", "params", "bn_params", "act_read_elems", "act_write_elems", "elementwise_ops", "attention_macs", "group")
    graph, mapped = graph_walk(path, warn=False)
    assert not mapped.unhandled
    got = [tuple(getattr(x, k) for k in keys) for x in graph.layers]
    assert got == [tuple(getattr(x, k) for k in keys) for x in walk(load_spec(spec)).layers]
    core = graph.layers[2]
    assert core.attention_macs == 2 * 4 * 256 * 256 * 8  # 4 heads, 16×16 = 256 tokens, head_dim 8: Q·Kᵀ and A·V
