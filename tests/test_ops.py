"""Closed-form checks of the per-layer formulas (MobileNetV1 paper, Sec. 3.1)."""

from __future__ import annotations

from fractions import Fraction

import pytest

from mncost import ops
from mncost.width import make_divisible


@pytest.mark.parametrize(
    "in_shape, out_ch, k, stride, groups, bias, macs, params, out_shape",
    [
        # standard conv: C_out * H_out * W_out * C_in * k^2
        ((3, 224, 224), 32, 3, 2, 1, False, 32 * 112 * 112 * 3 * 9, 32 * 3 * 9, (32, 112, 112)),
        ((3, 224, 224), 32, 3, 2, 1, True, 32 * 112 * 112 * 3 * 9, 32 * 3 * 9 + 32, (32, 112, 112)),
        # depthwise: groups = C, one k x k filter per channel
        ((32, 112, 112), 32, 3, 1, 32, False, 32 * 112 * 112 * 9, 32 * 9, (32, 112, 112)),
        ((144, 56, 56), 144, 5, 2, 144, False, 144 * 28 * 28 * 25, 144 * 25, (144, 28, 28)),
        # pointwise
        ((32, 112, 112), 64, 1, 1, 1, False, 64 * 112 * 112 * 32, 64 * 32, (64, 112, 112)),
        # grouped conv: C_in / groups inputs per output
        ((64, 14, 14), 128, 3, 1, 4, False, 128 * 14 * 14 * 16 * 9, 128 * 16 * 9, (128, 14, 14)),
        # odd sizes: floor((H + 2p - k) / s) + 1 with p = (k - 1) // 2
        ((8, 7, 7), 8, 3, 2, 1, False, 8 * 4 * 4 * 8 * 9, 8 * 8 * 9, (8, 4, 4)),
        ((8, 1, 1), 8, 3, 2, 1, False, 8 * 1 * 1 * 8 * 9, 8 * 8 * 9, (8, 1, 1)),
    ],
)
def test_conv2d_closed_form(in_shape, out_ch, k, stride, groups, bias, macs, params, out_shape):
    layer = ops.conv2d("x", "t", in_shape, out_ch, k, stride=stride, groups=groups, bias=bias)
    assert (layer.macs, layer.params, layer.out_shape) == (macs, params, out_shape)
    assert layer.bn_params == 2 * out_ch
    assert layer.act_read_elems == in_shape[0] * in_shape[1] * in_shape[2]
    assert layer.act_write_elems == out_shape[0] * out_shape[1] * out_shape[2]


@pytest.mark.parametrize("n_out, dk, m_in, df", [(64, 3, 32, 112), (128, 3, 64, 56), (1024, 3, 1024, 7), (40, 5, 24, 28), (16, 7, 8, 10)])
def test_depthwise_separable_reduction(n_out, dk, m_in, df):
    """(dw + pw) / standard = 1/N + 1/Dk^2 exactly (MobileNetV1, Eq. 5)."""
    x = (m_in, df, df)
    standard = ops.conv2d("std", "t", x, n_out, dk)
    dw = ops.conv2d("dw", "t", x, m_in, dk, groups=m_in)
    pw = ops.conv2d("pw", "t", dw.out_shape, n_out, 1)
    assert Fraction(dw.macs + pw.macs, standard.macs) == Fraction(1, n_out) + Fraction(1, dk * dk)


def test_groups_must_divide_channels():
    with pytest.raises(ValueError, match="groups=3"):
        ops.conv2d("x", "t", (8, 4, 4), 8, 3, groups=3)


def test_valid_padding_that_shrinks_to_nothing_is_refused():
    with pytest.raises(ValueError, match="shrinks to nothing"):
        ops.conv2d("x", "t", (8, 2, 2), 8, 3, padding=0)


@pytest.mark.parametrize(
    "fin, fout, bias, macs, params",
    [(1280, 1000, True, 1_280_000, 1_281_000), (960, 1280, True, 1_228_800, 1_230_080), (16, 8, False, 128, 128)],
)
def test_linear(fin, fout, bias, macs, params):
    layer = ops.linear("fc", "t", fin, fout, bias=bias)
    assert (layer.macs, layer.params) == (macs, params)


def test_elementwise_layers_have_no_macs_and_count_their_traffic():
    add = ops.residual_add("a", "t", (24, 56, 56))
    n = 24 * 56 * 56
    assert (add.macs, add.act_read_elems, add.act_write_elems, add.elementwise_ops) == (0, 2 * n, n, n)
    scale = ops.channel_scale("s", "t", (24, 56, 56))
    assert (scale.macs, scale.act_read_elems, scale.act_write_elems) == (0, n + 24, n)
    pool = ops.global_pool("p", "t", (24, 56, 56))
    assert (pool.macs, pool.out_shape, pool.act_read_elems, pool.act_write_elems) == (0, (24, 1, 1), n, 24)


@pytest.mark.parametrize(
    "value, expected",
    [
        (32 * 0.35, 16),   # below the 8 floor after rounding: 11.2 -> 8, < 0.9*11.2 -> 16
        (16 * 0.5, 8),
        (24 * 0.75, 24),   # 18 -> 16 < 16.2 -> 24
        (200 * 2.3, 456),  # the float product 459.99999999999994 rounds down, as in timm
        (460, 464),        # exactly 460 rounds up
        (1280 * 1.4, 1792),
        (4, 8),
        (35.5, 32),
        (35.6, 40),        # 32 < 0.9 * 35.6: bumped by one divisor
    ],
)
def test_make_divisible(value, expected):
    assert make_divisible(value) == expected


def test_groups_are_set_by_the_block_not_guessed_from_names(tmp_path):
    """A stage named ``se`` keeps its expand/project/add layers dense/elementwise; SE layers are ``se``."""
    from mncost.ops import GROUPS, OPS
    from mncost.spec import load_spec
    from mncost.walker import walk

    spec = tmp_path / "se_stage.yaml"
    spec.write_text(
        "name: se-stage\nsource: test\nresolution: 32\n"
        "stages:\n- name: se\n  blocks:\n  - {type: conv, out: 16}\n  - {type: ir, out: 16, expand: 4, se: true}\n  - {type: pool}\n"
    )
    layers = {x.name: x for x in walk(load_spec(spec)).layers}
    assert {n: x.group for n, x in layers.items()} == {
        "se.0": "dense", "se.1.expand": "dense", "se.1.dw": "depthwise",
        "se.1.se.pool": "se", "se.1.se.reduce": "se", "se.1.se.expand": "se", "se.1.se.scale": "se",
        "se.1.project": "dense", "se.1.add": "elementwise", "se.2": "elementwise",
    }
    assert all(x.group in GROUPS and x.op in OPS for x in layers.values())


def test_text_from_files_is_made_inert():
    from mncost import text

    assert text.plain("a\x1b[31mb\x07") == "a\\x1b[31mb\\x07"
    assert text.markup("[bold red]x[/x]") == "\\[bold red]x\\[/x]"
    assert text.md("a|b<i>\n") == "a\\|b&lt;i&gt; "
    assert text.html("<b>\x1b") == "&lt;b&gt;\\x1b"
