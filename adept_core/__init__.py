"""adept: a bit-accurate emulator of the ADEPT electro-photonic DNN accelerator.

Public API (stable names other projects import):

- kernel: :class:`NoiseSpec`, :class:`PhotonicGemmSpec`, :class:`PhotonicCore`,
  :func:`photonic_gemm`, :func:`available_backends`;
- errors: :class:`AdeptError` and its subclasses.
"""

from importlib.metadata import PackageNotFoundError, version as _version

from .errors import AdeptError, BackendUnavailableError, ConfigError, InputError, ShapeError, UnsupportedOpError
from .kernels import GemmStats, NoiseSpec, PhotonicCore, PhotonicGemmSpec, available_backends, photonic_gemm
from .graph.onnx_import import from_onnx
from .energy import Report, evaluate  # cost model: latency, power, energy of a Graph on a HardwareConfig
from .sweep import sweep  # design-space sweeps; dask, pyarrow and tqdm are imported only when one runs

try:
    __version__ = _version("adept-core")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0+source"

__all__ = [
    "AdeptError", "BackendUnavailableError", "ConfigError", "GemmStats", "InputError", "NoiseSpec",
    "PhotonicCore", "PhotonicGemmSpec", "ShapeError", "UnsupportedOpError", "available_backends",
    "photonic_gemm", "__version__",
]
