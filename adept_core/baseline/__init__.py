"""The electronic baseline: a weight-stationary systolic array on the same Graph and memories."""

from .systolic import systolic_cost

__all__ = ["systolic_cost"]
