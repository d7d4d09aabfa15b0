"""The executor: what the ADEPT chip computes for a whole network (see ``docs/executor.md``)."""

from .engine import ADC_POLICIES, LayerStats
from .executor import EXECUTABLE_OPS, PRECISIONS, EmulationResult, PreparedModel, emulate, prepare
from .fidelity import Fidelity, compare, compare_outputs
from .passes import fold_batchnorm
from .seeds import stable_key

__all__ = ["ADC_POLICIES", "EXECUTABLE_OPS", "EmulationResult", "Fidelity", "LayerStats", "PRECISIONS",
           "PreparedModel", "compare", "compare_outputs", "emulate", "fold_batchnorm", "prepare", "stable_key"]
