"""Where the ONNX protobuf classes and the shape inferencer come from.

The ``onnx`` package is an optional extra. Importing it whole costs most of a second
(it loads numpy and ml_dtypes, which reading a graph never needs), so when nothing
in the process has imported it yet, only its two parts that mncost uses are loaded:
the generated protobuf module and the compiled extension that holds shape inference.
They are registered under their own names, so a later ``import onnx`` (torch's
exporter, a test) reuses them instead of loading the extension a second time.
Any surprise in that layout falls back to the plain ``import onnx``.
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import sys
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable

from ..errors import MissingExtraError

INSTALL_HINT = "reading ONNX files needs the onnx package: pip install 'mncost[onnx]'"

_EXTENSION_PARTS = ("checker", "defs", "inliner", "parser", "printer", "shape_inference", "version_converter")


@dataclass(frozen=True)
class OnnxRuntime:
    """The pieces of ``onnx`` that reading a graph needs."""

    model_class: Any  # onnx.ModelProto
    infer_shapes: Callable[[bytes], bytes]  # serialized model in, serialized model with value_info out
    max_opset: int  # the newest default-domain opset the installed onnx knows
    version: str


def _load(name: str, path: Path, loader: Any = None) -> Any:
    spec = importlib.util.spec_from_file_location(name, path, loader=loader)
    if spec is None or spec.loader is None:
        raise ImportError(name)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise
    return module


def _light() -> tuple[Any, Any, str]:
    """The protobuf module and the extension, without running ``onnx/__init__``."""
    found = importlib.util.find_spec("onnx")
    if found is None or not found.submodule_search_locations:
        raise ModuleNotFoundError("onnx")
    root = Path(next(iter(found.submodule_search_locations)))
    extensions = sorted(root.glob("onnx_cpp2py_export*.so")) + sorted(root.glob("onnx_cpp2py_export*.pyd"))
    if not extensions or not (root / "onnx_ml_pb2.py").is_file():
        raise ImportError("unexpected onnx layout")
    pb2 = sys.modules.get("onnx.onnx_ml_pb2") or _load("onnx.onnx_ml_pb2", root / "onnx_ml_pb2.py")
    name = "onnx.onnx_cpp2py_export"
    ext = sys.modules.get(name) or _load(name, extensions[0], importlib.machinery.ExtensionFileLoader(name, str(extensions[0])))
    for part in _EXTENSION_PARTS:
        if hasattr(ext, part):
            sys.modules.setdefault(f"{name}.{part}", getattr(ext, part))
    version = "?"
    try:
        from importlib.metadata import version as dist_version

        version = dist_version("onnx")
    except Exception:
        pass
    return pb2, ext, version


@lru_cache(maxsize=1)
def runtime() -> OnnxRuntime:
    """The installed onnx, or a MissingExtraError that says how to install it."""
    if "onnx" in sys.modules:
        try:
            import onnx
        except ImportError:
            raise MissingExtraError(INSTALL_HINT) from None

        pb2, ext, version = onnx.onnx_ml_pb2, onnx.onnx_cpp2py_export, onnx.__version__
    else:
        try:
            pb2, ext, version = _light()
        except (ModuleNotFoundError, ValueError):
            raise MissingExtraError(INSTALL_HINT) from None
        except Exception:  # an onnx laid out differently: the supported, slower way
            try:
                import onnx
            except ImportError:
                raise MissingExtraError(INSTALL_HINT) from None
            pb2, ext, version = onnx.onnx_ml_pb2, onnx.onnx_cpp2py_export, onnx.__version__
    versions = ext.defs.schema_version_map()
    max_opset = int(versions.get("", (1, 1))[1])

    def infer(data: bytes) -> bytes:
        # check_type=False, strict_mode=True (inference errors are raised), data_prop=True (shapes computed from constants)
        return bytes(ext.shape_inference.infer_shapes(data, False, True, True))

    return OnnxRuntime(model_class=pb2.ModelProto, infer_shapes=infer, max_opset=max_opset, version=version)

