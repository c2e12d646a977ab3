"""Safe YAML loading that remembers where every value came from.

Only the YAML core schema is accepted (no Python-object tags). Each mapping key's
line number is kept so that validation errors can point at the line. Duplicate
keys, alias bombs, deep nesting, non-UTF-8 and oversized files are refused with
a one-line error instead of being silently accepted or exhausting memory.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import MncostError
from .text import CONTROL

if TYPE_CHECKING:
    import yaml

# PyYAML is imported where a file is parsed, not with this module: a built-in read from
# mncost's cache of parsed files (mncost.builtin) needs Located but never the parser.

MAX_FILE_BYTES = 1_000_000
MAX_DEPTH = 64
MAX_NODES = 200_000

NESTING_OURS = f"nesting too deep: more than {MAX_DEPTH} levels (mncost's limit)"
# libyaml (PyYAML >= 6.0.4 with the C loader) stops at its own depth while scanning
# ahead, before mncost sees the events; the user gets the same kind of line.
NESTING_PARSER = f"nesting too deep: the YAML parser's own depth limit was reached (mncost's limit is {MAX_DEPTH} levels)"

_SAFE_TAGS = {
    "tag:yaml.org,2002:str",
    "tag:yaml.org,2002:int",
    "tag:yaml.org,2002:float",
    "tag:yaml.org,2002:bool",
    "tag:yaml.org,2002:null",
    "tag:yaml.org,2002:map",
    "tag:yaml.org,2002:seq",
}

@cache
def _loader() -> Any:
    import yaml

    return getattr(yaml, "CSafeLoader", yaml.SafeLoader)


NUMBER_TEXT = re.compile(r"[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?")
"""The one number grammar of specs, profiles, measurement CSVs and command-line lists:
plain decimal integers and floats, with an optional exponent. YAML 1.1's ``1:30``
(= 90), ``0o17``, ``017``, ``0x1f`` and ``1_000`` are refused rather than read."""
_NUMBER_TAGS = {"tag:yaml.org,2002:int", "tag:yaml.org,2002:float"}
_OCTAL = re.compile(r"[-+]?0\d+")  # YAML 1.1 reads 017 as 15
_SPECIAL_FLOAT = re.compile(r"[-+]?\.(inf|Inf|INF|nan|NaN|NAN)")


@dataclass
class Located:
    """A loaded document plus the line (1-based) of every key path seen in it."""

    data: Any
    file: str
    lines: dict[str, int] = field(default_factory=dict)

    def line_of(self, path: str) -> int | None:
        """Line of ``path`` or of its nearest located parent."""
        while True:
            if path in self.lines:
                return self.lines[path]
            cut = max(path.rfind("."), path.rfind("["))
            if cut <= 0:
                return self.lines.get(path)
            path = path[:cut]


def join_path(parent: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{parent}[{key}]"
    return f"{parent}.{key}" if parent else key


class _Builder:
    def __init__(self, file: str) -> None:
        self.file = file
        self.lines: dict[str, int] = {}
        self.nodes = 0
        import yaml

        self.yaml = yaml
        self.scalar_constructor = yaml.constructor.SafeConstructor()

    def fail(self, message: str, node: yaml.Node, path: str) -> MncostError:
        return MncostError(message, file=self.file, key=path or None, line=node.start_mark.line + 1)

    def build(self, node: yaml.Node, path: str, depth: int) -> Any:
        yaml = self.yaml
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise self.fail(f"document expands to more than {MAX_NODES} values (alias bomb?)", node, path)
        if depth > MAX_DEPTH:
            raise self.fail(NESTING_OURS, node, path)
        if node.tag not in _SAFE_TAGS:
            tag = node.tag.replace("tag:yaml.org,2002:", "!!")
            raise self.fail(f"YAML tag {tag!r} is not allowed (only plain data is read)", node, path)
        self.lines.setdefault(path, node.start_mark.line + 1)
        if isinstance(node, yaml.MappingNode):
            out: dict[str, Any] = {}
            for key_node, value_node in node.value:
                if not isinstance(key_node, yaml.ScalarNode) or key_node.tag not in _SAFE_TAGS:
                    raise self.fail("mapping keys must be plain strings", key_node, path)
                key = str(self.scalar_constructor.construct_object(key_node))
                if CONTROL.search(key):
                    raise self.fail(f"control character in the key {key!r} (keys are plain names)", key_node, path)
                if key_node.tag == "tag:yaml.org,2002:merge" or key == "<<":
                    raise self.fail("merge keys (<<) are not supported", key_node, path)
                child = join_path(path, key)
                if key in out:
                    raise self.fail(f"duplicate key {key!r}", key_node, child)
                self.lines[child] = key_node.start_mark.line + 1
                out[key] = self.build(value_node, child, depth + 1)
            return out
        if isinstance(node, yaml.SequenceNode):
            return [self.build(item, join_path(path, i), depth + 1) for i, item in enumerate(node.value)]
        if node.tag in _NUMBER_TAGS and not node.style and (not NUMBER_TEXT.fullmatch(node.value) or _OCTAL.fullmatch(node.value)):
            if _SPECIAL_FLOAT.fullmatch(node.value):
                return self.scalar_constructor.construct_object(node)  # .inf / .nan: refused as non-finite where a number is read
            raise self.fail(
                f"{node.value!r} is a YAML 1.1 number form (sexagesimal, octal, hex or with '_'), which mncost does not read; write a plain decimal number, or quote it for a string",
                node, path,
            )
        return self.scalar_constructor.construct_object(node)


def _check_events(text: str, file: str) -> None:
    """Refuse deep nesting before the (recursive) composer sees it."""
    import yaml

    depth = 0
    try:
        for event in yaml.parse(text, Loader=_loader()):
            if isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
                depth += 1
                if depth > MAX_DEPTH:
                    line = event.start_mark.line + 1 if event.start_mark else None
                    raise MncostError(NESTING_OURS, file=file, line=line)
            elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
                depth -= 1
            elif isinstance(event, yaml.DocumentStartEvent) and getattr(event, "explicit", False) and depth == 0:
                pass
    except yaml.YAMLError as exc:
        raise _syntax_error(exc, file) from None


def _syntax_error(exc: yaml.YAMLError, file: str) -> MncostError:
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    if "nesting depth" in problem:
        return MncostError(NESTING_PARSER, file=file, line=mark.line + 1 if mark else None)
    return MncostError(f"YAML syntax error: {problem}", file=file, line=mark.line + 1 if mark else None)


def loads(text: str, file: str = "<string>") -> Located:
    """Parse one YAML document from ``text``."""
    import yaml

    _check_events(text, file)
    try:
        nodes = list(yaml.compose_all(text, Loader=_loader()))
    except yaml.YAMLError as exc:
        raise _syntax_error(exc, file) from None
    if not nodes or nodes[0] is None:
        raise MncostError("file is empty (expected a YAML mapping)", file=file)
    if len(nodes) > 1:
        raise MncostError("expected one YAML document, found several", file=file)
    builder = _Builder(file)
    data = builder.build(nodes[0], "", 0)
    return Located(data=data, file=file, lines=builder.lines)


def read_input(path: Path, display: str | None = None, *, what: str = "YAML file", limit: int = MAX_FILE_BYTES) -> bytes:
    """The bytes of a regular input file, read at most ``limit`` + 1 bytes far.

    Devices, FIFOs and sockets are refused before opening (``/dev/zero`` or a FIFO
    would read without end or block forever); the read itself is bounded, since
    ``st_size`` says nothing for special files or a file that grows meanwhile.
    """
    import os
    import stat

    name = display or str(path)
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        raise MncostError("file not found", file=name) from None
    except OSError as exc:
        raise MncostError(f"cannot read: {exc.strerror or exc}", file=name) from None
    if stat.S_ISDIR(mode):
        raise MncostError(f"is a directory, expected a {what}", file=name)
    if not stat.S_ISREG(mode):
        kind = "a FIFO" if stat.S_ISFIFO(mode) else "a socket" if stat.S_ISSOCK(mode) else "a device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode) else "not a regular file"
        raise MncostError(f"is {kind}, expected a regular {what}", file=name)
    try:
        with open(path, "rb") as handle:
            raw = handle.read(limit + 1)
    except OSError as exc:
        raise MncostError(f"cannot read: {exc.strerror or exc}", file=name) from None
    if len(raw) > limit:
        raise MncostError(f"file is more than the {limit}-byte limit", file=name)
    return raw


def load_file(path: Path, display: str | None = None) -> Located:
    """Read and parse a YAML file, refusing special, binary, non-UTF-8 and oversized files."""
    name = display or str(path)
    raw = read_input(path, display)
    if b"\x00" in raw:
        raise MncostError("binary file (contains NUL bytes), expected YAML text", file=name)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise MncostError(f"not UTF-8 text (byte 0x{raw[exc.start]:02x})", file=name, line=line) from None
    return loads(text, name)
