"""mncost: exact cost counts and roofline latency for MobileNet-family networks.

>>> import mncost
>>> result = mncost.analyze("v2", "cpu")
>>> result.totals.macs
300774272
"""

from .analysis import AnalysisResult, Conventions, Totals, analyze
from .errors import HardwareError, MncostError, OptionError, SpecError
from .hardware import HardwareProfile, load_hardware
from .spec import ArchSpec, load_spec
from .walker import Walk, walk

__version__ = "0.1.0"

__all__ = [
    "AnalysisResult",
    "ArchSpec",
    "Conventions",
    "HardwareError",
    "HardwareProfile",
    "MncostError",
    "OptionError",
    "SpecError",
    "Totals",
    "Walk",
    "analyze",
    "load_hardware",
    "load_spec",
    "walk",
]
