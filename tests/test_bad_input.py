"""Every malformed spec or profile ends with its exact one-line error and exit code 2."""

from __future__ import annotations

from pathlib import Path

import pytest

from helpers import TESTS, expected_error, run_cli

BAD_SPECS = sorted((TESTS / "bad_specs").glob("*.yaml"))
BAD_HARDWARE = sorted((TESTS / "bad_hardware").glob("*.yaml"))


def test_fixture_folders_are_populated():
    assert len(BAD_SPECS) >= 20 and len(BAD_HARDWARE) >= 8


@pytest.mark.parametrize("path", BAD_SPECS, ids=lambda p: p.stem)
def test_bad_spec(capsys, path: Path):
    code, out, err = run_cli(capsys, "analyze", str(path), "--format", "json")
    assert code == 2
    assert out == ""
    assert err.splitlines() == [expected_error(path)]


@pytest.mark.parametrize("path", BAD_HARDWARE, ids=lambda p: p.stem)
def test_bad_hardware(capsys, path: Path):
    code, out, err = run_cli(capsys, "analyze", "v2", "--hw", str(path), "--format", "json")
    assert code == 2
    assert out == ""
    assert err.splitlines() == [expected_error(path)]


@pytest.mark.parametrize(
    "args, message",
    [
        (["analyze", "v2", "--alpha", "0"], "error: --alpha must be a number above 0 and at most 100, got 0.0"),
        (["analyze", "v2", "--alpha", "-1"], "error: --alpha must be a number above 0 and at most 100, got -1.0"),
        (["analyze", "v2", "--alpha", "nan"], "error: --alpha must be a number above 0 and at most 100, got nan"),
        (["analyze", "v2", "--alpha", "inf"], "error: --alpha must be a number above 0 and at most 100, got inf"),
        (["analyze", "v2", "--resolution", "0"], "error: --resolution must be an integer from 1 to 1000000, got 0"),
        (["analyze", "v2", "--rho", "0"], "error: --rho must be a positive finite number, got 0.0"),
        (["analyze", "v2", "--rho", "0.001"], "error: --rho 0.001 gives resolution 0 for v2; expected at least 1"),
        (["analyze", "v2", "--resolution", "160", "--rho", "0.5"], "error: give --resolution or --rho, not both"),
        (["analyze", "v2", "--batch", "0"], "error: --batch must be an integer from 1 to 1000000, got 0"),
        (["analyze", "v3-larg"], "error: unknown model 'v3-larg' (did you mean 'v3-large'?); built-in models: convnext-atto, convnext-small, efficientnet-b0, efficientnet-b1, efficientnet-b2, efficientnet-b3, efficientnet-lite0, efficientnet-lite1, efficientnet-lite2, efficientnet-lite3, efficientnet-lite4, efficientvit-b1, efficientvit-b2, efficientvit-b3, fastvit-s12, fastvit-sa12, fastvit-sa24, fastvit-sa36, fastvit-t8, fbnet-c, ghostnet, lcnet, mnasnet, mobilenet-edgetpu, mobileone-s0, mobileone-s1, mobileone-s2, mobileone-s3, mobileone-s4, spnasnet-100, tinynet-a, tinynet-b, tinynet-c, tinynet-d, tinynet-e, v1, v1-cifar, v2, v2-110d, v2-120d, v3-large, v3-small, v4-conv-s, v4-conv-m, v4-conv-l, v4-conv-aa-m, v4-conv-aa-l, v4-conv-blur-m, v4-hybrid-m, v4-hybrid-l, or give a spec .yaml path"),
        (["analyze", "v2", "--hw", "edgtpu"], "error: unknown hardware 'edgtpu' (did you mean 'edgetpu'?); built-in profiles: cpu, dsp, edgetpu, gpu, iphone13-coreml, pixel1-cpu-fp32, pixel1-cpu-int8, pixel2-cpu-fp32, pixel2-cpu-int8, pixel3-cpu-fp32, pixel3-cpu-int8, pixel4-dsp, pixel6-cpu, pixel7-gpu, pixel8-edgetpu, s23-cpu, s23-gpu, or give a profile .yaml path"),
        (["analyze", "v2", "--width-rule", "paper"], "error: specs/v2.yaml: width_rules: no width rule 'paper'; this spec defines: torchvision"),
        (["analyze", "missing.yaml"], "error: missing.yaml: file not found"),
    ],
)
def test_bad_options(capsys, args, message):
    code, out, err = run_cli(capsys, *args)
    assert (code, out) == (2, "")
    assert err.splitlines() == [message]


def test_bad_option_type_is_one_line(capsys):
    code, out, err = run_cli(capsys, "analyze", "v2", "--alpha", "abc")
    assert code == 2 and out == ""
    assert len(err.splitlines()) == 1
    assert err.startswith("error: ") and "--alpha" in err


def test_binary_and_non_utf8_files(capsys, tmp_path):
    binary = tmp_path / "bin.yaml"
    binary.write_bytes(b"\x00\x01\x02")
    latin = tmp_path / "latin.yaml"
    latin.write_bytes("name: caf\xe9\n".encode("latin-1"))
    for path, message in [(binary, ": binary file (contains NUL bytes), expected YAML text"), (latin, ":1: not UTF-8 text (byte 0xe9)")]:
        code, _, err = run_cli(capsys, "analyze", str(path))
        assert code == 2
        assert err.splitlines() == [f"error: {path}{message}"]


def test_alias_bomb_is_refused_quickly(capsys, tmp_path):
    lines = ['a: &a ["x","x","x","x","x","x","x","x","x","x"]']
    for i in range(1, 9):
        prev = chr(ord("a") + i - 1)
        cur = chr(ord("a") + i)
        lines.append(f"{cur}: &{cur} [" + ",".join([f"*{prev}"] * 10) + "]")
    bomb = tmp_path / "bomb.yaml"
    bomb.write_text("\n".join(lines) + "\n")
    code, _, err = run_cli(capsys, "analyze", str(bomb))
    assert code == 2
    assert "alias bomb" in err and len(err.splitlines()) == 1


def test_deep_nesting_is_refused(capsys, tmp_path):
    deep = tmp_path / "deep.yaml"
    deep.write_text("x: " + "[" * 100 + "]" * 100 + "\n")  # below any parser's own limit
    code, _, err = run_cli(capsys, "analyze", str(deep))
    assert code == 2
    assert err.splitlines() == [f"error: {deep}:1: nesting too deep: more than 64 levels (mncost's limit)"]


@pytest.mark.parametrize("loader", ["CSafeLoader", "SafeLoader"])
def test_very_deep_nesting_is_refused_whichever_parser_stops_first(capsys, tmp_path, monkeypatch, loader):
    """libyaml (PyYAML >= 6.0.4) refuses 1000+ levels itself; the user sees the same kind of line."""
    import yaml

    import mncost.yamlio

    if not hasattr(yaml, loader):
        pytest.skip(f"this PyYAML has no {loader}")
    monkeypatch.setattr(mncost.yamlio, "_loader", lambda: getattr(yaml, loader))
    deep = tmp_path / "deep.yaml"
    deep.write_text("x: " + "[" * 5000 + "]" * 5000 + "\n")
    code, _, err = run_cli(capsys, "analyze", str(deep))
    assert code == 2
    [line] = err.splitlines()
    assert line in (
        f"error: {deep}:1: nesting too deep: more than 64 levels (mncost's limit)",
        f"error: {deep}:1: nesting too deep: the YAML parser's own depth limit was reached (mncost's limit is 64 levels)",
    )


def test_oversized_file_is_refused_before_parsing(capsys, tmp_path):
    big = tmp_path / "big.yaml"
    big.write_text("name: x\n" + "#" * 1_100_000 + "\n")
    code, _, err = run_cli(capsys, "analyze", str(big))
    assert code == 2
    assert err.splitlines() == [f"error: {big}: file is more than the 1000000-byte limit"]


def test_a_directory_given_as_spec(capsys, tmp_path):
    code, _, err = run_cli(capsys, "analyze", str(tmp_path))
    assert code == 2 and err.splitlines() == [f"error: {tmp_path}: is a directory, expected a YAML file"]


def test_internal_errors_ask_for_a_report_and_hide_the_traceback(capsys, monkeypatch):
    import mncost.analysis

    def bug(*args, **kwargs):
        raise ZeroDivisionError("division by zero")

    monkeypatch.setattr(mncost.analysis, "analyze", bug)
    code, out, err = run_cli(capsys, "analyze", "v2")
    assert code == 1 and out == ""
    assert err.splitlines() == [
        "internal error: ZeroDivisionError: division by zero — this is a bug in mncost; please report it (rerun with --debug for the traceback)"
    ]
    with pytest.raises(ZeroDivisionError):  # --debug lets the traceback through
        run_cli(capsys, "--debug", "analyze", "v2")


def test_unwritable_output_directory(capsys, tmp_path, monkeypatch):
    import os

    real_access = os.access
    monkeypatch.setattr(os, "access", lambda path, mode: False if str(path) == str(tmp_path) else real_access(path, mode))
    code, _, err = run_cli(capsys, "analyze", "v2", "--format", "csv", "--output", str(tmp_path / "x.csv"))
    assert code == 2
    assert err.splitlines() == [f"error: {tmp_path / 'x.csv'}: directory {str(tmp_path)!r} is not writable"]
    assert list(tmp_path.iterdir()) == []
