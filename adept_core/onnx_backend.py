"""adept as a standard ONNX backend (``onnx.backend.base.Backend``).

    from adept_core import onnx_backend
    rep = onnx_backend.prepare(model, precision="fp32")      # or precision="adept" (emulated chip)
    outputs = rep.run([x])                                   # a list (graph input order) or a dict

``prepare`` checks the model; the Graph is imported when the inputs are known, with the inputs' own
shapes (``from_onnx(..., input_shapes=...)``), and the prepared graph is cached per input signature
(names, shapes and dtypes), so a model with symbolic dimensions runs at every size it is given. Inputs
given exactly as the graph declares them run whole (no batch axis is needed). ``precision="adept"``
forwards ``prepare_kwargs`` (``spec``, ``adc``, ``asic_format``, ...) to
:func:`adept_core.emulate.prepare`. The backend is what ``tests/test_onnx_backend.py`` runs onnx's
own ``onnx.backend.test.BackendTest`` with.
"""

from __future__ import annotations

from collections import namedtuple

import numpy as np
import onnx
from onnx import numpy_helper
from onnx.backend.base import Backend, BackendRep

from .emulate import prepare as _prepare
from .emulate.signature_cache import SignatureCache
from .errors import ConfigError, ShapeError
from .graph.onnx_control_flow import BIND_MAX_ELEMENTS, bind_time_inputs
from .graph.onnx_import import MAX_ELEMENTS, from_onnx

DEVICES = ("CPU",)

#: Input signatures (shapes, dtypes, bound values) a prepared backend model keeps imported graphs for.
MAX_SIGNATURES = 16


class AdeptRep(BackendRep):
    """A model bound to a precision; imports and prepares once per input signature."""

    def __init__(self, model: onnx.ModelProto, precision: str, max_elements: int, prepare_kwargs: dict):
        self.model = model
        self.precision = precision
        self.max_elements = max_elements
        self.prepare_kwargs = prepare_kwargs
        inits = {i.name for i in model.graph.initializer}
        self.input_names = [i.name for i in model.graph.input if i.name not in inits]
        self.output_names = [o.name for o in model.graph.output]
        self._cache = SignatureCache(MAX_SIGNATURES)
        self.bound_names = bind_time_inputs(model, self.input_names)

    def run(self, inputs, **kwargs):
        feeds = self._feeds(inputs)
        # Inputs bound at import (see bind_time_inputs) are part of the signature by value.
        bound = {n: feeds.pop(n) for n in self.bound_names if n in feeds and feeds[n].size <= BIND_MAX_ELEMENTS}
        key = (tuple((n, a.shape, a.dtype.str) for n, a in feeds.items())
               + tuple((n, a.dtype.str, a.shape, a.tobytes()) for n, a in bound.items()))
        model = self._cache.get(key, lambda: _prepare(
            from_onnx(self.model, input_shapes={n: a.shape for n, a in feeds.items()},
                      max_elements=self.max_elements, input_values=bound),
            precision=self.precision, **self.prepare_kwargs))
        outputs = model.run(feeds, seed=int(kwargs.get("seed", 0))).outputs
        result = namedtuple("Outputs", [f"o{i}" for i in range(len(self.output_names))], rename=True)
        return result(*[outputs[name] for name in self.output_names])

    def _feeds(self, inputs) -> dict[str, np.ndarray]:
        if isinstance(inputs, dict):
            feeds = dict(inputs)
        else:
            if isinstance(inputs, np.ndarray) and len(self.input_names) == 1:
                inputs = [inputs]
            inputs = list(inputs)
            if len(inputs) != len(self.input_names):
                raise ShapeError(f"the model takes {len(self.input_names)} input(s) {self.input_names}, "
                                 f"got {len(inputs)}")
            feeds = dict(zip(self.input_names, inputs))
        return {n: numpy_helper.to_array(v) if isinstance(v, onnx.TensorProto) else np.asarray(v)
                for n, v in feeds.items()}


class AdeptBackend(Backend):
    """``onnx.backend.base.Backend`` running models on the adept emulator (fp32 reference or emulated)."""

    @classmethod
    def prepare(cls, model, device: str = "CPU", precision: str = "fp32", max_elements: int = MAX_ELEMENTS,
                **kwargs) -> AdeptRep:
        if not cls.supports_device(device):
            raise ConfigError(f"device {device!r} is not supported; adept runs on {', '.join(DEVICES)}")
        if isinstance(model, (bytes, bytearray)):
            model = onnx.load_from_string(bytes(model))
        super().prepare(model, device, **kwargs)  # the onnx checker
        return AdeptRep(model, precision, max_elements, kwargs)

    @classmethod
    def run_model(cls, model, inputs, device: str = "CPU", **kwargs):
        return cls.prepare(model, device, **kwargs).run(inputs)

    @classmethod
    def supports_device(cls, device: str) -> bool:
        return str(device).split(":")[0].upper() in DEVICES


prepare = AdeptBackend.prepare
run_model = AdeptBackend.run_model
supports_device = AdeptBackend.supports_device
