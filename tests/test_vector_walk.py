"""The walk over many resolutions at once equals the scalar walk, and every command prices
a configuration with the same roofline core (plain and refined)."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import mncost
from mncost import builtin
from mncost.errors import MncostError, SpecError
from mncost.hardware import Refinements, load_hardware
from mncost.ops import GROUPS
from mncost.schema import Context
from mncost.spec import parse_spec
from mncost.vector_walk import FIELDS, LayerCounts, counts_from_walk, walk_grid, walk_resolutions
from mncost.yamlio import loads

ACTS = ["none", "relu", "hswish"]
chan = st.integers(1, 64)
kernel = st.sampled_from([1, 3, 5, 7])
stride = st.sampled_from([1, 1, 2, 3])
ratio = st.sampled_from([1, 1.5, 2, 2.3, 3, 4, 6])


def blocks() -> st.SearchStrategy[dict[str, Any]]:
    common = {"n": st.integers(1, 3), "act": st.sampled_from(ACTS)}
    return st.one_of(
        st.fixed_dictionaries({"type": st.just("conv"), "out": chan, "k": kernel, "stride": stride},
                              optional={**common, "bias": st.booleans(), "padding": st.integers(0, 3)}),
        st.fixed_dictionaries({"type": st.just("dwconv"), "k": kernel, "stride": stride}, optional=common),
        st.fixed_dictionaries({"type": st.just("pwconv"), "out": chan}, optional=common),
        st.fixed_dictionaries({"type": st.just("dsconv"), "out": chan, "stride": stride}, optional={**common, "se": st.booleans(), "skip": st.booleans()}),
        st.fixed_dictionaries({"type": st.just("ir"), "out": chan, "expand": ratio, "k": kernel, "stride": stride}, optional={**common, "se": st.booleans()}),
        st.fixed_dictionaries({"type": st.just("uib"), "out": chan, "expand": ratio, "start_dw": st.sampled_from([0, 3, 5]), "mid_dw": st.sampled_from([3, 5])},
                              optional={"n": st.integers(1, 2), "layer_scale": st.booleans(), "stride": stride}),
        st.fixed_dictionaries({"type": st.just("fused_ib"), "out": chan, "expand": ratio, "stride": stride}),
        st.fixed_dictionaries({"type": st.just("mqa"), "out": chan, "heads": st.integers(1, 4), "key_dim": st.integers(1, 16), "value_dim": st.integers(1, 16)},
                              optional={"kv_stride": st.sampled_from([1, 2]), "query_stride": st.sampled_from([1, 2, 3]), "layer_scale": st.booleans()}),
    )


@st.composite
def specs(draw: Any) -> mncost.ArchSpec:
    stages = [{"name": f"s{i}", "blocks": draw(st.lists(blocks(), min_size=1, max_size=4))} for i in range(draw(st.integers(1, 3)))]
    if draw(st.booleans()):
        stages.append({"name": "head", "blocks": [{"type": "pool"}, {"type": "fc", "out": draw(st.integers(1, 100)), "width": "fixed"}]})
    elif draw(st.booleans()):  # a classifier on the unpooled map: its width depends on the resolution
        stages.append({"name": "head", "blocks": [{"type": "fc", "out": 10}]})
    doc = loads(yaml.safe_dump({"name": "random", "source": "hypothesis", "resolution": 64, "stages": stages}))
    return parse_spec(doc.data, Context(doc, SpecError))


def scalar_rows(spec: mncost.ArchSpec, alpha: float, resolution: int, **kw: Any) -> list[list[Any]]:
    w = mncost.walk(spec, alpha=alpha, resolution=resolution, **kw)
    c = counts_from_walk(w)
    return [[name, op, kind, GROUPS[g], *(int(getattr(c, f)[0, j]) for f in FIELDS)] for j, (name, op, kind, g) in enumerate(zip(c.names, c.ops, c.kinds, c.group))]


def vector_rows(counts: LayerCounts, column: int) -> list[list[Any]]:
    return [[name, op, kind, GROUPS[g], *(int(getattr(counts, f)[column, j]) for f in FIELDS)]
            for j, (name, op, kind, g) in enumerate(zip(counts.names, counts.ops, counts.kinds, counts.group))]


def assert_equal_to_scalar(spec: mncost.ArchSpec, alphas: list[float], resolutions: list[int], **kw: Any) -> list[LayerCounts]:
    """walk_grid gives, config by config, the scalar walk's layers, or the scalar walk's first error."""
    expected: list[tuple[float, int, Any]] = []
    first_error = None
    for a in alphas:
        for r in resolutions:
            try:
                expected.append((mncost.walk(spec, alpha=a, resolution=r, **kw).alpha, r, scalar_rows(spec, a, r, **kw)))
            except MncostError as exc:
                first_error = first_error or str(exc)
    if first_error is not None:
        with pytest.raises(MncostError) as info:
            walk_grid(spec, alphas, resolutions, **kw)
        assert str(info.value) == first_error
        return []
    chunks = walk_grid(spec, alphas, resolutions, **kw)
    got = [(c.alpha, int(r), vector_rows(c, i)) for c in chunks for i, r in enumerate(c.resolutions)]
    assert got == expected
    return chunks


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(spec=specs(), alphas=st.lists(st.sampled_from([0.25, 0.35, 0.5, 0.75, 1.0, 1.3, 2.0]), min_size=1, max_size=3, unique=True),
       resolutions=st.lists(st.integers(1, 300), min_size=1, max_size=6, unique=True), fused=st.booleans())
def test_random_specs_vector_walk_equals_scalar_walk(spec, alphas, resolutions, fused):
    assert_equal_to_scalar(spec, alphas, resolutions, fused_attention=fused)


@pytest.mark.parametrize("name", list(builtin.spec_files()))
def test_builtins_vectorize_and_equal_the_scalar_walk(name):
    spec = mncost.load_spec(name)
    for rule in spec.width_rules:
        chunks = assert_equal_to_scalar(spec, [0.35, 1.0, 1.4], [33, 96, 224, 225, 513], width_rule=rule)
        assert all(c.vectorized for c in chunks), "a built-in fell back to the scalar walk"  # [] when a configuration is invalid


def test_huge_resolutions_stay_exact():
    spec = mncost.load_spec("v4-hybrid-l")  # attention MACs grow as resolution⁴
    chunks = assert_equal_to_scalar(spec, [1.0], [224, 200_000])
    totals = [int(v) for c in chunks for v in c.total("macs")]
    assert totals == [sum(x.macs for x in mncost.walk(spec, resolution=r).layers) for r in (224, 200_000)]
    assert max(totals) > 2**63  # beyond int64: exact Python ints from the scalar fallback


def test_resolution_errors_are_the_scalar_walks():
    with pytest.raises(MncostError, match="positive integer"):
        walk_resolutions(mncost.load_spec("v2"), [224, 0])


# -- one roofline for every command ------------------------------------------------------------


def refined(profile_name: str) -> mncost.HardwareProfile:
    hw = load_hardware(profile_name)
    return dataclasses.replace(hw, name=f"{profile_name}-refined", refinements=Refinements(
        peak_macs_per_s=hw.peak_macs_per_s * 0.7, overhead_s_per_layer=3e-6, invoke_s=2e-4, onchip_bytes=60_000,
        slowdown={"depthwise": 1.8, "se": 2.5, "attention": 3.0, "elementwise": 1.2, "norm": 1.6}, act_s_per_elem={"hard": 2e-9, "smooth": 4e-9}))


@pytest.mark.parametrize("model,alpha,resolution", [("v3-large", 0.75, 192), ("v4-hybrid-m", 1.0, 256), ("v2", 1.4, 224), ("convnext-atto", 1.0, 160)])
@pytest.mark.parametrize("batch", [1, 3])
def test_analyze_sweep_and_ridge_predict_the_same_latency(model, alpha, resolution, batch):
    from mncost.ridge import ridge_latencies
    from mncost.roofline import walk_latency_s
    from mncost.sweep import sweep

    profiles = [load_hardware("edgetpu"), refined("edgetpu"), refined("cpu")]
    spec = mncost.load_spec(model)
    df = sweep([spec], profiles, alphas=[alpha], resolutions=[224, resolution], batch=batch)
    for hw in profiles:
        result = mncost.analyze(spec, hw, alpha=alpha, resolution=resolution, batch=batch)
        row = df[(df.hardware == hw.name) & (df.resolution == resolution)].iloc[0]
        assert row.latency_s == pytest.approx(result.totals.latency_s, rel=1e-12)
        assert row.memory_bound_share == pytest.approx(result.totals.memory_bound_share, rel=1e-12, abs=1e-15)
        assert (row.macs, row.params, row.weight_bytes, row.activation_bytes) == (
            result.totals.macs, result.totals.params, result.totals.weight_bytes, result.totals.activation_bytes)
        lib = walk_latency_s(mncost.walk(spec, alpha=alpha, resolution=resolution).layers, hw, batch=batch)
        assert lib.latency_s == pytest.approx(result.totals.latency_s, rel=1e-12)
        if hw.refinements is None:
            assert np.isnan(row.refined_latency_s) and result.totals.refined_latency_s is None and lib.refined_latency_s is None
        else:
            assert row.refined_latency_s == pytest.approx(result.totals.refined_latency_s, rel=1e-12)
            assert lib.refined_latency_s == pytest.approx(result.totals.refined_latency_s, rel=1e-12)
            assert row.refined_latency_s != pytest.approx(row.latency_s, rel=1e-3)  # the refinements do something
        # fit, fidelity and bench price networks with the same core, over arrays of networks
        from mncost.fidelity.bench import _predicted_layer_times, refined_prediction
        from mncost.fidelity.model import ModelParams, build_network_set, predict_latency_s

        net = build_network_set([mncost.walk(spec, alpha=alpha, resolution=resolution)], weight_dtype=hw.weight_dtype,
                                activation_dtype=hw.activation_dtype, batches=[batch])
        (plain,) = predict_latency_s(net, ModelParams.of_profile(hw))
        assert plain == pytest.approx(result.totals.latency_s, rel=1e-12)
        if hw.refinements is not None:
            (fine,) = predict_latency_s(net, ModelParams.of_profile(hw, refined=True))
            assert fine == pytest.approx(result.totals.refined_latency_s, rel=1e-12)
        if batch == 1:  # bench measures batch 1
            w1 = mncost.walk(spec, alpha=alpha, resolution=resolution)
            assert sum(_predicted_layer_times(w1, hw)) == pytest.approx(result.totals.latency_s, rel=1e-12)
            assert refined_prediction(w1, hw) == (None if hw.refinements is None else pytest.approx(result.totals.refined_latency_s, rel=1e-12))
        if hw.weight_dtype == hw.activation_dtype:  # a ridge sweep at the profile's own ridge point is the profile
            w = mncost.walk(spec, alpha=alpha, resolution=resolution)
            (lat,) = ridge_latencies(w, [hw.ridge_point], peak_macs_per_s=hw.peak_macs_per_s, dtype=hw.weight_dtype, batch=batch)
            assert lat == pytest.approx(result.totals.latency_s, rel=1e-12)


def test_refined_latency_by_hand():
    """One 1×1 conv: on-chip input, slowdown, overhead and invoke, computed by hand."""
    doc = loads(yaml.safe_dump({"name": "one", "source": "hand", "resolution": 10, "in_channels": 8,
                                "stages": [{"name": "s", "blocks": [{"type": "pwconv", "out": 16}]}]}))
    spec = parse_spec(doc.data, Context(doc, SpecError))
    hw = dataclasses.replace(load_hardware("cpu"), refinements=Refinements(onchip_bytes=800, overhead_s_per_layer=1e-6, invoke_s=1e-3, slowdown={"dense": 2.0}))
    size = hw.activation_bytes_per_elem
    macs, weights = 16 * 8 * 100, 16 * 8 * hw.weight_bytes_per_param
    reads = 0 if 8 * 100 * size <= 800 else 8 * 100 * size
    writes = 16 * 100 * size  # 1600 elements: never on chip at 800 bytes
    expected = 2.0 * max(macs / hw.peak_macs_per_s, (weights + reads + writes) / hw.mem_bw_bytes_per_s) + 1e-6 + 1e-3
    from mncost.sweep import sweep

    assert mncost.analyze(spec, hw).totals.refined_latency_s == pytest.approx(expected, rel=1e-15)
    assert sweep([spec], [hw]).refined_latency_s[0] == pytest.approx(expected, rel=1e-15)
