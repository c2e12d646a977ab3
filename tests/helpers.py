"""Shared test helpers."""

from __future__ import annotations

from pathlib import Path

import pytest

from mncost.cli import main

TESTS = Path(__file__).resolve().parent
REPO = TESTS.parent


def run_cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """Run ``mncost ARGS`` in-process; return (exit code, stdout, stderr)."""
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def expected_error(path: Path) -> str:
    """The ``# error: ...`` first line of a bad-input fixture, with {file} filled in."""
    first = path.read_text(encoding="utf-8", errors="replace").splitlines()[0]
    assert first.startswith("# error: "), f"{path.name} lacks its '# error:' line"
    return "error: " + first[len("# error: ") :].replace("{file}", str(path))
