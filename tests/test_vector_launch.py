"""The light entry point (mncost.launch) answers analyze exactly as the full CLI does; the
directly drawn table is rich's; the on-disk cache of parsed built-ins is invalidated."""

from __future__ import annotations

import dataclasses
import io
import os
import subprocess
import sys

import pytest
from rich.console import Console

import mncost
from mncost import builtin, launch
from mncost.cli import main as full_main
from mncost.hardware import Refinements, load_hardware
from mncost.render import rich_table, table_text

from helpers import REPO, TESTS

CASES = [
    ["analyze", "v3-large", "--hw", "edgetpu"],
    ["analyze", "v1-cifar", "-H", "cpu", "-f", "JSON"],
    ["analyze", "v2", "--alpha", "0.75", "-r", "160", "--format", "md"],
    ["analyze", "--format=csv", "v3-small", "--width-rule", "paper", "--batch", "4"],
    ["analyze", "v4-hybrid-m", "--fused-attention", "--include-bn-params", "--rho", "1.5"],
    ["analyze", "v2", "--profile-dtypes", "-f", "csv"],  # a spec states no dtypes: the same numbers
    ["analyze", "v2", "--alpha", "0"],  # a library error
    ["analyze", "nope"],
    ["analyze", "v2", "--width-rule", "nope"],
    ["analyze", "v2", "--resolution", "2"],  # shrinks to nothing
]
FALLBACKS = [
    [], ["analyze"], ["analyze", "--help"], ["analyze", "v2", "--alpha", "x"], ["analyze", "v2", "--alpha", "-1"],
    ["analyze", "v2", "v3-large"], ["analyze", "v2", "-a0.5"], ["analyze", "v2", "-a=0.5"], ["analyze", "v2", "--alpha", "1", "--alpha", "2"],
    ["analyze", "v2", "--format", "html"], ["analyze", "v2", "--"], ["analyze", "v2", "--bogus"], ["models"], ["--debug", "analyze", "v2"],
    ["analyze", "v2", "--include-bn-params=1"], ["analyze", "v2", "--hw"],
]


@pytest.mark.parametrize("args", CASES, ids=" ".join)
def test_fast_path_equals_the_full_cli(capsys, args):
    assert launch.parse_analyze(args) is not None
    code = launch.main(args)
    fast = capsys.readouterr()
    full_code = full_main(args)
    full = capsys.readouterr()
    assert (code, fast.out, fast.err) == (full_code, full.out, full.err)


@pytest.mark.parametrize("args", FALLBACKS, ids=" ".join)
def test_anything_unsure_goes_to_the_full_cli(args):
    assert launch.parse_analyze(args) is None


def test_output_file_is_the_same(tmp_path, capsys):
    a, b = tmp_path / "a.md", tmp_path / "b.md"
    assert launch.main(["analyze", "v2", "-o", str(a), "-f", "md"]) == 0
    assert full_main(["analyze", "v2", "-o", str(b), "-f", "md"]) == 0
    assert a.read_text() == b.read_text() and "wrote" in capsys.readouterr().err


def rich_text(result: mncost.AnalysisResult, *, styles: bool, width: int = 160) -> str:
    buffer = io.StringIO()
    Console(file=buffer, width=width, color_system="truecolor" if styles else None, force_terminal=styles, legacy_windows=False).print(rich_table(result))
    return buffer.getvalue()


def results() -> list[mncost.AnalysisResult]:
    refined = dataclasses.replace(load_hardware("edgetpu"), refinements=Refinements(invoke_s=1e-4, overhead_s_per_layer=1e-6, slowdown={"se": 2.0}))
    out = [mncost.analyze(name, hw) for name in builtin.spec_files() for hw in ("cpu", "edgetpu")]
    out += [mncost.analyze("v3-large", hw) for hw in builtin.hardware_files()]
    return out + [mncost.analyze("v3-large", refined), mncost.analyze("v2", "cpu", batch=64, alpha=1.4, resolution=512)]


@pytest.mark.parametrize("styles", [False, True])
def test_drawn_table_is_riches(styles):
    for result in results():
        assert table_text(result, styles=styles) == rich_text(result, styles=styles), result.model


def test_names_from_files_stay_inert_and_odd_ones_go_to_rich(tmp_path):
    base = (REPO / "specs" / "v1-cifar.yaml").read_text()
    spec = tmp_path / "odd.yaml"
    spec.write_text(base.replace("name: v1-cifar", 'name: "[bold]x[/bold]"'))
    result = mncost.analyze(spec, "cpu")
    text = table_text(result)
    assert text is not None and "[bold]x[/bold] on cpu" in text and "\x1b" not in text
    assert text == rich_text(result, styles=False)
    wide = tmp_path / "wide.yaml"
    wide.write_text(base.replace("name: v1-cifar", "name: 模型"))
    assert table_text(mncost.analyze(wide, "cpu")) is None  # rich measures wide characters: let it draw
    narrow = table_text(mncost.analyze("v3-large", "cpu"), width=60)
    assert narrow is None  # rich would squeeze it


def test_cache_is_used_and_invalidated(tmp_path, monkeypatch):
    monkeypatch.setenv("MNCOST_CACHE_DIR", str(tmp_path))
    calls = []

    def load(path, display):
        calls.append(path)
        return {"parsed": path.name}

    path = builtin.spec_files()["v2"]
    builtin._MEMO.clear()
    assert builtin.cached(load, path, "specs/v2.yaml") == {"parsed": "v2.yaml"}
    builtin._MEMO.clear()
    assert builtin.cached(load, path, "specs/v2.yaml") == {"parsed": "v2.yaml"} and len(calls) == 1  # from disk
    builtin._MEMO.clear()
    monkeypatch.setattr(builtin, "package_fingerprint", lambda: "another version of mncost")
    builtin.cached(load, path, "specs/v2.yaml")
    assert len(calls) == 2  # the package changed: parsed again
    for entry in tmp_path.iterdir():
        entry.write_bytes(b"garbage")
    builtin._MEMO.clear()
    builtin.cached(load, path, "specs/v2.yaml")
    assert len(calls) == 3
    builtin._MEMO.clear()
    monkeypatch.setenv("MNCOST_NO_CACHE", "1")
    builtin.cached(load, path, "specs/v2.yaml")
    assert len(calls) == 4
    builtin._MEMO.clear()


def test_fingerprint_follows_the_package_files(tmp_path, monkeypatch):
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "a.py").write_text("x = 1\n")
    monkeypatch.setattr(builtin, "_PACKAGE", package)
    builtin.package_fingerprint.cache_clear()
    before = builtin.package_fingerprint()
    (package / "a.py").write_text("x = 22\n")
    builtin.package_fingerprint.cache_clear()
    assert builtin.package_fingerprint() != before
    builtin.package_fingerprint.cache_clear()


def test_analyze_path_imports_no_heavy_modules(tmp_path):
    code = ("import sys; from mncost.launch import main; main(['analyze', 'v3-large', '--hw', 'edgetpu']); "
            "print(sorted(m for m in ('typer', 'click', 'rich', 'torch', 'numpy', 'pandas', 'matplotlib') if m in sys.modules), file=sys.stderr)")
    env = {**os.environ, "PYTHONPATH": str(REPO), "MNCOST_CACHE_DIR": str(tmp_path)}
    for _ in range(2):  # parse, then from the cache
        proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=TESTS, check=True)
        assert proc.stderr.strip() == "[]"
        assert "v3-large on edgetpu" in proc.stdout
