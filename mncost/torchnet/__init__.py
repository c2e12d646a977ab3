"""A real ``torch.nn.Module`` built from a spec: the network that ``crosscheck`` counts
with fvcore and that ``bench`` times. One builder per registered block type
(``model.BUILDERS``, the zoo's in ``zoo``); ``tests/test_registry.py`` fails when a
block type has none or when its fvcore count differs from the walker's.

Imports torch: only the commands that need a real network load this package.
"""

from .model import BUILDERS, SpecNet

__all__ = ["BUILDERS", "SpecNet"]
