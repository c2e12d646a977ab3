"""A missing optional package is one line naming the install command, exit 2, from the
one guard in mncost.extras, whichever command needs it."""

from __future__ import annotations

import sys

import pytest

from helpers import TESTS, run_cli

TABLE6 = TESTS.parent / "mncost" / "fidelity" / "data" / "mnv4_table6_latency.csv"
CASES = [
    ("scipy", ["fit", str(TABLE6), "--name", "x", "--device", "Pixel 6 CPU"], "this command needs numpy and scipy: pip install 'mncost[fit]'"),
    ("fvcore", ["crosscheck", "v2"], "crosscheck needs torch and fvcore: pip install torch==2.13.0 && pip install 'mncost[torch]'"),
    ("onnxruntime", ["bench", "v3-small", "--runtime", "onnxruntime", "--max-runs", "3"], "--runtime onnxruntime needs onnx and onnxruntime: pip install 'mncost[bench]'"),
    ("matplotlib", ["report", "v3-small", "--output-dir", "{tmp}/rep"], "drawing charts needs matplotlib: pip install matplotlib"),
]


@pytest.mark.parametrize(("missing", "argv", "message"), CASES, ids=[c[0] for c in CASES])
def test_a_missing_extra_says_how_to_install_it(capsys, monkeypatch, tmp_path, missing, argv, message):
    monkeypatch.setitem(sys.modules, missing, None)  # import raises ImportError, as when not installed
    code, out, err = run_cli(capsys, *[a.format(tmp=tmp_path) for a in argv])
    assert (code, err.splitlines()) == (2, [f"error: {message}"])
    assert not (tmp_path / "rep").exists()
