"""Every registered block type is complete: an example here, a torch builder, layers
whose op and group come from the closed sets, and fvcore's count of the builder equal
to the walker's, layer by layer. Adding a block type without all of these fails here."""

from __future__ import annotations

from pathlib import Path

import pytest

from mncost.blocks import BLOCK_TYPES
from mncost.ops import GROUPS, OPS
from mncost.spec import load_spec
from mncost.walker import walk

# One small instance of each type, after a 16-channel conv on a 32×32 input.
EXAMPLES = {
    "conv": "{type: conv, out: 24, k: 3, stride: 2, act: relu}",
    "dwconv": "{type: dwconv, k: 5, act: relu6}",
    "pwconv": "{type: pwconv, out: 32, act: hswish}",
    "pool": "{type: pool}",
    "fc": "{type: pool}\n  - {type: fc, out: 10}",
    "dsconv": "{type: dsconv, out: 32, se: true}",
    "ir": "{type: ir, out: 16, expand: 4, se: true, act: hswish}",
    "uib": "{type: uib, out: 16, start_dw: 3, mid_dw: 5, expand: 4}",
    "fused_ib": "{type: fused_ib, out: 24, expand: 4, stride: 2}",
    "mqa": "{type: mqa, out: 16, heads: 2, key_dim: 8, value_dim: 8, kv_stride: 2}",
    "ghost": "{type: ghost, out: 32, act: relu}",
    "group": "{type: group, n: 2, residual: true, act: relu, shortcut_first: true, blocks: [{type: dwconv, k: 3}, {type: pwconv, out: 16}], "
             "shortcut: [{type: pwconv, out: 16}]}",
    "layer_scale": "{type: layer_scale}",
    "lite_mla": "{type: group, residual: true, blocks: [{type: lite_mla, out: 16, head_dim: 8, scales: [5]}]}",
    "mhsa": "{type: group, residual: true, blocks: [{type: mhsa, head_dim: 8, norm: batchnorm}]}",
    "norm": "{type: norm}",
    "permute": "{type: permute}",
    "pool2d": "{type: pool2d, mode: max, k: 3, stride: 2, padding: 1}",
    "se": "{type: se, ratio: 0.25, act: relu, gate: sigmoid}",
    "concat": "{type: concat, branches: [[{type: pwconv, out: 8, act: relu}], [{type: conv, out: 8, k: 3, act: relu}, {type: dwconv, k: 3}], []]}",
    "shuffle": "{type: concat, split: true, branches: [[], [{type: pwconv, out: 8, act: relu}]]}\n  - {type: shuffle, groups: 2}",
}


def test_every_registered_block_type_has_an_example():
    assert set(EXAMPLES) == set(BLOCK_TYPES)


def _spec(tmp_path: Path, block: str) -> Path:
    path = tmp_path / "one.yaml"
    path.write_text(f"name: one\nsource: test\nresolution: 32\nstages:\n- name: s\n  blocks:\n  - {{type: conv, out: 16}}\n  - {block}\n")
    return path


@pytest.mark.parametrize("type_name", sorted(EXAMPLES))
def test_layers_carry_a_known_op_and_group(tmp_path, type_name):
    layers = walk(load_spec(_spec(tmp_path, EXAMPLES[type_name]))).layers
    assert all(x.op in OPS and x.group in GROUPS for x in layers)


@pytest.mark.parametrize("type_name", sorted(EXAMPLES))
def test_the_torch_builder_counts_what_the_walker_counts(tmp_path, type_name):
    pytest.importorskip("torch")
    pytest.importorskip("fvcore")
    from mncost.crosscheck import crosscheck

    result = crosscheck(load_spec(_spec(tmp_path, EXAMPLES[type_name])), use_reference=False)
    assert result.ok, [d.problems for d in result.mismatched_layers]


def test_walk_function_and_walker_module_do_not_clash():
    # mncost.walk is the function; the module that defines it is mncost.walker, so
    # both stay reachable after `import mncost`.
    import mncost
    import mncost.walker
    assert mncost.walk is mncost.walker.walk
    assert callable(mncost.walker.block_instances)


def test_group_act_and_shortcut_first(tmp_path):
    # 16×32×32 after the stem conv: the add reads 2·16384, writes 16384, and the ReLU fused
    # after it is one more op per element; shortcut_first only moves the shortcut's layers first.
    block = ("{type: group, residual: true, act: relu, shortcut_first: true, blocks: [{type: dwconv, k: 3}], "
             "shortcut: [{type: pwconv, out: 16}]}")
    layers = walk(load_spec(_spec(tmp_path, block))).layers
    assert [x.name.split(".", 2)[2] for x in layers[1:]] == ["shortcut.0", "0", "add"]
    add = layers[-1]
    assert (add.act_read_elems, add.act_write_elems, add.elementwise_ops, add.act) == (32768, 16384, 32768, "relu")
    plain = walk(load_spec(_spec(tmp_path, "{type: group, residual: true, blocks: [{type: dwconv, k: 3}]}"))).layers[-1]
    assert plain.elementwise_ops == 16384


def test_concat_runs_each_branch_on_the_input_and_adds_no_layer(tmp_path):
    # 16×32×32 after the stem: pw 16→8 (8·16·1024 MACs), 3×3 conv 16→8 (8·16·9·1024) then dw 3×3 (8·9·1024),
    # and the input itself: 8 + 8 + 16 = 32 channels, read whole by the pwconv after it (32·1024 elements)
    block = ("{type: concat, branches: [[{type: pwconv, out: 8, act: relu}], [{type: conv, out: 8, k: 3, act: relu}, {type: dwconv, k: 3}], []]}"
             "\n  - {type: pwconv, out: 16}")
    layers = walk(load_spec(_spec(tmp_path, block))).layers
    assert [x.name.split(".", 2)[2] for x in layers[1:4]] == ["0.0", "1.0", "1.1"]
    assert [x.macs for x in layers[1:4]] == [8 * 16 * 1024, 8 * 16 * 9 * 1024, 8 * 9 * 1024]
    assert [x.act_read_elems for x in layers[1:4]] == [16 * 1024, 16 * 1024, 8 * 1024]
    after = layers[4]
    assert after.in_shape == (32, 32, 32) and after.act_read_elems == 32 * 1024 and after.macs == 16 * 32 * 1024


def test_split_concat_reads_equal_channel_parts_and_shuffle_moves_the_map(tmp_path):
    # split: the pwconv reads the second half (8·1024 elements), 8→8 (8·8·1024 MACs); 8 + 8 = 16 channels out;
    # the shuffle reads and writes the 16·32·32 map once, no MACs, no ops
    block = "{type: concat, split: true, branches: [[], [{type: pwconv, out: 8, act: relu}]]}\n  - {type: shuffle, groups: 2}"
    layers = walk(load_spec(_spec(tmp_path, block))).layers
    pw, shuffle = layers[1], layers[2]
    assert (pw.in_shape, pw.out_shape, pw.macs, pw.act_read_elems) == ((8, 32, 32), (8, 32, 32), 8 * 8 * 1024, 8 * 1024)
    assert (shuffle.op, shuffle.in_shape, shuffle.out_shape) == ("move", (16, 32, 32), (16, 32, 32))
    assert (shuffle.macs, shuffle.elementwise_ops, shuffle.act_read_elems, shuffle.act_write_elems) == (0, 0, 16 * 1024, 16 * 1024)


def test_layer_scale_on_a_conv_folds_gamma_into_it(tmp_path):
    # pw 16→24 with a layer scale: the same layer, MACs and traffic as without it (a constant per-channel
    # scale folds into the weights), plus 24 γ in bn_params beside BN's 2·24; a separate layer_scale block
    # instead is its own element-wise layer reading and writing the 24·32·32 map
    folded = walk(load_spec(_spec(tmp_path, "{type: pwconv, out: 24, layer_scale: true}"))).layers
    plain = walk(load_spec(_spec(tmp_path, "{type: pwconv, out: 24}"))).layers
    apart = walk(load_spec(_spec(tmp_path, "{type: pwconv, out: 24}\n  - {type: layer_scale}"))).layers
    assert len(folded) == len(plain) == 2 and len(apart) == 3
    f, p = folded[1], plain[1]
    assert (f.macs, f.params, f.act_read_elems, f.act_write_elems) == (p.macs, p.params, 16 * 1024, 24 * 1024) == (24 * 16 * 1024, 24 * 16, 16 * 1024, 24 * 1024)
    assert (p.bn_params, f.bn_params) == (2 * 24, 3 * 24)
    assert (apart[2].act_read_elems, apart[2].act_write_elems, apart[2].bn_params) == (24 * 1024, 24 * 1024, 24)
