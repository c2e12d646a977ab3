"""One rendering layer: every --format a command's help lists works, and a table written to
a file is exactly what the (piped) terminal shows."""

from __future__ import annotations

import re

import pytest

from helpers import TESTS, run_cli
from mncost.views.formats import md_table

TABLE6 = TESTS.parent / "mncost" / "fidelity" / "data" / "mnv4_table6_latency.csv"

# A small, fast configuration of every command that takes --format.
COMMANDS = {
    "analyze": ["analyze", "v1", "-a", "0.25", "-r", "96"],
    "models": ["models"],
    "hardware": ["hardware"],
    "sweep": ["sweep", "--models", "v1,v2", "--alpha", "0.5,1.0", "--hw", "cpu,edgetpu"],
    "ridge": ["ridge", "--models", "v1,v2", "--rp", "0:100:50"],
    "pick": ["pick", "--budget-ms", "5", "--models", "v1,v2,v3-large"],
    "fit": ["fit", str(TABLE6), "--name", "x", "--device", "Pixel 6 CPU", "--no-select"],
}
TABLE_TO_FILE = ("analyze", "models", "hardware", "sweep", "ridge", "pick")


def listed_formats(capsys: pytest.CaptureFixture[str], command: str) -> list[str]:
    code, out, _ = run_cli(capsys, command, "--help")
    assert code == 0
    match = re.search(r"--format \[([a-z|]+)\]", out)
    assert match, f"{command} --help lists no formats"
    return match.group(1).split("|")


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_every_listed_format_is_accepted(capsys, command):
    formats = listed_formats(capsys, command)
    assert "table" in formats and "json" in formats
    for fmt in formats:
        code, out, err = run_cli(capsys, *COMMANDS[command], "--format", fmt)
        assert code == 0, (fmt, err)
        assert out.strip(), fmt


def test_fit_does_not_list_csv(capsys):
    assert listed_formats(capsys, "fit") == ["table", "md", "json"]


@pytest.mark.parametrize("command", TABLE_TO_FILE)
def test_a_table_in_a_file_is_what_the_terminal_shows(capsys, tmp_path, command):
    code, shown, _ = run_cli(capsys, *COMMANDS[command], "--format", "table")
    assert code == 0
    target = tmp_path / "table.txt"
    code, out, err = run_cli(capsys, *COMMANDS[command], "--format", "table", "--output", str(target))
    assert (code, out) == (0, "") and err == f"wrote {target}\n"
    written = target.read_text(encoding="utf-8")
    if command in ("sweep", "pick"):  # the terminal shows the top rows; the file may show every row
        assert written.splitlines()[0] == shown.splitlines()[0]
    else:
        assert written == shown


def test_md_table_keeps_escaped_pipes_and_escapes_bare_ones():
    text = md_table(["a", "b"], [["x\\|y", "p|q"]])
    assert text.splitlines()[2] == "| x\\|y | p\\|q |"


@pytest.mark.parametrize("command", ["sweep", "ridge"])
def test_terminal_and_markdown_show_the_same_tables(capsys, command):
    # One view model per table: each markdown table row appears, cell for cell, as a
    # row of the terminal table.
    code, md, _ = run_cli(capsys, *COMMANDS[command], "--format", "md")
    assert code == 0
    code, text, _ = run_cli(capsys, *COMMANDS[command])
    assert code == 0
    md_rows = [[c.strip() for c in line.strip("|").split("|")] for line in md.splitlines() if line.startswith("|") and "---" not in line]
    term_rows = [[c.strip() for c in re.split(r"[│┃]", line)[1:-1]] for line in text.splitlines() if line.startswith(("│", "┃"))]
    assert len(md_rows) > 3
    assert all(row in term_rows for row in md_rows)
