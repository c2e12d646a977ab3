"""Property-based fuzzing of specs: random valid specs and random invalid mutations of them.

Every input must end in one of two ways, through the real CLI entry point:
exit 0 with counts that satisfy the invariants, or exit 2 with one `error:` line.
Anything else (a traceback, exit 1, a hang) is a crash.

    HYPOTHESIS_PROFILE=thorough python -m pytest -m fuzz    # the 10,000-example campaign
"""

from __future__ import annotations

import contextlib
import io
import json
import tempfile
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from mncost.cli import main

pytestmark = pytest.mark.fuzz

ACTS = ["none", "relu", "relu6", "hswish", "gelu"]
chan = st.integers(1, 48)
kernel = st.sampled_from([1, 3, 5, 7])
stride = st.sampled_from([1, 1, 2])
ratio = st.sampled_from([1, 1.5, 2, 2.3, 3, 4, 6])


def block_strategy() -> st.SearchStrategy[dict[str, Any]]:
    common = {"n": st.integers(1, 3), "act": st.sampled_from(ACTS)}
    return st.one_of(
        st.fixed_dictionaries({"type": st.just("conv"), "out": chan, "k": kernel, "stride": stride}, optional={**common, "bias": st.booleans(), "bn": st.booleans()}),
        st.fixed_dictionaries({"type": st.just("dwconv"), "k": kernel, "stride": stride}, optional=common),
        st.fixed_dictionaries({"type": st.just("pwconv"), "out": chan}, optional=common),
        st.fixed_dictionaries({"type": st.just("dsconv"), "out": chan, "stride": stride}, optional={**common, "se": st.booleans(), "skip": st.booleans()}),
        st.fixed_dictionaries({"type": st.just("ir"), "out": chan, "expand": ratio, "k": kernel, "stride": stride}, optional={**common, "se": st.booleans()}),
        st.fixed_dictionaries(
            {"type": st.just("uib"), "out": chan, "expand": ratio, "start_dw": st.sampled_from([0, 3, 5]), "mid_dw": st.sampled_from([0, 3, 5])},
            optional={"n": st.integers(1, 2), "layer_scale": st.booleans(), "stride": stride},
        ),
        st.fixed_dictionaries({"type": st.just("fused_ib"), "out": chan, "expand": ratio, "stride": stride}),
        st.fixed_dictionaries(
            {"type": st.just("mqa"), "out": chan, "heads": st.integers(1, 4), "key_dim": st.integers(1, 16), "value_dim": st.integers(1, 16)},
            optional={"kv_stride": st.sampled_from([1, 2]), "query_stride": st.sampled_from([1, 2]), "layer_scale": st.booleans()},
        ),
        st.just({"type": "pool"}),
    )


@st.composite
def spec_strategy(draw: Any) -> dict[str, Any]:
    stages = []
    for i in range(draw(st.integers(1, 3))):
        stages.append({"name": f"s{i}", "blocks": draw(st.lists(block_strategy(), min_size=1, max_size=4))})
    if draw(st.booleans()):
        stages.append({"name": "head", "blocks": [{"type": "pool"}, {"type": "fc", "out": draw(st.integers(1, 100)), "width": "fixed"}]})
    return {"name": "fuzz", "source": "hypothesis", "resolution": draw(st.integers(8, 96)), "stages": stages}


BAD_VALUES = [-1, 0, -2.5, "x", None, [], {}, True, float("nan"), float("inf"), 10**30, "1e3", 1.5]


@st.composite
def mutated_spec(draw: Any) -> dict[str, Any]:
    """A valid spec with one thing broken: a bad value, an unknown or missing key, a bad type."""
    spec = draw(spec_strategy())
    stage = draw(st.sampled_from(spec["stages"]))
    block = draw(st.sampled_from(stage["blocks"]))
    how = draw(st.sampled_from(["value", "unknown_key", "drop_key", "bad_type", "top_value", "stage_shape"]))
    if how == "value":
        block[draw(st.sampled_from(sorted(block)))] = draw(st.sampled_from(BAD_VALUES))
    elif how == "unknown_key":
        block[draw(st.sampled_from(["kernel", "channels", "strides", "zz", "expand_ratio"]))] = 3
    elif how == "drop_key" and len(block) > 1:
        del block[draw(st.sampled_from(sorted(k for k in block if k != "n")))]
    elif how == "bad_type":
        block["type"] = draw(st.sampled_from(["convv", "UIB", "", "mqa2", 7]))
    elif how == "top_value":
        spec[draw(st.sampled_from(["resolution", "name", "source", "stages", "in_channels"]))] = draw(st.sampled_from(BAD_VALUES))
    else:
        stage["blocks"] = draw(st.sampled_from([[], "conv", None, [1, 2]]))
    return spec


def run(args: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(args)
    return code, out.getvalue(), err.getvalue()


def analyze_text(text: str, *extra: str) -> tuple[int, str, str]:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "spec.yaml"
        path.write_text(text)
        return run(["analyze", str(path), "--format", "json", *extra])


def _no_constants(token: str) -> Any:
    raise AssertionError(f"invalid JSON token {token} in the output")


def check_outcome(code: int, out: str, err: str) -> dict[str, Any] | None:
    assert code in (0, 2), f"crash: exit {code}: {err}"
    if code == 2:
        lines = err.splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: ") and out == "", err
        return None
    data = json.loads(out, parse_constant=_no_constants)  # RFC 8259: NaN / Infinity are not JSON
    totals = data["totals"]
    for key in ("macs", "params", "weight_bytes", "activation_bytes"):
        assert totals[key] >= 0
        assert sum(layer[key] for layer in data["layers"]) == totals[key]
    assert all(layer["latency_s"] >= 0 for layer in data["layers"])
    return data


FUZZ = settings(suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large], deadline=None)


@FUZZ
@given(spec=spec_strategy(), a=st.sampled_from([0.25, 0.5, 0.75, 1.0, 1.5]), b=st.sampled_from([0.25, 0.5, 0.75, 1.0, 1.5]))
def test_valid_specs_answer_with_consistent_counts(spec, a, b):
    text = yaml.safe_dump(spec, sort_keys=False)
    lo, hi = sorted((a, b))
    first = check_outcome(*analyze_text(text, "--alpha", str(lo)))
    second = check_outcome(*analyze_text(text, "--alpha", str(hi)))
    if first and second:  # monotone in α where both widths are valid (groups may stop dividing)
        assert first["totals"]["macs"] <= second["totals"]["macs"]
        assert first["totals"]["params"] <= second["totals"]["params"]
    bigger = check_outcome(*analyze_text(text, "--alpha", str(lo), "--resolution", str(spec["resolution"] * 2)))
    if first and bigger:  # monotone in resolution; params do not depend on it
        assert first["totals"]["macs"] <= bigger["totals"]["macs"]
        assert first["totals"]["params"] == bigger["totals"]["params"]


@FUZZ
@given(spec=mutated_spec())
def test_invalid_mutations_are_rejected_cleanly(spec):
    text = yaml.safe_dump(spec, sort_keys=False, allow_unicode=True)
    check_outcome(*analyze_text(text))


@FUZZ
@given(text=st.text(max_size=300))
def test_arbitrary_text_never_crashes(text):
    check_outcome(*analyze_text(text))


@FUZZ
@given(data=st.binary(max_size=200))
def test_arbitrary_bytes_never_crash(data):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "spec.yaml"
        path.write_bytes(data)
        check_outcome(*run(["analyze", str(path), "--format", "json"]))


@FUZZ
@example(peak="0\x1f", bw=None, dtype="int8")  # found by the campaign: str.strip() ate the \x1f, float() did not
@example(peak="1e12\n", bw=None, dtype="int8")
@given(
    peak=st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=8), st.integers(-10, 10**15)),
    bw=st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.none(), st.integers(-10, 10**12)),
    dtype=st.sampled_from(["int8", "fp16", "fp32", "int4", "", 8]),
)
def test_hardware_profiles_never_crash(peak, bw, dtype):
    profile = {"name": "fz", "peak_macs_per_s": peak, "mem_bw_bytes_per_s": bw, "weight_dtype": dtype, "activation_dtype": "int8"}
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "hw.yaml"
        path.write_text(yaml.safe_dump(profile))
        check_outcome(*run(["analyze", "v3-small", "--hw", str(path), "--format", "json"]))


# -- names are data, numbers have one grammar, options have bounds ---------------------------

NASTY = st.lists(st.sampled_from(list("ab[]/=|<>&*_`#\\ ") + ["[/x]", "[bold red]", "[link=http://e]", "\x1b[31m", "\x07", "\x9b", "\r", "\x00"]), min_size=1, max_size=8).map("".join)


def assert_inert(out: str, err: str) -> None:
    """No control character of a name reaches the terminal raw (newline and tab aside)."""
    for stream in (out, err):
        bad = [c for c in stream if (ord(c) < 32 and c not in "\n\t") or 0x7F <= ord(c) <= 0x9F]
        assert not bad, f"raw control characters {bad!r} in the output"


@FUZZ
@given(model=NASTY, stage=NASTY, block=NASTY, profile=NASTY, fmt=st.sampled_from(["table", "md", "csv", "json"]))
def test_names_with_markup_and_control_characters_are_shown_as_text(model, stage, block, profile, fmt):
    spec = {"name": model, "title": model, "source": block, "resolution": 32,
            "stages": [{"name": stage, "blocks": [{"type": "conv", "out": 8, "name": block}, {"type": "ir", "out": 8, "expand": 2, "se": True}, {"type": "pool"}]}]}
    hw = {"name": profile, "title": profile, "peak_macs_per_s": 1e12, "ridge_macs_per_byte": 10}
    with tempfile.TemporaryDirectory() as tmp:
        spec_path, hw_path = Path(tmp) / "spec.yaml", Path(tmp) / "hw.yaml"
        spec_path.write_text(yaml.safe_dump(spec, allow_unicode=True))
        hw_path.write_text(yaml.safe_dump(hw, allow_unicode=True))
        for args in (["analyze", str(spec_path), "--hw", str(hw_path)],
                     ["sweep", "--models", f"{spec_path},v1-cifar", "--hw", str(hw_path)],
                     ["ridge", "--models", f"{spec_path},v1-cifar", "--rp", "0,100"]):
            code, out, err = run([*args, "--format", fmt])
            assert code in (0, 2), f"crash: exit {code}: {err}"
            if code == 2:
                assert len(err.splitlines()) == 1 and err.startswith("error: ")
            assert_inert(out, err)
            if fmt == "json" and code == 0:
                json.loads(out, parse_constant=_no_constants)


NUMBER_TEXTS = st.one_of(
    st.sampled_from(["1e200", "1e-320", "5e-324", "1e308", "-0", "0", "1e999999999", "nan", "inf", "-inf", "1_0", "0x10", "1:30", "", " ", "1" + "0" * 300]),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.integers(-(10**40), 10**40).map(str),
)


@FUZZ
@given(alpha=NUMBER_TEXTS, res=NUMBER_TEXTS, batch=NUMBER_TEXTS, rho=NUMBER_TEXTS, which=st.sampled_from(["alpha", "resolution", "batch", "rho"]))
def test_numeric_extremes_on_the_command_line_are_answers_or_clean_errors(alpha, res, batch, rho, which):
    value = {"alpha": alpha, "resolution": res, "batch": batch, "rho": rho}[which]
    check_outcome(*run(["analyze", "v1-cifar", "--format", "json", f"--{which}", value]))
    code, out, err = run(["sweep", "--models", "v1-cifar", "--hw", "cpu", "--format", "json",
                          *(["--alpha", alpha] if which == "alpha" else ["--resolution", res] if which == "resolution" else ["--rho", rho])])
    assert code in (0, 2), f"crash: exit {code}: {err}"
    if code == 0:
        json.loads(out, parse_constant=_no_constants)


RANGES = st.builds(lambda a, b, c, sep: sep.join(x for x in (a, b, c) if x is not None), NUMBER_TEXTS, NUMBER_TEXTS, st.one_of(st.none(), NUMBER_TEXTS), st.sampled_from([":", ",", ":"]))


@FUZZ
@given(rp=RANGES)
def test_ranges_never_crash_or_hang(rp):
    code, out, err = run(["ridge", "--models", "v1-cifar", "--rp", rp, "--format", "csv"])
    assert code in (0, 2), f"crash: exit {code}: {err}"


YAML11 = st.sampled_from(["1:30", "0x1f", "017", "0o17", "1_000", "0b101", ".inf", "-.inf", ".nan", "1e3", "+12", "12.", ".5", "~", "yes", "Off", "2001-12-14", "0:0:1", "-1:30"])


@FUZZ
@given(key=st.sampled_from(["resolution", "out", "k", "expand", "stride", "peak"]), value=YAML11)
def test_yaml11_scalars_are_refused_or_read_as_written(key, value):
    block = {"type": "ir", "out": 16, "expand": 2, "k": 3, "stride": 1}
    spec_text = f"name: y\nsource: t\nresolution: {value if key == 'resolution' else 32}\nstages:\n- name: a\n  blocks:\n  - {{type: conv, out: 16}}\n  - " + "{" + ", ".join(f"{k}: {value if k == key else v}" for k, v in block.items()) + "}\n"
    hw_text = f"name: h\npeak_macs_per_s: {value if key == 'peak' else '1e12'}\nridge_macs_per_byte: 10\n"
    with tempfile.TemporaryDirectory() as tmp:
        spec_path, hw_path = Path(tmp) / "spec.yaml", Path(tmp) / "hw.yaml"
        spec_path.write_text(spec_text)
        hw_path.write_text(hw_text)
        data = check_outcome(*run(["analyze", str(spec_path), "--hw", str(hw_path), "--format", "json"]))
    if data is not None and key == "resolution":  # accepted only as the plain decimal it reads as
        assert str(data["resolution"]) == value.lstrip("+").rstrip(".").split(".")[0] or float(value) == data["resolution"]
