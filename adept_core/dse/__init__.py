"""Design-space sweeps on Dask: resumable, fault-tolerant, one Parquet row per point.

``adept_core.sweep(spec, client=None, out=None)`` (re-exported from
:mod:`adept_core`) is the entry point; ``adept sweep SPEC.toml`` is the same
from the command line. Modules: :mod:`.spec` (the TOML spec), :mod:`.points`
(expansion and content hashes), :mod:`.evaluate` (the evaluation interface),
:mod:`.store` (atomic Parquet results), :mod:`.engine` (serial / Dask runs).
"""

from .engine import SweepResult, run_sweep, sweep
from .evaluate import Evaluator, evaluate_point
from .points import Point
from .spec import Axis, SweepSpec, Workload, load_spec


def __getattr__(name: str):
    # The results store needs pyarrow (the optional ``sweep`` extra): import it on first use only,
    # so ``import adept_core`` works without it.
    if name == "read_results":
        from .store import read_results

        return read_results
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["Axis", "Evaluator", "Point", "SweepResult", "SweepSpec", "Workload", "evaluate_point", "load_spec",
           "read_results", "run_sweep", "sweep"]
