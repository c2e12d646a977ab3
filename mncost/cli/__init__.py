"""The ``mncost`` command line: parse options, call one library function, render, map errors.

The app and the shared options are in :mod:`.app`; each command module registers its
commands on it (``analyze``: analyze, models, hardware; ``sweeps``: sweep, ridge, report;
``crosscheck``; ``fidelity``: fit, calibrate, bench, fidelity; ``pick``; ``import`` from
:mod:`mncost.graph.command`). Every user error (MncostError, a bad option, an OS error the
user can fix) becomes one line on stderr and exit code 2; an unexpected exception is
reported as a bug, with the traceback only under ``--debug``.
"""

from __future__ import annotations

import sys
from typing import Annotated, Any

import typer

from ..errors import MncostError
from ..launch import one_line_warning  # one definition for both entry points
from .app import app, state

# Each module registers its commands; the order is the order of `mncost --help`.
from . import analyze, crosscheck, sweeps, fidelity  # noqa: E402,F401,I001


def _print_version(value: bool) -> None:
    if value:
        from .. import __version__

        print(f"mncost {__version__}")
        raise typer.Exit(0)


@app.callback()
def _root(
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks of internal errors.")] = False,
    version: Annotated[bool, typer.Option("--version", help="Print the version and exit.", is_eager=True, callback=_print_version)] = False,
) -> None:
    state["debug"] = debug


def _register_import() -> None:
    from ..graph.command import import_command  # `import` is a keyword: the function has another name

    app.command("import")(import_command)


_register_import()

from . import pick  # noqa: E402,F401


def _click_exceptions() -> Any:
    """Click's exception classes: vendored inside recent typer, a dependency of older ones."""
    try:
        from typer._click import exceptions
    except ImportError:
        from click import exceptions
    return exceptions




def main(argv: list[str] | None = None) -> int:
    """Entry point: run the app and turn every error into one stderr line."""
    from ..output import interrupt_on_signals

    with interrupt_on_signals():  # SIGINT/SIGTERM/SIGHUP unwind (temporaries removed), then one line
        return _main(argv)


def _main(argv: list[str] | None) -> int:
    import warnings

    from ..output import Interrupted, os_error_message

    click = _click_exceptions()
    warnings.showwarning = one_line_warning
    try:
        code = app(args=argv, prog_name="mncost", standalone_mode=False)
    except getattr(click, "NoArgsIsHelpError", ()) as exc:  # bare `mncost` or a bare group: usage, not an error
        if exc.ctx is not None:
            print(exc.ctx.get_help())
        return 0
    except MncostError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except click.UsageError as exc:
        print(f"error: {exc.format_message()}" + (f" (see 'mncost {exc.ctx.info_name} --help')" if exc.ctx and exc.ctx.parent else ""), file=sys.stderr)
        return 2
    except typer.Exit as exc:
        return int(exc.exit_code)
    except (typer.Abort, KeyboardInterrupt):
        print("error: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    except Interrupted as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    except Exception as exc:  # a bug: say so briefly, traceback only on request
        message = os_error_message(exc) if isinstance(exc, OSError) else None
        if message is not None:  # a full disk, a read-only folder, no permission: the user's to fix
            print(f"error: {message}", file=sys.stderr)
            return 2
        if state["debug"]:
            raise
        print(f"internal error: {type(exc).__name__}: {exc} — this is a bug in mncost; please report it (rerun with --debug for the traceback)", file=sys.stderr)
        return 1
    return code if isinstance(code, int) else 0


def run() -> None:
    sys.exit(main())
