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
