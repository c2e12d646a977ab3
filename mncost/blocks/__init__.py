"""Block types, registered by their YAML ``type`` name."""

from . import attention, basic, composite, mobilenet, v4  # noqa: F401  (importing registers the types)
from .base import BLOCK_TYPES, Block, BlockContext, BlockType, SESettings, register

__all__ = ["BLOCK_TYPES", "Block", "BlockContext", "BlockType", "SESettings", "register"]
