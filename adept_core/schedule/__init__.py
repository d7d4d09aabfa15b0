"""Mapping a Graph onto ADEPT (photonic cores + ASIC + memories) or the systolic baseline."""

from .digest import GraphDigest, digest
from .params import CostParams, stack, with_levers
from .mapping import LAYER_FIELDS, Schedule, schedule

__all__ = ["CostParams", "GraphDigest", "LAYER_FIELDS", "Schedule", "digest", "schedule", "stack", "with_levers"]
