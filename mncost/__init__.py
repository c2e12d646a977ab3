"""mncost: exact cost counts and roofline latency for MobileNet-family networks.

>>> import mncost
>>> result = mncost.analyze("v2", "cpu")
>>> result.totals.macs
300774272
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"

# The public names, imported on first use (PEP 562): `python -m mncost` imports this package
# before the entry point, and an answer from the cache needs none of the analysis modules.
_EXPORTS = {
    "AnalysisResult": "analysis", "Conventions": "analysis", "Totals": "analysis", "analyze": "analysis",
    "HardwareError": "errors", "MncostError": "errors", "OptionError": "errors", "SpecError": "errors",
    "HardwareProfile": "hardware", "load_hardware": "hardware",
    "ArchSpec": "spec", "load_spec": "spec",
    "Walk": "walker", "walk": "walker",
}

__all__ = [
    "AnalysisResult", "ArchSpec", "Conventions", "HardwareError", "HardwareProfile", "MncostError", "OptionError",
    "SpecError", "Totals", "Walk", "analyze", "load_hardware", "load_spec", "walk",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'mncost' has no attribute {name!r}")
    from importlib import import_module

    value = getattr(import_module(f".{module}", __name__), name)
    globals()[name] = value  # later lookups are plain attribute reads
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_EXPORTS})
