"""mncost.nas scores candidates with the numbers analyze gives them."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

import mncost
from mncost import builtin
from mncost.blocks.v4 import UIB
from mncost.errors import OptionError, SpecError
from mncost.hardware import Refinements, load_hardware
from mncost.nas import SearchSpace, evaluate


def profiles() -> list[mncost.HardwareProfile]:
    dsp = load_hardware("dsp")
    return [load_hardware("cpu"), load_hardware("edgetpu"), dataclasses.replace(dsp, name="dsp-refined", refinements=Refinements(
        overhead_s_per_layer=2e-6, invoke_s=1e-4, onchip_bytes=50_000, slowdown={"depthwise": 2.0, "attention": 1.5},
        act_s_per_elem={"hard": 3e-9, "smooth": 6e-9}))]


def assert_matches_analyze(row, spec, hw, **kw):
    t = mncost.analyze(spec, hw, **kw).totals
    assert (int(row.macs), int(row.params), int(row.weight_bytes), int(row.activation_bytes), int(row.layers)) == (
        t.macs, t.params, t.weight_bytes, t.activation_bytes, t.layers)
    assert row.latency_s == pytest.approx(t.latency_s, rel=1e-12)
    assert row.memory_bound_share == pytest.approx(t.memory_bound_share, rel=1e-12, abs=1e-15)
    if t.refined_latency_s is None:
        assert np.isnan(row.refined_latency_s)
    else:
        assert row.refined_latency_s == pytest.approx(t.refined_latency_s, rel=1e-12)


@pytest.mark.parametrize("kw", [{}, {"alpha": 0.75, "resolution": 160}, {"alpha": 1.3, "batch": 4, "include_bn_params": True}, {"fused_attention": True}])
def test_evaluate_equals_analyze_on_every_builtin(kw):
    specs = [mncost.load_spec(n) for n in builtin.spec_files()]
    hws = profiles()
    valid = []
    for spec in specs:
        try:
            mncost.analyze(spec, hws[0], **kw)
            valid.append(spec)
        except SpecError:  # a configuration the spec cannot take: evaluate refuses it too
            with pytest.raises(SpecError):
                evaluate([spec], hws, **kw)
    df = evaluate(valid, hws, **kw)
    assert len(df) == len(valid) * len(hws)
    for spec in valid:
        for hw in hws:
            row = df[(df.model == spec.name) & (df.hardware == hw.name)].iloc[0]
            assert_matches_analyze(row, spec, hw, **kw)


def uib_space() -> SearchSpace:
    base = mncost.load_spec("v4-conv-s")
    choices = {}
    for stage in base.stages:
        for i, block in enumerate(stage.blocks):
            if isinstance(block, UIB):
                choices[f"{stage.name}.{i}"] = [dataclasses.replace(block, start_dw=s, mid_dw=m, expand=e, kind=None)
                                                for s, m in ((0, 3), (5, 0), (3, 5)) for e in (2.0, 6.0)]
    return SearchSpace(base, choices)


def test_search_space_candidates_equal_analyze_of_their_specs():
    space = uib_space()
    rows = space.sample(40, seed=3)
    hws = profiles()
    df = space.evaluate(rows, hws, alpha=0.75)
    for row in rows[:12]:
        spec = space.spec(row)
        for hw in hws:
            got = df[(df.candidate == "-".join(map(str, row))) & (df.hardware == hw.name)].iloc[0]
            assert_matches_analyze(got, spec, hw, alpha=0.75)
    base = df[df.candidate == "-".join(["0"] * len(space.positions))]
    if len(base):  # choice 0 everywhere is the base network itself
        assert int(base.macs.iloc[0]) == mncost.analyze("v4-conv-s", "cpu", alpha=0.75).totals.macs


def test_search_space_errors():
    base = mncost.load_spec("v4-conv-s")
    with pytest.raises(OptionError, match="no block at stage9.0"):
        SearchSpace(base, {"stage9.0": []})
    space = uib_space()
    with pytest.raises(OptionError, match="choice indices"):
        space.evaluate(np.full((1, len(space.positions)), 99), profiles())
    block = base.stages[3].blocks[0]  # stride 2: an FFN cannot carry it
    bad = SearchSpace(base, {"stage3.0": [dataclasses.replace(block, start_dw=0, mid_dw=0, kind=None)]})
    with pytest.raises(SpecError, match="FFN"):
        bad.evaluate(np.array([[1]]), profiles())


def test_a_candidate_is_not_the_published_network():
    # The base's expected counts would warn on every analyze of a candidate, and its file
    # would make the candidate the built-in, with the built-in's published top-1.
    from mncost.accuracy import top1_for

    space = uib_space()
    base = space.base
    assert base.expected is not None and top1_for(base, 1.0, 224, base.default_width_rule) is not None
    spec = space.spec(space.sample(1, seed=1)[0])
    assert spec.expected is None and spec.published.top1 is None and spec.file == ""
    assert top1_for(spec, 1.0, 224, spec.default_width_rule) is None
