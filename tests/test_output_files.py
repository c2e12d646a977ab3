"""What ``--output`` and ``--output-dir`` do to the file system (README "Bad input").

Through the CLI, on real files: modes, symbolic and hard links, devices, FIFOs,
sockets, names of 250+ characters, a full and a read-only file system, an
immutable and an unwritable folder, report folders that cannot be replaced, a
report run that loses a race, and real signals sent to a running report.
"""

from __future__ import annotations

import errno
import glob
import os
import shutil
import signal
import socket
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from helpers import REPO, run_cli

LISTING = ("hardware", "--format", "csv")  # a cheap command whose whole output is a file's content
ROOT = os.geteuid() == 0


def listing(capsys: pytest.CaptureFixture[str]) -> str:
    code, out, err = run_cli(capsys, *LISTING)
    assert code == 0, err
    return out


def write(capsys: pytest.CaptureFixture[str], target: Path | str, *args: str) -> tuple[int, str, str]:
    return run_cli(capsys, *(args or LISTING), "--output", str(target))


@pytest.fixture
def umask():
    """Set the umask for one test, then put the old one back."""
    old = os.umask(0o022)
    yield os.umask
    os.umask(old)


# -- regular files: modes, owners --------------------------------------------------------------

@pytest.mark.parametrize("mask,mode", [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_a_new_file_gets_the_usual_mode_under_the_umask(capsys, tmp_path, umask, mask, mode):
    umask(mask)
    code, _, err = write(capsys, tmp_path / "hw.csv")
    assert code == 0, err
    assert stat.S_IMODE((tmp_path / "hw.csv").stat().st_mode) == mode
    assert (tmp_path / "hw.csv").read_text() == listing(capsys)


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o600, 0o664])
def test_an_existing_file_keeps_its_mode(capsys, tmp_path, umask, mode):
    target = tmp_path / "hw.csv"
    target.write_text("old\n")
    target.chmod(mode)
    code, _, err = write(capsys, target)
    assert code == 0, err
    assert stat.S_IMODE(target.stat().st_mode) == mode
    assert target.read_text() == listing(capsys)
    assert [p.name for p in tmp_path.iterdir()] == ["hw.csv"]


@pytest.mark.skipif(not ROOT, reason="only root can give a file to another user")
def test_root_replacing_a_users_file_keeps_its_owner(capsys, tmp_path):
    target = tmp_path / "hw.csv"
    target.write_text("old\n")
    os.chown(target, 65534, 65534)
    assert write(capsys, target)[0] == 0
    assert (target.stat().st_uid, target.stat().st_gid) == (65534, 65534)


# -- links -----------------------------------------------------------------------------------------

def test_a_symlink_is_written_through_and_stays_a_link(capsys, tmp_path):
    (tmp_path / "real.csv").write_text("old\n")
    (tmp_path / "real.csv").chmod(0o640)
    link = tmp_path / "latest.csv"
    link.symlink_to("real.csv")
    code, _, err = write(capsys, link)
    assert code == 0 and err.splitlines() == [f"wrote {link}"]
    assert link.is_symlink() and os.readlink(link) == "real.csv"
    assert (tmp_path / "real.csv").read_text() == listing(capsys)
    assert stat.S_IMODE((tmp_path / "real.csv").stat().st_mode) == 0o640
    assert sorted(p.name for p in tmp_path.iterdir()) == ["latest.csv", "real.csv"]


def test_a_dangling_symlink_creates_its_target(capsys, tmp_path):
    link = tmp_path / "latest.csv"
    link.symlink_to("sub/new.csv")
    (tmp_path / "sub").mkdir()
    assert write(capsys, link)[0] == 0
    assert link.is_symlink() and (tmp_path / "sub" / "new.csv").read_text() == listing(capsys)


def test_a_symlink_loop_is_one_line(capsys, tmp_path):
    (tmp_path / "a").symlink_to("b")
    (tmp_path / "b").symlink_to("a")
    code, out, err = write(capsys, tmp_path / "a")
    assert (code, out) == (2, "")
    assert err.splitlines() == [f"error: {tmp_path / 'a'}: cannot write: Too many levels of symbolic links"]
    assert all(p.is_symlink() for p in tmp_path.iterdir())


def test_a_symlink_to_a_folder_is_refused(capsys, tmp_path):
    (tmp_path / "d").mkdir()
    (tmp_path / "l").symlink_to("d")
    code, _, err = write(capsys, tmp_path / "l")
    assert code == 2 and err.splitlines() == [f"error: {tmp_path / 'l'}: is a directory; expected a file path"]


def test_a_hard_link_is_replaced_at_the_given_name_only(capsys, tmp_path):
    (tmp_path / "a.csv").write_text("old\n")
    os.link(tmp_path / "a.csv", tmp_path / "b.csv")
    assert write(capsys, tmp_path / "a.csv")[0] == 0
    assert (tmp_path / "a.csv").read_text() == listing(capsys)
    assert (tmp_path / "b.csv").read_text() == "old\n"  # the README says so: a rename gives the name a new file
    assert (tmp_path / "a.csv").stat().st_nlink == 1


# -- streams: /dev/stdout, character devices, FIFOs; sockets and block devices refused ----------

def test_dev_stdout_is_this_process_stdout(capsys):
    code, out, err = write(capsys, "/dev/stdout")
    assert code == 0 and out == listing(capsys)
    assert err.splitlines() == ["wrote /dev/stdout"]


def _mknod(path: Path, kind: int, major: int, minor: int) -> None:
    try:
        os.mknod(path, kind | 0o666, os.makedev(major, minor))
    except (PermissionError, OSError) as exc:
        pytest.skip(f"cannot make a device node here: {exc}")


def test_a_character_device_is_written_through_not_replaced(capsys, tmp_path):
    # A private copy of /dev/null (major 1, minor 3): if this rule ever broke, the test
    # would replace its own node, never the machine's /dev/null.
    null = tmp_path / "null"
    _mknod(null, stat.S_IFCHR, 1, 3)
    code, _, err = write(capsys, null, "analyze", "v2", "--format", "csv")
    assert code == 0 and err.splitlines() == [f"wrote {null}"]
    st = null.stat()
    assert stat.S_ISCHR(st.st_mode) and st.st_rdev == os.makedev(1, 3)
    assert [p.name for p in tmp_path.iterdir()] == ["null"]


def test_a_fifo_is_written_through_to_its_reader(capsys, tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()), daemon=True)
    reader.start()
    # If the writer never opened the FIFO, this unblocks the reader after 30 s instead of hanging.
    watchdog = threading.Timer(30, lambda: os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)))
    watchdog.start()
    try:
        code, _, err = write(capsys, fifo)
        reader.join(60)
    finally:
        watchdog.cancel()
    assert code == 0, err
    assert got == [listing(capsys).encode()]
    assert stat.S_ISFIFO(fifo.lstat().st_mode)
    assert [p.name for p in tmp_path.iterdir()] == ["pipe"]


def test_a_fifo_without_reader_waits_and_a_signal_ends_the_wait(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    proc = _mncost(tmp_path, *LISTING, "--output", "pipe")
    wchan = Path(f"/proc/{proc.pid}/wchan")
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        # Linux names where the process sleeps: in open(), waiting for the FIFO's reader
        if not wchan.exists() or wchan.read_text() == "wait_for_partner":
            break
        time.sleep(0.01)
    if not wchan.exists():
        time.sleep(3)  # no /proc: time enough to reach open() on any machine this runs on
    assert proc.poll() is None, proc.communicate()
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=60)
    assert (proc.returncode, out, err.splitlines()) == (143, "", ["error: interrupted by SIGTERM"])
    assert stat.S_ISFIFO(fifo.lstat().st_mode) and [p.name for p in tmp_path.iterdir()] == ["pipe"]


def test_a_socket_is_refused(capsys, tmp_path):
    path = tmp_path / "sock"
    server = socket.socket(socket.AF_UNIX)
    try:
        server.bind(str(path))
        code, _, err = write(capsys, path)
    finally:
        server.close()
    assert code == 2
    assert err.splitlines() == [f"error: {path}: is a socket; mncost writes regular files, character devices (such as /dev/null) and FIFOs"]
    assert stat.S_ISSOCK(path.lstat().st_mode)


def test_a_block_device_is_refused(capsys, tmp_path):
    node = tmp_path / "disk"
    _mknod(node, stat.S_IFBLK, 7, 250)  # a loop device number; the node is never opened
    code, _, err = write(capsys, node)
    assert code == 2
    assert err.splitlines() == [f"error: {node}: is a block device; mncost writes regular files, character devices (such as /dev/null) and FIFOs"]
    assert stat.S_ISBLK(node.lstat().st_mode)


# -- names -----------------------------------------------------------------------------------------

FILE_WRITERS = [
    ("analyze", "v2"),
    ("sweep", "--models", "v2", "--hw", "cpu"),
    ("ridge",),
    ("models",),
    ("hardware",),
    ("crosscheck", "v2"),
    ("bench", "v2"),
    ("fit", str(REPO / "mncost" / "fidelity" / "data" / "mnv4_table6_latency.csv"), "--name", "x", "--device", "Pixel 6 CPU"),
    ("calibrate",),
    ("fidelity", "paper"),
    ("pick", "--budget-ms", "10"),
]


@pytest.mark.parametrize("command", FILE_WRITERS, ids=lambda c: c[0] if c[0] != "fidelity" else "fidelity-paper")
def test_a_trailing_slash_names_a_folder_in_every_command(capsys, tmp_path, command):
    code, out, err = run_cli(capsys, *command, "--output", f"{tmp_path}/newdir/")
    assert (code, out) == (2, "")
    assert err.splitlines() == [f"error: {tmp_path}/newdir/: ends in '/', so it names a folder, and there is no such folder; give a file path"]
    code, _, err = run_cli(capsys, *command, "--output", f"{tmp_path}/")
    assert code == 2 and err.splitlines() == [f"error: {tmp_path}/: is a directory; expected a file path"]
    assert list(tmp_path.iterdir()) == []


def test_a_250_character_name_is_written(capsys, tmp_path):
    # The temporary name is short and fixed, so it never makes a valid name too long.
    for n in (250, 255):
        target = tmp_path / ("n" * (n - 4) + ".csv")
        assert write(capsys, target)[0] == 0
        assert target.read_text() == listing(capsys)
    assert sorted(len(p.name) for p in tmp_path.iterdir()) == [250, 255]


def test_a_name_over_255_bytes_is_one_line(capsys, tmp_path):
    target = tmp_path / ("n" * 256)
    code, _, err = write(capsys, target)
    assert code == 2 and err.splitlines() == [f"error: {target}: file name too long: 256 bytes, at most 255 here"]
    code, _, err = run_cli(capsys, "report", "v2", "--output-dir", str(target))
    assert code == 2 and err.splitlines() == [f"error: {target}: file name too long: 256 bytes, at most 255 here"]
    assert list(tmp_path.iterdir()) == []


def test_a_report_folder_of_250_characters(capsys, tmp_path, umask):
    folder = tmp_path / ("r" * 250)
    code, _, err = run_cli(capsys, "report", "--ridge", "--models", "v2", "--output-dir", str(folder))
    assert code == 0, err
    assert [p.name for p in tmp_path.iterdir()] == [folder.name]
    assert stat.S_IMODE(folder.stat().st_mode) == 0o755  # the usual folder mode, not mkdtemp's 0700
    assert stat.S_IMODE((folder / "report.md").stat().st_mode) == 0o644


# -- full, read-only, immutable, unwritable ----------------------------------------------------

@pytest.fixture
def tmpfs(tmp_path):
    """A 256 KiB tmpfs of our own (root only; skipped where mounting is not allowed)."""
    if not ROOT or shutil.which("mount") is None:
        pytest.skip("mounting a tmpfs needs root and mount(8)")
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k,mode=0755", "tmpfs", str(mnt)], capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], check=False)


def _fill(mnt: Path) -> None:
    fd = os.open(mnt / "filler", os.O_WRONLY | os.O_CREAT, 0o644)
    try:
        while True:
            os.write(fd, b"\0" * 4096)
    except OSError as exc:
        assert exc.errno == errno.ENOSPC
    finally:
        os.close(fd)


FULL_DISK_WRITERS = [
    ("analyze", "v2", "--format", "csv"),
    ("sweep", "--models", "v2", "--hw", "cpu", "--format", "json"),
    ("sweep", "--models", "v2", "--hw", "cpu", "--format", "csv"),  # streamed in pieces
    ("ridge", "--format", "md"),
    ("models", "--format", "csv"),
    ("hardware", "--format", "json"),
    ("pick", "--budget-ms", "10", "--hw", "cpu", "--format", "csv"),
]


def test_a_full_disk_leaves_the_old_file_and_nothing_else(capsys, tmpfs):
    target = tmpfs / "out.txt"
    target.write_text("old complete result\n")
    _fill(tmpfs)
    for command in FULL_DISK_WRITERS:
        code, out, err = run_cli(capsys, *command, "--output", str(target))
        assert (code, out) == (2, ""), command
        assert err.splitlines() == [f"error: {target}: cannot write: No space left on device"], command
        assert target.read_text() == "old complete result\n"
        assert sorted(p.name for p in tmpfs.iterdir()) == ["filler", "out.txt"]


def test_a_full_disk_fails_fit_cleanly(capsys, tmpfs):
    pytest.importorskip("scipy")
    _fill(tmpfs)
    code, _, err = run_cli(capsys, *FILE_WRITERS[7], "--output", str(tmpfs / "fit.yaml"))
    assert code == 2 and err.splitlines() == [f"error: {tmpfs / 'fit.yaml'}: cannot write: No space left on device"]
    assert [p.name for p in tmpfs.iterdir()] == ["filler"]


def test_a_full_disk_leaves_no_report_folder(capsys, tmpfs):
    _fill(tmpfs)
    code, _, err = run_cli(capsys, "report", "v2", "--output-dir", str(tmpfs / "rep"))
    assert code == 2 and err.splitlines() == [f"error: {tmpfs / 'rep'}: cannot write: No space left on device"]
    assert [p.name for p in tmpfs.iterdir()] == ["filler"]


def test_a_mount_point_is_not_a_report_folder(capsys, tmpfs):
    for force in ((), ("--force",)):
        code, _, err = run_cli(capsys, "report", "v2", "--output-dir", str(tmpfs), *force)
        assert code == 2 and err.splitlines() == [f"error: {tmpfs}: is a mount point, which cannot be replaced whole; name a folder inside it"]


def test_a_read_only_file_system(capsys, tmpfs):
    (tmpfs / "out.csv").write_text("old\n")
    subprocess.run(["mount", "-o", "remount,ro", str(tmpfs)], check=True)
    code, _, err = write(capsys, tmpfs / "out.csv")
    assert code == 2 and err.splitlines() == [f"error: {tmpfs / 'out.csv'}: cannot write: Read-only file system"]
    code, _, err = run_cli(capsys, "report", "v2", "--output-dir", str(tmpfs / "rep"))
    assert code == 2 and err.splitlines() == [f"error: {tmpfs / 'rep'}: cannot write: Read-only file system"]
    assert (tmpfs / "out.csv").read_text() == "old\n"


def test_an_immutable_folder(capsys, tmp_path):
    if not ROOT or shutil.which("chattr") is None:
        pytest.skip("chattr +i needs root")
    folder = tmp_path / "frozen"
    folder.mkdir()
    (folder / "out.csv").write_text("old\n")
    if subprocess.run(["chattr", "+i", str(folder)], capture_output=True).returncode != 0:
        pytest.skip("this file system has no immutable flag")
    try:
        code, _, err = write(capsys, folder / "out.csv")
        assert code == 2 and err.splitlines() == [f"error: {folder / 'out.csv'}: cannot write: Operation not permitted"]
        code, _, err = run_cli(capsys, "report", "v2", "--output-dir", str(folder / "rep"))
        assert code == 2 and err.splitlines() == [f"error: {folder / 'rep'}: cannot write: Operation not permitted"]
    finally:
        subprocess.run(["chattr", "-i", str(folder)], check=True)
    assert [p.name for p in folder.iterdir()] == ["out.csv"] and (folder / "out.csv").read_text() == "old\n"


@pytest.fixture
def public_tmp():
    """A temporary folder other users can enter (pytest's own are private to root)."""
    import tempfile

    path = Path(tempfile.mkdtemp(prefix="mncost-test-"))
    path.chmod(0o755)
    try:
        yield path
    finally:
        for sub in path.rglob("*"):
            if sub.is_dir() and not sub.is_symlink():
                sub.chmod(0o755)
        shutil.rmtree(path)


def test_permission_denied(capsys, public_tmp):
    folder = public_tmp / "locked"
    folder.mkdir()
    (folder / "out.csv").write_text("old\n")
    folder.chmod(0o555)
    expected = [f"error: {folder / 'out.csv'}: cannot write: Permission denied"]
    listing(capsys)  # import everything the command needs while we still can read it all
    if not ROOT:
        code, _, err = write(capsys, folder / "out.csv")
    else:  # root may write anywhere: act as nobody for the one command
        for parent in public_tmp.parents:
            if not os.stat(parent).st_mode & stat.S_IXOTH:
                pytest.skip(f"{parent} cannot be entered by another user")
        os.setegid(65534)
        os.seteuid(65534)
        try:
            code, _, err = write(capsys, folder / "out.csv")
        finally:
            os.seteuid(0)
            os.setegid(0)
    folder.chmod(0o755)
    assert code == 2 and err.splitlines() == expected
    assert [p.name for p in folder.iterdir()] == ["out.csv"] and (folder / "out.csv").read_text() == "old\n"


# -- report folders --------------------------------------------------------------------------------

@pytest.mark.parametrize("name", [".", "sub/..", "..", "/"])
@pytest.mark.parametrize("force", [False, True])
def test_report_into_dot_or_dotdot_is_one_line(capsys, tmp_path, monkeypatch, name, force):
    (tmp_path / "sub").mkdir()
    (tmp_path / "keep.txt").write_text("mine")
    monkeypatch.chdir(tmp_path)
    code, _, err = run_cli(capsys, "report", "v2", "--output-dir", name, *(["--force"] if force else []))
    assert code == 2
    assert err.splitlines() == [f"error: {name}: ends in '.' or '..' (or is '/'), a folder that cannot be replaced whole; name a new folder (for example ./report)"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.txt", "sub"]


def test_report_into_a_folder_holding_the_current_one(capsys, tmp_path, monkeypatch):
    (tmp_path / "a" / "b").mkdir(parents=True)
    monkeypatch.chdir(tmp_path / "a" / "b")
    code, _, err = run_cli(capsys, "report", "v2", "--output-dir", str(tmp_path / "a"), "--force")
    assert code == 2 and err.splitlines() == [f"error: {tmp_path / 'a'}: contains the current folder, which cannot be replaced whole; name a new folder"]
    assert (tmp_path / "a" / "b").is_dir()


def test_report_through_a_symlink_replaces_the_target(capsys, tmp_path):
    (tmp_path / "runs" / "old").mkdir(parents=True)
    (tmp_path / "runs" / "old" / "notes.txt").write_text("mine")
    link = tmp_path / "latest"
    link.symlink_to("runs/old")
    code, _, err = run_cli(capsys, "report", "--ridge", "--models", "v2", "--output-dir", str(link))
    assert code == 2 and err.splitlines() == [f"error: {link}: exists and is not empty; use --force to replace it"]
    code, _, err = run_cli(capsys, "report", "--ridge", "--models", "v2", "--output-dir", str(link), "--force")
    assert code == 0, err
    assert link.is_symlink() and os.readlink(link) == "runs/old"
    assert "report.md" in {p.name for p in (tmp_path / "runs" / "old").iterdir()}
    assert not (tmp_path / "runs" / "old" / "notes.txt").exists()
    assert [p.name for p in (tmp_path / "runs").iterdir()] == ["old"]  # no staging or backup left


def test_force_without_an_atomic_swap_still_replaces_whole(capsys, tmp_path, monkeypatch):
    """Where renameat2's exchange is missing, --force moves the old folder aside, then removes it."""
    from mncost import output

    monkeypatch.setattr(output, "_exchange", lambda a, b: False)
    rep = tmp_path / "rep"
    rep.mkdir()
    (rep / "notes.txt").write_text("mine")
    code, _, err = run_cli(capsys, "report", "--ridge", "--models", "v2", "--output-dir", str(rep), "--force")
    assert code == 0, err
    assert "report.md" in {p.name for p in rep.iterdir()} and not (rep / "notes.txt").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["rep"]


def test_a_report_run_that_loses_a_race_keeps_the_winner(capsys, tmp_path, monkeypatch):
    """Run B (v1) finishes while run A (v2) is still writing: A must fail, not replace B."""
    from mncost import report

    rep = tmp_path / "rep"
    real = report.model_report
    rival: list[int] = []

    def racing(result, folder, argv):
        real(result, folder, argv)
        if not rival:
            rival.append(0)
            rival[0] = run_cli(capsys, "report", "v1", "--output-dir", str(rep))[0]  # B, start to end

    monkeypatch.setattr(report, "model_report", racing)
    code, _, err = run_cli(capsys, "report", "v2", "--output-dir", str(rep))
    assert rival == [0] and code == 2
    assert err.splitlines() == [f"error: {rep}: was written meanwhile (by another run?) and is not empty; nothing replaced; use --force to replace it"]
    import json

    assert json.loads((rep / "result.json").read_text())["model"] == "v1"
    assert [p.name for p in tmp_path.iterdir()] == ["rep"]


# -- real signals and real concurrent processes ------------------------------------------------

def _mncost(cwd: Path, *args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.Popen([sys.executable, "-m", "mncost", *args], cwd=cwd, env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))  # not ignored as in a background job


def _staging(folder: Path) -> list[str]:
    return [p for p in glob.glob(str(folder / ".mncost-*.tmp")) if os.path.isdir(p)]


@pytest.mark.parametrize("signum,code,line", [
    (signal.SIGTERM, 143, "error: interrupted by SIGTERM"),
    (signal.SIGINT, 130, "error: interrupted"),
    (signal.SIGHUP, 129, "error: interrupted by SIGHUP"),
])
def test_a_signal_mid_report_leaves_nothing(tmp_path, signum, code, line):
    # A sweep report of 60 configurations: its charts take seconds to draw, and the signal
    # goes as soon as the staging folder exists, so it always lands mid-report.
    proc = _mncost(tmp_path, "report", "--sweep", "--alpha", "0.5:1.4:0.1", "--hw", "cpu", "--output-dir", "rep")
    deadline = time.monotonic() + 120
    while not _staging(tmp_path):
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "no staging folder after 120 s"
        time.sleep(0.005)
    proc.send_signal(signum)
    out, err = proc.communicate(timeout=120)
    assert (proc.returncode, out, err.splitlines()) == (code, "", [line])
    assert os.listdir(tmp_path) == []


def test_two_concurrent_reports_one_wins(tmp_path):
    runs = [_mncost(tmp_path, "report", "--ridge", "--models", "v2", "--output-dir", "rep") for _ in range(2)]
    results = sorted((p.communicate(timeout=300)[1], p.returncode)[::-1] for p in runs)
    assert [c for c, _ in results] == [0, 2], results
    assert results[0][1].splitlines() == ["wrote rep/report.md and report.html"]
    assert results[1][1].splitlines()[0] in (
        "error: rep: exists and is not empty; use --force to replace it",
        "error: rep: was written meanwhile (by another run?) and is not empty; nothing replaced; use --force to replace it",
    )
    assert os.listdir(tmp_path) == ["rep"]


# -- text written in pieces (write_atomic_chunks: a streamed sweep CSV) ----------------------------

@pytest.mark.parametrize("failure", [RuntimeError("a bug mid-way"), KeyboardInterrupt()])
def test_a_stream_that_fails_mid_way_leaves_the_old_file_and_nothing_else(tmp_path, failure):
    from mncost.output import write_atomic_chunks

    target = tmp_path / "out.csv"
    target.write_text("old complete result\n")
    written = []

    def pieces():
        yield "a,b\n"
        written.append(True)
        assert any(p.name.startswith(".mncost-") for p in tmp_path.iterdir())  # the first piece is in the temporary
        raise failure

    with pytest.raises(type(failure)):
        write_atomic_chunks(target, pieces())
    assert written and target.read_text() == "old complete result\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.csv"]


def test_pieces_follow_the_file_rules(tmp_path, umask):
    from mncost.output import write_atomic_chunks

    umask(0o077)
    real = tmp_path / "real.csv"
    real.write_text("old\n")
    os.chmod(real, 0o640)
    link = tmp_path / "link.csv"
    link.symlink_to(real)
    write_atomic_chunks(link, (f"{i}\n" for i in range(3)))
    assert link.is_symlink() and real.read_text() == "0\n1\n2\n" and stat.S_IMODE(real.stat().st_mode) == 0o640
    fresh = tmp_path / "new.csv"
    write_atomic_chunks(fresh, iter(["x", "é\n"]))
    assert fresh.read_bytes() == "xé\n".encode() and stat.S_IMODE(fresh.stat().st_mode) == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link.csv", "new.csv", "real.csv"]
