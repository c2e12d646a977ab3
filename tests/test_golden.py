"""Rendered outputs pinned as golden files (MNCOST_UPDATE_GOLDEN=1 rewrites them after a deliberate change).

Only mncost's own formats are pinned (md, csv, json), not rich's terminal tables,
whose drawing may change with the rich version CI installs.
"""

from __future__ import annotations

import os

import pytest

from helpers import TESTS, run_cli

GOLDEN = TESTS / "golden"
CASES = {
    "v1-cifar-cpu.md": ["analyze", "v1-cifar", "--hw", "cpu", "--format", "md"],
    "v1-cifar-cpu.csv": ["analyze", "v1-cifar", "--hw", "cpu", "--format", "csv"],
    "v1-cifar-cpu.json": ["analyze", "v1-cifar", "--hw", "cpu", "--format", "json"],
    "v4-hybrid-m-edgetpu-fused.json": ["analyze", "v4-hybrid-m", "--hw", "edgetpu", "--alpha", "0.5", "--resolution", "128", "--fused-attention", "--format", "json"],
    "v3-small-gpu-batch4.md": ["analyze", "v3-small", "--hw", "gpu", "--batch", "4", "--width-rule", "paper", "--alpha", "0.75", "--format", "md"],
    "sweep-small.md": ["sweep", "--models", "v2,v3-small", "--alpha", "0.5,1.0", "--hw", "cpu,edgetpu", "--format", "md"],
    "ridge-small.md": ["ridge", "--models", "v1,v2", "--rp", "0,50,100", "--format", "md"],  # rounded: numpy sums may differ in the last bit
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_golden(capsys, name):
    code, out, err = run_cli(capsys, *CASES[name])
    assert code == 0, err
    path = GOLDEN / name
    if os.environ.get("MNCOST_UPDATE_GOLDEN"):
        path.write_text(out, encoding="utf-8")
    assert out == path.read_text(encoding="utf-8"), f"{name} changed; rerun with MNCOST_UPDATE_GOLDEN=1 if that is intended"
