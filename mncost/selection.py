"""Which models and hardware profiles a multi-model command runs on.

``--models`` and ``--hw`` take comma lists of built-in names or paths, ``all``, and for
profiles ``generic`` (the four generic ones); these functions turn that text into loaded,
validated specs and profiles, refusing two entries of one name. Used by sweep, ridge,
pick and reports, and callable from Python with the same text.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .hardware import HardwareProfile
    from .spec import ArchSpec

RIDGE_MODELS = "v1,v2,v3-large,v4-conv-m"
"""The ridge sweep's default set: one network per MobileNet generation, as in the V4 paper's figure."""


def default_models() -> list[str]:
    """The built-in ImageNet models: those with a published top-1."""
    from . import builtin
    from .spec import load_spec

    return [name for name in builtin.spec_files() if load_spec(name).published.top1 is not None]


def load_specs(models: str | None = None) -> list[ArchSpec]:
    """``--models`` text → specs; None means :func:`default_models`."""
    from . import builtin
    from .grids import check_unique, parse_names
    from .spec import load_spec

    names = default_models() if models is None else parse_names(models, "--models", list(builtin.spec_files()))
    specs = [load_spec(name) for name in names]
    check_unique([s.name for s in specs], names, "--models", "models")
    return specs


def load_profiles(hw: str = "generic") -> list[HardwareProfile]:
    """``--hw`` text → profiles: names or paths, ``generic`` (cpu, dsp, edgetpu, gpu) or ``all``
    (the generic ones and every fitted device profile)."""
    from . import builtin
    from .grids import check_unique, parse_names
    from .hardware import load_hardware

    if hw.strip() == "generic":
        hw = ",".join(name for name in builtin.hardware_files() if not load_hardware(name).fit)
    names = parse_names(hw, "--hw", list(builtin.hardware_files()))
    profiles = [load_hardware(name) for name in names]
    check_unique([p.name for p in profiles], names, "--hw", "profiles")
    return profiles
