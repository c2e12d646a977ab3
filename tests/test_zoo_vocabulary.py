"""Closed-form checks of the spec vocabulary added for the zoo: per-block SE, ``bias`` and
``keep_expand`` on composite blocks, local pooling, anti-aliased downsampling, activation
aliases, depth multipliers, width multipliers and non-folding norms."""

from __future__ import annotations

import pytest

from mncost import ops
from mncost.depth import scale_repeats
from mncost.errors import SpecError
from mncost.spec import load_spec
from mncost.walker import walk


def layers_of(tmp_path, blocks: str, resolution: int = 32, top: str = "") -> dict[str, ops.LayerCost]:
    spec = tmp_path / "s.yaml"
    spec.write_text(f"name: t\nsource: test\nresolution: {resolution}\n{top}stages:\n- name: s\n  blocks:\n{blocks}")
    return {x.name: x for x in walk(load_spec(spec)).layers}


@pytest.mark.parametrize(
    "se, in_ch, hidden, squeeze",
    [
        ("{base: input}", 32, 32, 8),                           # EfficientNet-B0 block 1: 32 // 4
        ("{base: input}", 24, 144, 6),                          # t = 6: squeeze from the input, not 144
        ("{base: expanded}", 24, 144, 36),
        ("{base: input, round: floor}", 30, 120, 7),            # torchvision: 30 // 4
        ("{base: input, round: round}", 30, 120, 8),            # timm: round(7.5) = 8 (banker's)
        ("{base: expanded, round: divisible, divisor: 4}", 24, 72, 20),   # GhostNet: make_divisible(18, 4)
    ],
)
def test_per_block_se_width(tmp_path, se, in_ch, hidden, squeeze):
    got = layers_of(tmp_path, f"  - {{type: conv, out: {in_ch}, width: fixed}}\n  - {{type: ir, out: 16, expand: {hidden / in_ch}, se: {se}}}\n")
    reduce = got["s.1.se.reduce"]
    assert reduce.out_shape == (squeeze, 1, 1)
    assert reduce.params == hidden * squeeze + squeeze
    assert got["s.1.se.expand"].params == squeeze * hidden + hidden


def test_per_block_se_activation_defaults_to_the_block_and_can_be_forced():
    from mncost.blocks.base import BlockContext, SESettings
    from mncost.blocks.se import BlockSE, se_size
    from mncost.width import WidthRule

    ctx = BlockContext(alpha=1.0, rule_name="r", rule=WidthRule(source=""), divisor=8, round_limit=0.9, se=SESettings())
    assert se_size(BlockSE(), ctx, in_channels=16, channels=64, block_act="swish").act == "swish"    # timm: the block's act
    forced = se_size(BlockSE(act="relu", gate="hardsigmoid"), ctx, in_channels=16, channels=64, block_act="hswish")
    assert (forced.act, forced.gate) == ("relu", "hardsigmoid")                                       # force_act_layer
    assert se_size(False, ctx, in_channels=16, channels=64, block_act="relu") is None


def test_spec_wide_se_with_a_base_sizes_every_se_true_block(tmp_path):
    top = "se: {ratio: 0.25, base: input, round: floor, act: silu, gate: sigmoid}\n"
    got = layers_of(tmp_path, "  - {type: conv, out: 32}\n  - {type: ir, out: 16, expand: 6, se: true}\n", top=top)
    assert got["s.1.se.reduce"].out_shape == (8, 1, 1)  # 32 // 4, not 192 // 4


def test_bias_and_keep_expand_on_an_inverted_residual(tmp_path):
    c, size = 16, 32
    plain = layers_of(tmp_path, f"  - {{type: conv, out: {c}}}\n  - {{type: ir, out: {c}, expand: 1}}\n")
    kept = layers_of(tmp_path, f"  - {{type: conv, out: {c}}}\n  - {{type: ir, out: {c}, expand: 1, keep_expand: true, bias: true}}\n")
    assert "s.1.expand" not in plain
    assert kept["s.1.expand"].macs == c * c * size * size                  # the 1×1 C→C conv FBNet keeps
    assert kept["s.1.expand"].params == c * c + c
    assert kept["s.1.dw"].params == c * 9 + c
    assert kept["s.1.project"].params == c * c + c


@pytest.mark.parametrize("block", ["uib, start_dw: 3, mid_dw: 3, expand: 2", "fused_ib, expand: 2", "dsconv"])
def test_bias_on_composite_blocks_adds_one_per_output_channel(tmp_path, block):
    base = layers_of(tmp_path, f"  - {{type: {block}, out: 8}}\n")
    biased = layers_of(tmp_path, f"  - {{type: {block}, out: 8, bias: true}}\n")
    for name, layer in base.items():
        if layer.op in ("conv", "pwconv", "dwconv"):
            assert biased[name].params == layer.params + layer.out_shape[0]
            assert biased[name].macs == layer.macs


@pytest.mark.parametrize(
    "size, k, stride, padding, ceil, expected",
    [(112, 3, 2, 1, False, 56), (7, 2, 2, 0, False, 3), (7, 2, 2, 0, True, 4), (8, 3, 2, 1, True, 5), (9, 3, 2, 1, True, 5), (14, 3, 1, 1, False, 14)]  # measured with torch.nn.MaxPool2d,
)
def test_local_pool_sizes_follow_pytorch(size, k, stride, padding, ceil, expected):
    layer = ops.local_pool("p", "pool", (4, size, size), mode="max", k=k, stride=stride, padding=padding, ceil_mode=ceil)
    assert layer.out_shape == (4, expected, expected)
    assert (layer.macs, layer.params) == (0, 0)
    assert layer.elementwise_ops == 4 * expected * expected * k * k
    assert (layer.act_read_elems, layer.act_write_elems) == (4 * size * size, 4 * expected * expected)


def test_pool2d_block(tmp_path):
    got = layers_of(tmp_path, "  - {type: conv, out: 8}\n  - {type: pool2d, mode: max, k: 3, stride: 2, padding: 1}\n  - {type: pool2d, k: 2}\n")
    assert got["s.1"].out_shape == (8, 16, 16) and got["s.2"].out_shape == (8, 8, 8)


def test_blur_pool_is_a_parameter_free_depthwise_conv():
    layer = ops.blur_pool("b", "blur", (24, 56, 56), k=3, stride=2)
    assert layer.out_shape == (24, 28, 28)
    assert layer.macs == 24 * 28 * 28 * 9 and layer.params == 0 and layer.op == "blur"


@pytest.mark.parametrize("aa, extra_macs", [("avg", 0), ("blur", 32 * 16 * 16 * 9)])
def test_anti_aliased_stride_runs_the_conv_at_full_resolution(tmp_path, aa, extra_macs):
    got = layers_of(tmp_path, f"  - {{type: conv, out: 8}}\n  - {{type: uib, out: 16, start_dw: 0, mid_dw: 3, expand: 4, stride: 2, aa: {aa}}}\n")
    dw = got["s.1.dw_mid"]
    assert dw.out_shape == (32, 32, 32) and dw.macs == 32 * 9 * 32 * 32       # stride 1
    pool = got["s.1.dw_mid_aa"]
    assert pool.out_shape == (32, 16, 16) and pool.macs == extra_macs
    assert got["s.1.project"].in_shape == (32, 16, 16)


def test_activation_aliases_count_like_their_canonical_names(tmp_path):
    a = layers_of(tmp_path, "  - {type: ir, out: 8, expand: 4, act: silu}\n")
    b = layers_of(tmp_path, "  - {type: ir, out: 8, expand: 4, act: swish}\n")
    assert a == b
    assert ops.canonical_activation("hardswish") == "hswish" and ops.canonical_activation("hardsigmoid") == "hsigmoid"


def test_unknown_activation_suggests_the_closest_name(tmp_path):
    with pytest.raises(SpecError, match=r"got string 'silo' \(did you mean 'silu'\?\)"):
        layers_of(tmp_path, "  - {type: conv, out: 8, act: silo}\n")


@pytest.mark.parametrize(
    "repeats, multiplier, trunc, expected",
    [
        ([1], 1.1, "ceil", [2]),            # torchvision EfficientNet-B1 stage 1: ceil(1.1)
        ([4], 1.4, "ceil", [6]),            # ceil(5.6)
        ([1, 3], 1.2, "ceil", [1, 4]),      # total ceil(4.8) = 5, shared from the last row
        ([2, 2], 1.8, "ceil", [4, 4]),      # ceil(7.2) = 8
        ([3], 0.85, "round", [3]),          # TinyNet-C: round(2.55)
        ([4], 0.6, "round", [2]),           # round(2.4)
        ([1], 0.6, "round", [1]),           # at least one
    ],
)
def test_depth_multiplier(repeats, multiplier, trunc, expected):
    assert scale_repeats(repeats, multiplier, trunc) == expected


def test_depth_multiplier_scales_stages_but_not_fixed_ones(tmp_path):
    spec = tmp_path / "d.yaml"
    spec.write_text(
        "name: d\nsource: test\nresolution: 32\ndepth_multiplier: 1.5\n"
        "stages:\n- name: stem\n  depth: fixed\n  blocks:\n  - {type: conv, out: 8, stride: 2}\n"
        "- name: body\n  blocks:\n  - {type: ir, out: 16, expand: 2, stride: 2, n: 2}\n"
    )
    names = [x.name for x in walk(load_spec(spec)).layers]
    assert names.count("stem.0") == 1
    assert sorted({n.split(".")[1] for n in names if n.startswith("body.")}) == ["0", "1", "2"]   # ceil(3.0) = 3
    assert [x.out_shape for x in walk(load_spec(spec)).layers if x.name.endswith("project")] == [(16, 8, 8)] * 3


def test_width_multiplier_is_the_models_own_alpha(tmp_path):
    a = layers_of(tmp_path, "  - {type: conv, out: 40}\n", top="width_multiplier: 1.2\n")
    assert a["s.0"].out_shape[0] == 48  # make_divisible(40 · 1.2)


def test_norm_layer_is_its_own_group_and_reports_its_affine_params(tmp_path):
    # group "norm": a LayerNorm / GroupNorm does not fold into a conv, so refinements can price it apart
    got = layers_of(tmp_path, "  - {type: conv, out: 8}\n  - {type: norm}\n  - {type: norm, mode: groupnorm, groups: 2, affine: false}\n")
    ln = got["s.1"]
    assert (ln.macs, ln.params, ln.bn_params, ln.op, ln.group) == (0, 0, 16, "norm", "norm")
    assert ln.elementwise_ops == ops.NORM_OPS_PER_ELEMENT * 8 * 32 * 32
    assert got["s.2"].bn_params == 0
