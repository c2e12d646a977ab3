"""Invariants that must hold for every spec and configuration (hypothesis)."""

from __future__ import annotations

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

import mncost
from mncost import builtin

MODELS = list(builtin.spec_files())
# Specs that refuse some configurations with a clear error, as their PyTorch models would:
# unpadded downsampling (ConvNeXt's 4x4/4 stem and 2x2/2 convs, the anti-aliased V4 nets' 2x2
# average pools) below 32x32 inputs; fixed group counts (FastViT's patch embedding) and
# attention head widths (EfficientViT, FastViT-SA) at widths they do not divide. The
# invariants are checked on the configurations they accept.
MAY_REFUSE = {name for name in MODELS if name.startswith(("convnext-", "v4-conv-aa-", "fastvit-", "efficientvit-"))}


def accepted(model, **kw) -> bool:
    if model not in MAY_REFUSE:
        return True
    try:
        mncost.walk(mncost.load_spec(model), **kw)
    except mncost.SpecError:
        return False
    return True


def totals(model, **kw):
    walk = mncost.walk(mncost.load_spec(model), **kw)
    return sum(layer.macs for layer in walk.layers), sum(layer.params for layer in walk.layers)


@given(model=st.sampled_from(MODELS), a=st.floats(0.1, 2.0), b=st.floats(0.1, 2.0), res=st.integers(16, 320))
def test_macs_and_params_never_decrease_as_alpha_grows(model, a, b, res):
    lo, hi = sorted((a, b))
    spec = mncost.load_spec(model)
    for rule in spec.width_rules:
        assume(accepted(model, alpha=lo, resolution=res, width_rule=rule) and accepted(model, alpha=hi, resolution=res, width_rule=rule))
        macs_lo, params_lo = totals(model, alpha=lo, resolution=res, width_rule=rule)
        macs_hi, params_hi = totals(model, alpha=hi, resolution=res, width_rule=rule)
        assert macs_lo <= macs_hi
        assert params_lo <= params_hi


@given(model=st.sampled_from(MODELS), alpha=st.sampled_from([0.35, 0.5, 0.75, 1.0, 1.4]), r1=st.integers(8, 400), r2=st.integers(8, 400))
def test_macs_never_decrease_and_params_stay_as_resolution_grows(model, alpha, r1, r2):
    lo, hi = sorted((r1, r2))
    assume(accepted(model, alpha=alpha, resolution=lo) and accepted(model, alpha=alpha, resolution=hi))
    macs_lo, params_lo = totals(model, alpha=alpha, resolution=lo)
    macs_hi, params_hi = totals(model, alpha=alpha, resolution=hi)
    assert macs_lo <= macs_hi
    assert params_lo == params_hi


@given(
    model=st.sampled_from(MODELS),
    hw=st.sampled_from(["cpu", "gpu", "edgetpu", "dsp"]),
    alpha=st.floats(0.2, 1.6),
    res=st.integers(32, 320),
    batch=st.integers(1, 64),
)
def test_rows_sum_to_totals(model, hw, alpha, res, batch):
    assume(accepted(model, alpha=alpha, resolution=res))
    result = mncost.analyze(model, hw, alpha=alpha, resolution=res, batch=batch)
    t = result.totals
    layers = result.layers
    assert sum(layer.macs for layer in layers) == t.macs
    assert sum(layer.params for layer in layers) == t.params
    assert sum(layer.weight_bytes for layer in layers) == t.weight_bytes
    assert sum(layer.activation_bytes for layer in layers) == t.activation_bytes
    assert sum(layer.latency_s for layer in layers) == pytest.approx(t.latency_s, rel=1e-12)
    assert all(layer.macs >= 0 and layer.activation_bytes > 0 for layer in layers)
    assert 0.0 <= t.memory_bound_share <= 1.0


@given(model=st.sampled_from(MODELS), batch=st.integers(1, 10_000))
def test_batch_scales_macs_and_activations_not_weights(model, batch):
    one = mncost.analyze(model, "cpu").totals
    many = mncost.analyze(model, "cpu", batch=batch).totals
    assert many.macs == batch * one.macs
    assert many.activation_bytes == batch * one.activation_bytes
    assert many.weight_bytes == one.weight_bytes
    assert isinstance(many.macs, int)


def test_huge_configurations_stay_exact_integers():
    result = mncost.analyze("v2", "cpu", resolution=4096, batch=100_000)
    one = mncost.analyze("v2", "cpu", resolution=4096)
    assert result.totals.macs == 100_000 * one.totals.macs
    assert isinstance(result.totals.macs, int) and result.totals.macs > 2**53
