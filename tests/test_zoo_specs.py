"""The zoo's built-in specs: pinned grids, the names other data keys on, and spot checks by hand.

Every entry of mncost/reference/zoo_counts.json (fvcore counts of the torchvision/timm model,
re-parameterized where the spec says so) is compared with the walker in test_specs.py; this
file checks that the grids are what the specs promise.
"""

from __future__ import annotations

import json
from collections import defaultdict

import pytest

import mncost
from mncost import builtin, reference

ZOO = json.loads((reference.FOLDER / "zoo_counts.json").read_text(encoding="utf-8"))["entries"]

NAMES = (
    [f"efficientnet-b{i}" for i in range(4)] + [f"efficientnet-lite{i}" for i in range(5)]
    + ["mnasnet", "fbnet-c", "spnasnet-100", "lcnet", "ghostnet", "convnext-atto", "convnext-small", "mobilenet-edgetpu"]
    + [f"tinynet-{v}" for v in "abcde"] + [f"mobileone-s{i}" for i in range(5)]
    + ["fastvit-t8", "fastvit-s12", "fastvit-sa12", "fastvit-sa24", "fastvit-sa36"]
    + ["efficientvit-b1", "efficientvit-b2", "efficientvit-b3", "v4-conv-aa-m", "v4-conv-aa-l", "v4-conv-blur-m", "v2-110d", "v2-120d"]
)

PUBLISHED_WIDTHS = {"mnasnet": {0.5, 0.75, 1.0, 1.3}, "lcnet": {0.35, 0.5, 0.75, 1.0, 1.5}, "ghostnet": {0.5, 1.0, 1.3}}


def test_at_least_30_architectures_and_the_agreed_names():
    specs = builtin.spec_files()
    assert len(specs) >= 30
    assert set(NAMES) <= set(specs)


@pytest.mark.parametrize("name", NAMES)
def test_every_zoo_spec_is_pinned_at_two_resolutions_and_its_published_widths(name):
    mine = [e for e in ZOO if e["spec"] == name]
    assert len({e["resolution"] for e in mine if e["alpha"] == 1.0}) >= 2
    assert {e["alpha"] for e in mine} >= PUBLISHED_WIDTHS.get(name, {1.0})
    spec = mncost.load_spec(name)
    assert spec.family and spec.source and spec.reference and spec.expected is not None
    assert any(e["alpha"] == 1.0 and e["resolution"] == spec.resolution for e in mine)  # `expected` is a pinned point


def test_attention_macs_agree_with_flop_counter_mode():
    """FastViT-SA: fvcore's scaled_dot_product_attention handle and FlopCounterMode's aten.bmm
    FLOPs / 2 (fused attention off), both measured on the timm model, agree."""
    checked = [e for e in ZOO if "attention_macs_flop_counter" in e]
    assert {e["spec"] for e in checked} >= {"fastvit-sa12", "fastvit-sa24", "fastvit-sa36"}
    for e in checked:
        assert e["attention_macs"] == e["attention_macs_flop_counter"] > 0


def test_families_group_the_listing():
    families = defaultdict(list)
    for name in builtin.spec_files():
        families[mncost.load_spec(name).family].append(name)
    assert "" not in families
    assert families["MobileOne"] == [f"mobileone-s{i}" for i in range(5)]
    assert set(families["MobileNetV4"]) >= {"v4-conv-aa-m", "v4-conv-blur-m"}


def test_efficientnet_b0_first_block_squeezes_its_input_by_four():
    """torchvision: squeeze_channels = max(1, input_channels // 4); block 1 has t = 1 and 32 inputs."""
    layers = {x.name: x for x in mncost.walk(mncost.load_spec("efficientnet-b0")).layers}
    assert layers["stage1.0.se.reduce"].out_shape == (8, 1, 1)
    assert layers["stage2.0.se.reduce"].out_shape == (4, 1, 1)      # 16 // 4, on the 96-wide expansion
    assert layers["stage2.0.se.reduce"].in_shape == (96, 1, 1)
    assert "stage1.0.expand" not in layers                          # t = 1: no expansion conv


def test_efficientnet_b1_depth_is_ceil_of_1_1_per_stage():
    walk = mncost.walk(mncost.load_spec("efficientnet-b1"))
    blocks = {x.name.rsplit(".", 1)[0] for x in walk.layers if x.name.endswith(".project")}
    per_stage = defaultdict(int)
    for label in blocks:
        per_stage[label.split(".")[0]] += 1
    # B0 repeats 1, 2, 2, 3, 3, 4, 1 → ceil(1.1 n) = 2, 3, 3, 4, 4, 5, 2
    assert [per_stage[f"stage{i}"] for i in range(1, 8)] == [2, 3, 3, 4, 4, 5, 2]


def test_mobileone_is_counted_as_deployed():
    """Re-parameterized: every conv has a bias and no BatchNorm, so no folded parameters."""
    walk = mncost.walk(mncost.load_spec("mobileone-s0"))
    convs = [x for x in walk.layers if x.op in ("conv", "dwconv", "pwconv")]
    assert all(x.bn_params == 0 for x in walk.layers)
    assert all(x.params == ops_weights(x) + x.out_shape[0] for x in convs)


def ops_weights(layer: mncost.LayerCost) -> int:
    c_in, k = layer.in_shape[0], 1 if layer.op == "pwconv" else 3
    groups = c_in if layer.op == "dwconv" else 1
    return layer.out_shape[0] * (c_in // groups) * k * k


def test_ghostnet_bottleneck_by_hand():
    """Stage 2's strided bottleneck at 112x112 (16 → mid 48 → 24): two Ghost modules, a strided
    dw 3x3, and a dw 3x3 + 1x1 shortcut, summed by hand."""
    layers = {x.name: x for x in mncost.walk(mncost.load_spec("ghostnet")).layers if x.name.startswith("stage2.0.")}
    macs = (16 * 24 * 112 * 112 + 24 * 9 * 112 * 112          # ghost1: primary 1x1 16→24, cheap dw 3x3 24→24
            + 48 * 9 * 56 * 56                                # dw 3x3 stride 2 on 48
            + 48 * 12 * 56 * 56 + 12 * 9 * 56 * 56            # ghost2: primary 48→12, cheap 12→12
            + 16 * 9 * 56 * 56 + 16 * 24 * 56 * 56)           # shortcut: dw 3x3 s2 on 16, 1x1 16→24
    assert sum(x.macs for x in layers.values()) == macs
    assert layers["stage2.0.add"].out_shape == (24, 56, 56)
