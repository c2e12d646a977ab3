"""The optional extras: the install command that brings each optional package, and the
one guard every command uses, so that a missing package is one line saying how to
install it (exit 2), never a traceback."""

from __future__ import annotations

import importlib
from types import ModuleType

from .errors import MissingExtraError

# torch first, the CPU wheel, so that pip does not pick a multi-GB CUDA build for fvcore.
TORCH = "pip install torch==2.13.0 && pip install 'mncost[torch]'"
FIT = "pip install 'mncost[fit]'"
INSTALL = {
    "torch": TORCH,
    "fvcore": TORCH,
    "numpy": FIT,
    "scipy": FIT,
    "onnx": "pip install 'mncost[onnx]'",
    "onnxruntime": "pip install 'mncost[bench]'",
    "litert_torch": "pip install torch==2.13.0 && pip install 'mncost[litert]'",
    "matplotlib": "pip install matplotlib",
}


def require(*packages: str, what: str = "this command", install: str | None = None) -> list[ModuleType]:
    """Import ``packages`` or raise one MissingExtraError: ``{what} needs a and b: {install}``
    (``install`` defaults to the command for the first missing package)."""
    modules, missing = [], []
    for name in packages:
        try:
            modules.append(importlib.import_module(name))
        except ImportError:
            missing.append(name)
    if missing:
        raise MissingExtraError(f"{what} needs {' and '.join(packages)}: {install or INSTALL[missing[0]]}")
    return modules
