"""How much memory and work a cross-check will take, estimated from the walk before torch runs.

A spec with a kernel of 1001 or ``--resolution 100000`` would otherwise allocate tens of
gigabytes or run for hours inside torch. The estimate (fp32, batch 1):

- weights: every parameter (conv, linear, BN, layer scale) × 4 bytes;
- activations: 3 × the largest layer's input + output × 4 bytes (the forward pass holds a
  layer's input and output, plus a residual or a padded copy; measured on MobileNetV2 at
  1024² and 2048²: 2.0–2.3 ×);
- work: the layers' MACs (a reference model is assumed to be the same network).

Above ``max_memory_gb`` or ``max_gmacs`` the check is refused with one line saying which
option raises the limit. Nothing here imports torch.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import OptionError
from ..ops import numel
from ..walker import Walk

BYTES_PER_ELEMENT = 4  # torch's default float32
ACTIVATION_COPIES = 3
DEFAULT_MAX_MEMORY_GB = 8.0
DEFAULT_MAX_GMACS = 50.0  # about a minute of torch on two cores; the built-ins need at most 11.7


@dataclass(frozen=True)
class Estimate:
    weight_bytes: int
    activation_bytes: int
    macs: int

    @property
    def memory_bytes(self) -> int:
        return self.weight_bytes + self.activation_bytes


def estimate(w: Walk) -> Estimate:
    weights = sum(x.params + x.bn_params for x in w.layers) * BYTES_PER_ELEMENT
    largest = max((numel(x.in_shape) + numel(x.out_shape) for x in w.layers), default=0)
    return Estimate(weights, ACTIVATION_COPIES * largest * BYTES_PER_ELEMENT, sum(x.macs for x in w.layers))


def check(w: Walk, *, max_memory_gb: float = DEFAULT_MAX_MEMORY_GB, max_gmacs: float = DEFAULT_MAX_GMACS) -> Estimate:
    """The estimate, or OptionError when it is above a limit."""
    for option, value in (("--max-memory-gb", max_memory_gb), ("--max-gmacs", max_gmacs)):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
            raise OptionError(f"{option} must be a positive number, got {value!r}")
    e = estimate(w)
    what = f"cross-check of {w.spec.name} at α={w.alpha:g}, resolution {w.resolution}"
    if e.memory_bytes > max_memory_gb * 1e9:
        raise OptionError(
            f"{what} needs about {e.memory_bytes / 1e9:,.1f} GB (activations {e.activation_bytes / 1e9:,.1f} GB, "
            f"weights {e.weight_bytes / 1e9:,.1f} GB), above the {max_memory_gb:g} GB limit; raise it with --max-memory-gb"
        )
    if e.macs > max_gmacs * 1e9:
        raise OptionError(f"{what} runs {e.macs / 1e9:,.1f} GMACs in torch, above the {max_gmacs:g} GMAC limit; raise it with --max-gmacs")
    return e
