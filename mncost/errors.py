"""Domain errors. The CLI turns every MncostError into one stderr line and exit code 2."""

from __future__ import annotations


class MncostError(Exception):
    """A user-facing error: bad input, a missing file, an impossible configuration.

    ``file``, ``key`` and ``line`` locate the problem; ``str(err)`` renders them as
    ``FILE:LINE: KEY: MESSAGE`` with whatever parts are known.
    """

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        key: str | None = None,
        line: int | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.file = file
        self.key = key
        self.line = line

    def __str__(self) -> str:
        where = ""
        if self.file:
            where = self.file + (f":{self.line}" if self.line else "") + ": "
        elif self.line:
            where = f"line {self.line}: "
        key = f"{self.key}: " if self.key else ""
        return f"{where}{key}{self.message}"


class SpecError(MncostError):
    """An architecture spec is malformed or describes an impossible network."""


class HardwareError(MncostError):
    """A hardware profile is malformed or physically meaningless."""


class OptionError(MncostError):
    """A command-line or API option is out of range."""


class MissingExtraError(MncostError):
    """An optional dependency (torch, fvcore, matplotlib) is not installed."""


class AccuracyError(MncostError):
    """An accuracy table (CSV of published top-1 numbers) has a bad row."""


class RuntimeFailure(MncostError):
    """A deployment runtime (LiteRT, ONNX Runtime) could not run a converted model: not the user's
    input, but a limit of that runtime (say a quantized kernel's check), named as such."""


class OutputError(MncostError):
    """A result cannot be written where asked: not a regular file, no space, no permission."""


class MncostWarning(UserWarning):
    """Something the user should know that does not stop the command (a ``warning:`` line on stderr)."""
