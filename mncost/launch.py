"""The ``mncost`` entry point: answers ``mncost analyze …`` without loading the command-line
framework, and hands everything else to the full typer app (:mod:`mncost.cli`).

``analyze`` is the command people run interactively and in loops, and importing typer,
click and rich and building every command costs several times the analysis itself. The
fast path here parses exactly ``analyze``'s options as the full CLI declares them and
runs the same library calls and renderers; any argument it is not sure of (``--help``,
an unknown or repeated option, a value that does not parse, ``--``, a value starting
with ``-``) sends the whole command line to the full CLI instead, so help, errors and
behaviour stay the full CLI's. tests/test_vector_launch.py checks both give the same output.

A built-in model on a built-in profile answers from :mod:`mncost.answer_cache` when it
was asked the same before and nothing of mncost changed since.
"""

from __future__ import annotations

import sys
from typing import Any

_VALUE_OPTIONS: dict[str, tuple[str, str]] = {
    "--hw": ("hw", "str"), "-H": ("hw", "str"),
    "--alpha": ("alpha", "float"), "-a": ("alpha", "float"),
    "--resolution": ("resolution", "int"), "-r": ("resolution", "int"),
    "--rho": ("rho", "float"),
    "--batch": ("batch", "int"), "-b": ("batch", "int"),
    "--width-rule": ("width_rule", "str"),
    "--format": ("format", "format"), "-f": ("format", "format"),
    "--output": ("output", "path"), "-o": ("output", "path"),
}
_FLAGS = {"--include-bn-params": "include_bn_params", "--fused-attention": "fused_attention", "--profile-dtypes": "profile_dtypes"}
_FORMATS = ("table", "csv", "md", "json")


def _convert(kind: str, text: str) -> Any:
    """Click's conversion of the option types analyze uses; ValueError when in doubt."""
    if kind == "int":
        return int(text)
    if kind == "float":
        return float(text)
    if kind == "format":
        if text.lower() not in _FORMATS:
            raise ValueError(text)
        return text.lower()
    if kind == "path":
        from .errors import MncostError
        from .output import output_path

        try:
            return output_path(text)
        except MncostError:
            raise ValueError(text) from None  # the full CLI reports it
    return text


def parse_analyze(argv: list[str]) -> dict[str, Any] | None:
    """The options of ``mncost analyze ARGS`` as keyword arguments, or None to let the full CLI parse."""
    if not argv or argv[0] != "analyze":
        return None
    options: dict[str, Any] = {}
    model = None
    rest = argv[1:]
    i = 0
    while i < len(rest):
        token = rest[i]
        if token.startswith("-") and token != "-":
            name, eq, attached = token.partition("=")
            if name in _FLAGS and not eq:
                key, value = _FLAGS[name], True
            elif name in _VALUE_OPTIONS and (not eq or name.startswith("--")):  # click reads "-a=1" as the value "=1"
                key, kind = _VALUE_OPTIONS[name]
                if eq:
                    text = attached
                elif i + 1 < len(rest) and not rest[i + 1].startswith("-"):
                    i += 1
                    text = rest[i]
                else:
                    return None
                try:
                    value = _convert(kind, text)
                except ValueError:
                    return None
            else:
                return None  # --help, --, -a0.5, an unknown option: the full CLI decides
            if key in options:
                return None
            options[key] = value
        else:
            if model is not None:
                return None
            model = token
        i += 1
    if model is None:
        return None
    options["model"] = model
    return options


def one_line_warning(message: Any, category: type[Warning], filename: str, lineno: int, file: Any = None, line: Any = None) -> None:
    """Warnings (numpy, scipy, matplotlib, mncost's own) as one line, never source code."""
    text = " ".join(str(message).split())
    print(f"warning: {text}", file=sys.stderr)


def fast_analyze(argv: list[str]) -> int | None:
    """Run ``analyze`` when :func:`parse_analyze` understood every argument; None otherwise.

    Errors end as the full CLI's ``main`` ends them; an unexpected exception hands the
    command line to the full CLI, which reports it the one way it does.
    """
    options = parse_analyze(argv)
    if options is None:
        return None
    from . import answer_cache

    key = answer_cache.analyze_key(options, sys.stdout)
    answer = None if key is None else answer_cache.lookup(key)
    if answer is not None:  # the same bytes as last time, without importing the analysis
        try:
            sys.stdout.write(answer)
            sys.stdout.flush()
        except BrokenPipeError:
            return 0
        except KeyboardInterrupt:
            print("error: interrupted", file=sys.stderr)
            return 130
        return 0
    import warnings

    from .errors import MncostError
    from .output import Interrupted, interrupt_on_signals, os_error_message

    warned: list[str] = []

    def show_warning(message: Any, *args: Any, **kwargs: Any) -> None:
        warned.append(str(message))
        one_line_warning(message, *args, **kwargs)

    warnings.showwarning = show_warning
    with interrupt_on_signals():
        try:
            written = run_analyze(**options)
        except MncostError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        except BrokenPipeError:
            return 0
        except KeyboardInterrupt:
            print("error: interrupted", file=sys.stderr)
            return 130
        except Interrupted as exc:
            print(f"error: {exc}", file=sys.stderr)
            return exc.exit_code
        except OSError as exc:
            message = os_error_message(exc)
            if message is None:
                return None
            print(f"error: {message}", file=sys.stderr)
            return 2
        except Exception:  # noqa: BLE001 - a bug: the full CLI reports it (and shows it under --debug)
            return None
    if key is not None and written is not None and not warned:  # a warning is part of the answer: not cached
        answer_cache.store(key, written)
    return 0


def run_analyze(model: str, hw: str = "cpu", alpha: float = 1.0, resolution: int | None = None, rho: float | None = None,
                batch: int = 1, width_rule: str | None = None, include_bn_params: bool = False, fused_attention: bool = False,
                format: str = "table", output: Any = None, profile_dtypes: bool = False) -> str | None:
    """What ``mncost analyze`` does once its options are parsed (the full CLI calls it too).

    Returns the text it wrote to stdout, or None when it wrote a file or rich drew the table."""
    from .analysis import analyze
    from .render import Format, print_table, render

    if output is not None:
        from .output import check_writable

        check_writable(output)
    result = analyze(model, hw, alpha=alpha, resolution=resolution, rho=rho, batch=batch, width_rule=width_rule,
                     include_bn_params=include_bn_params, fused_attention=fused_attention, graph_dtypes=not profile_dtypes)
    fmt = Format(format)
    if fmt is Format.table and output is None:
        return print_table(result, sys.stdout)
    text = render(result, fmt)
    if output is None:
        sys.stdout.write(text)
        return text
    from .output import write_atomic

    write_atomic(output, text)
    print(f"wrote {output}", file=sys.stderr)
    return None


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else list(argv)
    code = fast_analyze(args)
    if code is not None:
        return code
    from .cli import main as full_main

    return full_main(args)


def run() -> None:
    sys.exit(main())
