"""adept: a bit-accurate emulator of the ADEPT electro-photonic DNN accelerator.

Public API (stable names other projects import):

- kernel: :class:`NoiseSpec`, :class:`PhotonicGemmSpec`, :class:`PhotonicCore`,
  :func:`photonic_gemm` (returns :class:`GemmResult`: ``.out``, ``.stats``), :class:`GemmStats`,
  :func:`available_backends`;
- models: :class:`Graph`, :func:`build_workload` (the zoo), :func:`from_onnx`;
- hardware: :func:`load_config`, :func:`kernel_spec`, :func:`link_budget`;
- numbers: :func:`prepare` (the executor), :func:`compare_outputs` (the fidelity figures the CLI prints);
- cost: :func:`evaluate`, :class:`Report`;
- sweeps: :func:`sweep`;
- errors: :class:`AdeptError` and its subclasses.

The kernel and the errors are imported eagerly; everything else on first use
(PEP 562), so ``import adept_core`` does not pay for onnx, numba or dask.
"""

from importlib import import_module
from importlib.metadata import PackageNotFoundError, version as _version

from .errors import (AdeptError, BackendUnavailableError, BudgetError, ConfigError, InputError, ShapeError,
                     UnknownOpError, UnsupportedOpError)
from .kernels import GemmResult, GemmStats, NoiseSpec, PhotonicCore, PhotonicGemmSpec, available_backends, photonic_gemm

try:
    __version__ = _version("adept-core")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0+source"

#: Lazily exported name -> (module, attribute).
_LAZY = {
    "Graph": ("adept_core.graph.ir", "Graph"),
    "build_workload": ("adept_core.graph.zoo", "build"),
    "from_onnx": ("adept_core.graph.onnx_import", "from_onnx"),
    "load_config": ("adept_core.hardware", "load_config"),
    "kernel_spec": ("adept_core.hardware", "kernel_spec"),
    "link_budget": ("adept_core.hardware", "link_budget"),
    "prepare": ("adept_core.emulate", "prepare"),
    "compare_outputs": ("adept_core.emulate", "compare_outputs"),
    "evaluate": ("adept_core.energy", "evaluate"),
    "Report": ("adept_core.energy", "Report"),
    "sweep": ("adept_core.dse", "sweep"),
}


def __getattr__(name: str):
    if name in _LAZY:
        module, attr = _LAZY[name]
        value = getattr(import_module(module), attr)
        globals()[name] = value  # later look-ups skip this function
        return value
    raise AttributeError(f"module 'adept_core' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


__all__ = [
    "AdeptError", "BackendUnavailableError", "BudgetError", "ConfigError", "GemmResult", "GemmStats", "InputError", "NoiseSpec",
    "PhotonicCore", "PhotonicGemmSpec", "ShapeError", "UnknownOpError", "UnsupportedOpError", "available_backends",
    "photonic_gemm", "__version__", *_LAZY,
]
