"""The photonic GEMM kernel: contract, backends, registry."""

from .core import GemmResult, GemmStats, PhotonicCore, photonic_gemm
from .registry import BACKEND_NAMES, available_backends, get_backend
from .spec import NoiseSpec, PhotonicGemmSpec, qmax

__all__ = [
    "BACKEND_NAMES", "GemmResult", "GemmStats", "NoiseSpec", "PhotonicCore", "PhotonicGemmSpec",
    "available_backends", "get_backend", "photonic_gemm", "qmax",
]
