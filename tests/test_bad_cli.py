"""Every case in tests/bad_cli/ runs through the CLI and ends with its exact first line.

A case is a small YAML file: ``args`` (``{tmp}`` is a fresh folder), optional
``files`` (name: text) and ``copy`` (name: repository path) made in that folder,
``fifos`` (named pipes), ``cwd``, the expected ``exit`` (default 2) and either the
exact first stderr line ``error`` or the start of stdout ``stdout_starts``. Nothing
is ever written to stdout by a failing command.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
import yaml

from helpers import REPO, TESTS, run_cli

CASES = sorted((TESTS / "bad_cli").glob("*.yaml"))


def test_case_folder_is_populated():
    assert len(CASES) >= 30


@pytest.mark.parametrize("case", CASES, ids=lambda p: p.stem)
def test_cli_case(capsys, tmp_path, monkeypatch, case: Path):
    spec = yaml.safe_load(case.read_text(encoding="utf-8"))
    fill = lambda text: str(text).replace("{tmp}", str(tmp_path))  # noqa: E731
    for name, text in (spec.get("files") or {}).items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    for name, source in (spec.get("copy") or {}).items():
        shutil.copy(REPO / source, tmp_path / name)
    for name in spec.get("fifos") or []:
        os.mkfifo(tmp_path / name)
    if "cwd" in spec:
        monkeypatch.chdir(fill(spec["cwd"]))
    code, out, err = run_cli(capsys, *[fill(a) for a in spec["args"]])
    assert code == spec.get("exit", 2), err
    if "error" in spec:
        assert out == ""
        assert err.splitlines()[:1] == [fill(spec["error"])]
    if "stdout_starts" in spec:
        assert out.startswith(spec["stdout_starts"]) and err == ""
