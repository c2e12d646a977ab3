"""The cache of whole analyze answers (mncost.answer_cache): the same bytes as computing
them, used only for built-in names, invalidated when a file of mncost changes, off with
MNCOST_NO_CACHE, and harmless when the cache folder cannot be written."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from helpers import REPO, TESTS
from mncost import answer_cache, launch
from mncost.cli import main as full_main

TABLE = ["analyze", "v3-large", "--hw", "edgetpu"]
JSON = ["analyze", "v3-large", "--hw", "edgetpu", "--format", "json"]


def entries(root) -> list:
    folder = root / "answers"
    return sorted(folder.iterdir()) if folder.is_dir() else []


def run(capsys, args):
    code = launch.main(args)
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.delenv("MNCOST_NO_CACHE", raising=False)
    for name in ("FORCE_COLOR", "NO_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE", "COLUMNS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("MNCOST_CACHE_DIR", str(tmp_path))
    return tmp_path


@pytest.mark.parametrize("args", [TABLE, JSON, ["analyze", "v2", "-a", "0.75", "-r", "160", "-f", "md"], ["analyze", "v3-small", "-f", "csv", "--batch", "4"]], ids=" ".join)
def test_a_cached_answer_is_byte_identical(cache, capsys, args):
    full = (full_main(args), capsys.readouterr())
    first = run(capsys, args)  # computes and stores
    assert len(entries(cache)) == 1
    second = run(capsys, args)  # from the cache
    assert first == second == (full[0], full[1].out, full[1].err) and first[0] == 0 and first[1]


def test_the_answer_really_comes_from_the_entry(cache, capsys):
    run(capsys, JSON)
    (entry,) = entries(cache)
    key, _, _ = entry.read_bytes().partition(b"\0")
    entry.write_bytes(key + b"\0planted\n")
    assert run(capsys, JSON) == (0, "planted\n", "")
    entry.write_bytes(b"another key\0planted\n")  # a key that does not match is a miss
    code, out, _ = run(capsys, JSON)
    assert code == 0 and out.startswith("{") and '"v3-large"' in out


def test_a_changed_spec_file_invalidates(cache, capsys, tmp_path_factory, monkeypatch):
    folder = tmp_path_factory.mktemp("specs")
    spec = folder / "v3-large.yaml"
    spec.write_text("one")
    monkeypatch.setattr(answer_cache, "_builtin_folders", lambda: [str(folder)])
    before = answer_cache.analyze_key(launch.parse_analyze(JSON), sys.stdout)
    spec.write_text("changed")
    after = answer_cache.analyze_key(launch.parse_analyze(JSON), sys.stdout)
    assert before is not None and after is not None and before != after
    # and the real folders are in the fingerprint, with every module of the package
    monkeypatch.undo()
    printed = answer_cache.fingerprint()
    assert str(REPO / "specs" / "v3-large.yaml") in printed and str(REPO / "hardware" / "edgetpu.yaml") in printed
    assert str(REPO / "mncost" / "render.py") in printed


def test_a_changed_package_is_a_miss_end_to_end(cache, capsys, monkeypatch):
    run(capsys, JSON)
    (entry,) = entries(cache)
    key, _, _ = entry.read_bytes().partition(b"\0")
    entry.write_bytes(key + b"\0planted\n")
    monkeypatch.setattr(answer_cache, "fingerprint", lambda: "another version of mncost")
    code, out, _ = run(capsys, JSON)
    assert code == 0 and out != "planted\n" and '"v3-large"' in out
    assert entries(cache) == [entry] and b"another version of mncost" in entry.read_bytes()  # the stale answer was replaced


def test_the_folder_keeps_at_most_max_entries(cache, capsys, monkeypatch):
    monkeypatch.setattr(answer_cache, "MAX_ENTRIES", 5)
    folder = cache / "answers"
    folder.mkdir()
    for i in range(5):
        (folder / f"old{i}.txt").write_text("x")
        os.utime(folder / f"old{i}.txt", ns=(10**9 * i, 10**9 * i))
    run(capsys, JSON)  # the sixth entry: the oldest go, down to 4
    names = sorted(p.name for p in folder.iterdir())
    assert len(names) == 4 and "old0.txt" not in names and "old1.txt" not in names and "old4.txt" in names
    assert run(capsys, JSON)[1].startswith("{")


def test_warning_options_are_part_of_the_question(cache, monkeypatch):
    before = answer_cache.analyze_key(launch.parse_analyze(JSON), sys.stdout)
    monkeypatch.setattr(sys, "warnoptions", ["ignore"])
    assert answer_cache.analyze_key(launch.parse_analyze(JSON), sys.stdout) != before


def test_no_cache_turns_it_off(cache, capsys, monkeypatch):
    monkeypatch.setenv("MNCOST_NO_CACHE", "1")
    first = run(capsys, TABLE)
    assert entries(cache) == [] and answer_cache.analyze_key(launch.parse_analyze(TABLE), sys.stdout) is None
    monkeypatch.delenv("MNCOST_NO_CACHE")
    run(capsys, TABLE)
    (entry,) = entries(cache)
    key, _, _ = entry.read_bytes().partition(b"\0")
    entry.write_bytes(key + b"\0planted\n")
    monkeypatch.setenv("MNCOST_NO_CACHE", "1")
    assert run(capsys, TABLE) == first and first[1].startswith("v3-large on edgetpu")


def test_an_unwritable_cache_folder_changes_nothing(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    env = {**os.environ, "PYTHONPATH": str(REPO), "MNCOST_CACHE_DIR": str(blocker / "cache")}
    env.pop("MNCOST_NO_CACHE", None)
    plain = subprocess.run([sys.executable, "-m", "mncost", *TABLE], capture_output=True, text=True, env={**env, "MNCOST_NO_CACHE": "1"}, cwd=TESTS, check=False)
    for _ in range(2):
        proc = subprocess.run([sys.executable, "-m", "mncost", *TABLE], capture_output=True, text=True, env=env, cwd=TESTS, check=False)
        assert (proc.returncode, proc.stdout, proc.stderr) == (0, plain.stdout, "") and plain.returncode == 0
    assert blocker.read_text() == "not a folder"


def test_files_outputs_and_errors_are_never_cached(cache, capsys, tmp_path_factory):
    out = tmp_path_factory.mktemp("out") / "a.json"
    assert run(capsys, [*JSON, "-o", str(out)])[0] == 0 and out.read_text().startswith("{")
    assert run(capsys, ["analyze", str(REPO / "specs" / "v2.yaml")])[0] == 0  # a file path: may change behind any key
    assert run(capsys, ["analyze", "v2", "--hw", str(REPO / "hardware" / "cpu.yaml")])[0] == 0
    assert run(capsys, ["analyze", "nope"])[0] == 2
    assert run(capsys, ["analyze", "v2", "--alpha", "0"])[0] == 2
    assert entries(cache) == []


def test_a_table_rich_must_draw_is_not_cached(cache, monkeypatch):
    monkeypatch.setenv("COLUMNS", "100")
    assert answer_cache.analyze_key(launch.parse_analyze(TABLE), sys.stdout) is None
    assert answer_cache.analyze_key(launch.parse_analyze(JSON), sys.stdout) is not None  # json ignores the console


def test_a_hit_imports_none_of_the_analysis(cache):
    code = ("import sys; from mncost.launch import main; main(['analyze', 'v3-large', '--hw', 'edgetpu']); "
            "print(sorted(m for m in sys.modules if m.startswith('mncost.') or m in ('yaml', 'rich', 'typer')), file=sys.stderr)")
    env = {**os.environ, "PYTHONPATH": str(REPO), "MNCOST_CACHE_DIR": str(cache)}
    env.pop("MNCOST_NO_CACHE", None)
    runs = [subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=TESTS, check=True) for _ in range(2)]
    assert "mncost.analysis" in runs[0].stderr  # computed
    assert runs[1].stderr.strip() == "['mncost.answer_cache', 'mncost.builtin', 'mncost.console', 'mncost.errors', 'mncost.launch']"
    assert runs[0].stdout == runs[1].stdout and runs[1].stdout.startswith("v3-large on edgetpu")
    for entry in entries(cache):  # asked anew: walked again, from the parsed built-ins, without the YAML parser
        entry.unlink()
    again = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=TESTS, check=True)
    assert "mncost.analysis" in again.stderr and "'yaml'" not in again.stderr and "'yaml'" in runs[0].stderr
    assert again.stdout == runs[0].stdout
