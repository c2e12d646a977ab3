"""Where results are written: file rules, atomic replacement, interruption, I/O errors.

Every command that writes goes through ``write_atomic`` (one file; ``write_atomic_chunks``
when the text comes in pieces) or ``write_folder_atomic`` (a report folder), after an early ``check_writable`` /
``check_report_folder`` so that a bad target fails before any work. The rules:

- A regular file (or a new name) is written to a short temporary name beside it,
  then renamed over it: readers see the old content or the new, never a part.
  A new file gets the usual mode under the umask; an existing one keeps its mode
  (and, where allowed, its owner).
- A symbolic link is written through: its target is replaced, the link stays.
  A hard link is not followed: the given name gets a new file, other names keep
  the old content (that is what a rename does).
- An open stream is written through, never replaced: ``/dev/stdout``,
  ``/dev/stderr`` and ``/dev/fd/N`` are this process's descriptors; a character
  device (``/dev/null``) or a FIFO is opened and written (a FIFO waits for its reader).
  A block device, a socket or a directory is refused.
- A report folder is new, empty, or (with ``--force``) replaced whole; a run that
  loses a race to another never replaces what the other wrote.
- SIGINT, SIGTERM and SIGHUP become ``Interrupted`` (so every temporary is
  removed), and any OSError on the way is one line naming the path and the reason.
"""

from __future__ import annotations

import errno
import os
import re
import signal
import stat
import sys
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from .errors import OutputError


# -- interruption ------------------------------------------------------------------------------

_CAUGHT = ("SIGINT", "SIGTERM", "SIGHUP")


class Interrupted(BaseException):
    """A signal asked the run to stop. A BaseException, as KeyboardInterrupt is, so that no
    ``except Exception`` swallows it and every cleanup on the way out runs."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum
        self.exit_code = 128 + signum  # the shell's convention for a death by signal

    def __str__(self) -> str:
        name = signal.Signals(self.signum).name
        return "interrupted" if name == "SIGINT" else f"interrupted by {name}"


def _raise_interrupted(signum: int, frame: object) -> None:
    raise Interrupted(signum)


@contextmanager
def interrupt_on_signals() -> Iterator[None]:
    """While inside, SIGINT/SIGTERM/SIGHUP raise ``Interrupted``; the old handlers come back after.

    A signal that was ignored when the process started (``nohup``, a background job's
    SIGINT) stays ignored. Outside the main thread Python cannot set handlers: no-op.
    """
    previous: dict[int, object] = {}
    if threading.current_thread() is threading.main_thread():
        for name in _CAUGHT:
            signum = getattr(signal, name, None)
            if signum is None or signal.getsignal(signum) is signal.SIG_IGN:
                continue
            previous[signum] = signal.signal(signum, _raise_interrupted)
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)  # type: ignore[arg-type]


@contextmanager
def _signals_deferred() -> Iterator[None]:
    """Hold the caught signals while a rename or a cleanup runs, so neither is cut in half;
    a signal that came meanwhile is delivered on leaving."""
    signums = {getattr(signal, n) for n in _CAUGHT if hasattr(signal, n)}
    old = signal.pthread_sigmask(signal.SIG_BLOCK, signums)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


# -- I/O errors ----------------------------------------------------------------------------------

# Errors of the machine or of the user's paths, not of mncost: a full disk, a quota, a
# read-only or busy mount, permissions, names too long, link loops, a missing folder.
USER_ERRNOS = frozenset(
    getattr(errno, name)
    for name in ("ENOSPC", "EDQUOT", "EFBIG", "EROFS", "EACCES", "EPERM", "ENAMETOOLONG", "ELOOP", "ENOENT",
                 "ENOTDIR", "EISDIR", "EEXIST", "ENOTEMPTY", "EBUSY", "EXDEV", "EIO", "ETXTBSY", "ENXIO", "EMLINK", "EBADF")
    if hasattr(errno, name)
)


def os_error_message(exc: OSError, path: str | os.PathLike[str] | None = None) -> str | None:
    """``PATH: reason`` for an OSError caused by the environment; None for anything else (a bug)."""
    if exc.errno not in USER_ERRNOS:
        return None
    where = os.fspath(path) if path is not None else exc.filename
    reason = exc.strerror or os.strerror(exc.errno or 0)
    return f"{where}: {reason}" if where else reason


def _output_error(exc: OSError, path: str | os.PathLike[str], what: str = "cannot write") -> OutputError | OSError:
    if exc.errno not in USER_ERRNOS:
        return exc
    return OutputError(f"{what}: {exc.strerror or os.strerror(exc.errno or 0)}", file=os.fspath(path))


# -- what a path names ---------------------------------------------------------------------------

_DESCRIPTOR = re.compile(r"/dev/(stdin|stdout|stderr|fd/(\d+))|/proc/(self|%d)/fd/(\d+)" % os.getpid())
_STD = {"stdin": 0, "stdout": 1, "stderr": 2}
_LINK_HOPS = 40  # as the kernel's own limit on links in one lookup


def _descriptor(path: Path) -> int | None:
    """The descriptor that ``path`` names (/dev/stdout, /dev/fd/N, /proc/self/fd/N, or a link
    to one), else None: such a name is an open stream of this process, not a file to replace."""
    p = os.path.abspath(path)
    for _ in range(_LINK_HOPS):
        match = _DESCRIPTOR.fullmatch(p)
        if match:
            if match.group(1) in _STD:
                return _STD[match.group(1)]
            return int(match.group(2) or match.group(4))
        if not os.path.islink(p):
            return None
        p = os.path.normpath(os.path.join(os.path.dirname(p), os.readlink(p)))
    return None


def output_path(raw: str | Path) -> Path:
    """Command-line parser of ``--output FILE``: a name ending in '/' is a folder, never a file.

    It sees the text as typed; pathlib would drop the '/'.
    """
    if not isinstance(raw, str):
        return Path(raw)  # a default value
    if raw.endswith(("/", os.sep)) and raw.strip("/"):
        if os.path.isdir(raw):
            raise OutputError("is a directory; expected a file path", file=raw)
        raise OutputError("ends in '/', so it names a folder, and there is no such folder; give a file path", file=raw)
    return Path(raw)


def _parent(path: Path) -> Path:
    return path.parent if str(path.parent) else Path(".")


def _kind(mode: int) -> str | None:
    """Why an existing non-regular file cannot be written, or None if it can be written through."""
    if stat.S_ISDIR(mode):
        return "is a directory; expected a file path"
    if stat.S_ISBLK(mode):
        return "is a block device; mncost writes regular files, character devices (such as /dev/null) and FIFOs"
    if stat.S_ISSOCK(mode):
        return "is a socket; mncost writes regular files, character devices (such as /dev/null) and FIFOs"
    if stat.S_ISREG(mode) or stat.S_ISCHR(mode) or stat.S_ISFIFO(mode):
        return None
    return "is not a regular file"


def _check_name(path: Path, parent: Path) -> None:
    name = os.fsencode(path.name)
    try:
        limit = os.pathconf(parent, "PC_NAME_MAX")
    except (OSError, ValueError):
        limit = 255
    if limit and len(name) > limit:
        raise OutputError(f"file name too long: {len(name)} bytes, at most {limit} here", file=str(path))


def _probe(parent: Path, shown: Path) -> None:
    """Create and remove a temporary file in ``parent``: the real answer to "can I write here",
    for root too (os.access says yes to root on an immutable folder or a full quota)."""
    if not parent.is_dir():
        if parent.exists():
            raise OutputError(f"{str(parent)!r} is not a directory", file=str(shown))
        raise OutputError(f"directory {str(parent)!r} does not exist", file=str(shown))
    with _signals_deferred():  # an interrupt cannot fall between the creation and the removal
        try:
            fd, tmp = _create_temp(parent)
        except OSError as exc:
            raise _output_error(exc, shown) from None
        os.close(fd)
        os.unlink(tmp)
    if not os.access(parent, os.W_OK | os.X_OK):  # the real user id may not (a set-user-id run)
        raise OutputError(f"directory {str(parent)!r} is not writable", file=str(shown))


def _resolve(path: Path) -> tuple[Path, os.stat_result | None]:
    """The file a write to ``path`` lands in (symbolic links followed) and its stat, if it exists."""
    try:
        st = os.stat(path)  # follows links: ELOOP and "is a directory behind a link" show here
    except FileNotFoundError:
        st = None
    except OSError as exc:
        raise _output_error(exc, path) from None
    target = Path(os.path.realpath(path)) if os.path.islink(path) else path
    return target, st


def check_writable(path: Path) -> None:
    """Fail early, before any work, if ``path`` cannot be written."""
    if _descriptor(path) is not None:
        return
    _check_name(path, _parent(path))
    target, st = _resolve(path)
    if st is not None:
        problem = _kind(st.st_mode)
        if problem:
            raise OutputError(problem, file=str(path))
        if not stat.S_ISREG(st.st_mode):
            return  # a stream: written through at the end
    _check_name(target, _parent(target))
    _probe(_parent(target), path)


# -- one file ------------------------------------------------------------------------------------

def _temp_name(parent: Path, suffix: str) -> Path:
    # Short and fixed-length, so that any name the folder accepts can be written.
    return parent / f".mncost-{os.urandom(4).hex()}{suffix}"


def _create_temp(parent: Path) -> tuple[int, Path]:
    for _ in range(100):
        tmp = _temp_name(parent, ".tmp")
        try:
            # mode 0666 under the umask: the mode any new file gets (mkstemp's 0600 is for secrets)
            return os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o666), tmp
        except FileExistsError:
            continue
    raise FileExistsError(errno.EEXIST, "no free temporary name", str(parent))


def _write_all(fd: int, data: Iterable[bytes]) -> None:
    for piece in data:
        view = memoryview(piece)
        while view:
            view = view[os.write(fd, view):]


def _write_stream(path: Path, data: Iterable[bytes], descriptor: int | None) -> None:
    if descriptor is not None:
        stream = {1: sys.stdout, 2: sys.stderr}.get(descriptor)
        if stream is not None:  # our own stdout/stderr: keep the order of what was printed
            stream.flush()
            for piece in data:
                if hasattr(stream, "buffer"):
                    stream.buffer.write(piece)
                else:
                    stream.write(piece.decode("utf-8"))
            stream.flush()
        else:
            _write_all(descriptor, data)
        return
    # No O_CREAT: if the device or FIFO went away meanwhile, say so rather than make a file.
    fd = os.open(path, os.O_WRONLY | os.O_CLOEXEC)
    try:
        _write_all(fd, data)
    finally:
        os.close(fd)


def write_atomic(path: Path, text: str) -> None:
    """Write ``text`` (UTF-8, newlines as given) to ``path`` by the rules in the module docstring."""
    write_atomic_chunks(path, (text,))


def write_atomic_chunks(path: Path, chunks: Iterable[str]) -> None:
    """:func:`write_atomic` for text made piece by piece (a million-row sweep): each piece
    is encoded and written as it comes, so the whole text never exists at once. The rules
    are the same: a regular file gets the new content whole or not at all (an error or a
    signal while the pieces are made removes the temporary); a stream is written through."""
    path = Path(path)
    data = (chunk.encode("utf-8") for chunk in chunks)
    descriptor = _descriptor(path)
    try:
        if descriptor is not None:
            _write_stream(path, data, descriptor)
            return
        check_writable(path)
        target, st = _resolve(path)
        if st is not None and not stat.S_ISREG(st.st_mode):
            _write_stream(target, data, None)
            return
        _replace_file(target, data, st)
    except OSError as exc:
        raise _output_error(exc, path) from None


def _replace_file(target: Path, data: Iterable[bytes], st: os.stat_result | None) -> None:
    fd, tmp = -1, None
    try:
        with _signals_deferred():  # a signal lands once ``tmp`` is known, so it is removed
            fd, tmp = _create_temp(_parent(target))
        _write_all(fd, data)
        if st is not None:
            os.fchmod(fd, stat.S_IMODE(st.st_mode))
            if (st.st_uid, st.st_gid) != (os.geteuid(), os.getegid()):
                try:
                    os.fchown(fd, st.st_uid, st.st_gid)
                except PermissionError:
                    pass  # only root may give a file away; the mode is kept all the same
        os.fsync(fd)
        os.close(fd)
        fd = -1
        with _signals_deferred():
            os.replace(tmp, target)
    except BaseException:
        with _signals_deferred():
            if fd >= 0:
                os.close(fd)
            if tmp is not None:
                try:
                    os.unlink(tmp)
                except FileNotFoundError:
                    pass
        raise


# -- a report folder -----------------------------------------------------------------------------

def _folder_target(folder: Path) -> Path:
    """The folder a report replaces (links followed), refusing names that cannot be replaced."""
    if folder.name in ("", "..") or str(folder) == ".":
        raise OutputError("ends in '.' or '..' (or is '/'), a folder that cannot be replaced whole; "
                          "name a new folder (for example ./report)", file=str(folder))
    try:
        os.stat(folder)
    except FileNotFoundError:
        pass
    except OSError as exc:
        raise _output_error(exc, folder, "cannot use") from None
    target = Path(os.path.realpath(folder))
    cwd = os.path.realpath(os.getcwd())
    if cwd == str(target) or cwd.startswith(str(target).rstrip("/") + "/"):
        raise OutputError("contains the current folder, which cannot be replaced whole; name a new folder",
                          file=str(folder))
    if target.is_dir() and os.path.ismount(target):
        raise OutputError("is a mount point, which cannot be replaced whole; name a folder inside it", file=str(folder))
    return target


def check_report_folder(folder: Path, *, force: bool) -> None:
    """A report folder is new, empty, or replaced whole with ``force``: never mixed."""
    _check_name(folder, _parent(folder))
    target = _folder_target(folder)
    if target.exists() and not target.is_dir():
        raise OutputError("exists and is not a directory", file=str(folder))
    if target.is_dir() and not force and any(target.iterdir()):
        raise OutputError("exists and is not empty; use --force to replace it", file=str(folder))
    _check_name(target, _parent(target))
    _probe(_parent(target), folder)


_RENAME_EXCHANGE = 2  # renameat2 flag (Linux 3.15+): swap two names in one step


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths atomically; False where the system or file system cannot."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd = -100
    if renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP):
        return False
    raise OSError(code, os.strerror(code), str(b))


def _rmtree(path: Path) -> None:
    import shutil

    shutil.rmtree(path, ignore_errors=True)


def _install_folder(staging: Path, target: Path, shown: Path, *, force: bool) -> None:
    """Put the finished ``staging`` folder at ``target``."""
    if force and target.is_dir() and not target.is_symlink():
        if _exchange(staging, target):
            _rmtree(staging)  # now holds the old report
            return
        backup = _temp_name(_parent(target), ".old")
        os.rename(target, backup)
        try:
            os.rename(staging, target)
        except BaseException:
            os.rename(backup, target)
            raise
        _rmtree(backup)
        return
    try:
        # rename(2) of a folder replaces only a missing name or an empty folder: a run that
        # finished first (its folder is never empty) is not replaced.
        os.rename(staging, target)
    except OSError as exc:
        if exc.errno in (errno.ENOTEMPTY, errno.EEXIST):
            raise OutputError("was written meanwhile (by another run?) and is not empty; nothing replaced; "
                              "use --force to replace it", file=str(shown)) from None
        raise


def write_folder_atomic(folder: Path, build: Callable[[Path], None], *, force: bool = False) -> None:
    """Let ``build`` fill a fresh hidden sibling folder, then rename it into place whole."""
    folder = Path(folder)
    check_report_folder(folder, force=force)
    target = _folder_target(folder)
    parent = _parent(target)
    staging: Path | None = None
    try:
        for _ in range(100):
            staging = _temp_name(parent, ".tmp")
            try:
                os.mkdir(staging, 0o777)  # the umask makes it the usual folder mode
                break
            except FileExistsError:
                staging = None
        if staging is None:
            raise FileExistsError(errno.EEXIST, "no free temporary name", str(parent))
        build(staging)
        with _signals_deferred():
            _install_folder(staging, target, folder, force=force)
    except BaseException as exc:
        if staging is not None:
            with _signals_deferred():
                _rmtree(staging)
        if isinstance(exc, OSError):
            raise _output_error(exc, folder) from None
        raise
