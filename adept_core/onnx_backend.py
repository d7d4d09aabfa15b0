"""adept as a standard ONNX backend (``onnx.backend.base.Backend``).

    from adept_core import onnx_backend
    rep = onnx_backend.prepare(model, precision="fp32")      # or precision="adept" (emulated chip)
    outputs = rep.run([x])                                   # a list (graph input order) or a dict
    chip = onnx_backend.prepare(model, precision="adept")
    chip.calibrate([x_cal])                                  # ADC ranges from held-out data, once
    outputs = chip.run([x])

``prepare`` checks the model; the Graph is imported when the inputs are known, with the inputs' own
shapes (``from_onnx(..., input_shapes=...)``), and the prepared graph is cached per input signature
(names, shapes and dtypes), so a model with symbolic dimensions runs at every size it is given. Inputs
given exactly as the graph declares them run whole (no batch axis is needed). ``precision="adept"``
forwards ``prepare_kwargs`` (``spec``, ``adc``, ``asic_format``, ``calibration``, ...) to
:func:`adept_core.emulate.prepare`, with the defaults of ``adept run``: the ``adept`` preset's core
(``spec``) and a calibrated ADC (``adc="calibrated"``), whose ranges come from ``rep.calibrate(inputs)``
(held-out data; shared by every input signature) or ``calibration=``; ``run`` refuses to guess them
(the worst-case range gives tens of percent error: pass ``adc="worst_case"`` to choose it).
``run_model`` calibrates on its own inputs, as :func:`adept_core.emulate.emulate` does. The backend is what ``tests/test_onnx_backend.py`` runs onnx's
own ``onnx.backend.test.BackendTest`` with.
"""

from __future__ import annotations

import warnings
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
from .hardware import kernel_spec, load_config

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
        #: Per-layer ADC ranges, one dict shared by the model of every input signature (precision="adept").
        self.calibration: dict = dict(prepare_kwargs.get("calibration") or {})
        self._calibrated = bool(self.calibration)
        #: The EmulationResult of the last :meth:`run` (per-layer stats, clipped layers, seconds).
        self.last_result = None
        self._warned_clipping = False

    @property
    def needs_calibration(self) -> bool:
        """Whether :meth:`run` waits for :meth:`calibrate` (emulated precision, calibrated ADC, no ranges yet)."""
        return self.precision == "adept" and self.prepare_kwargs.get("adc") == "calibrated" and not self._calibrated

    def calibrate(self, inputs) -> dict:
        """Record the ADC ranges of every photonic layer from ``inputs`` (as :meth:`run` takes them), for
        every input signature; returns :attr:`calibration`. Use held-out, representative data."""
        if self.precision != "adept" or self.prepare_kwargs.get("adc") != "calibrated":
            raise ConfigError("calibrate() applies to precision='adept' with adc='calibrated' "
                              f"(this model: precision={self.precision!r}, adc={self.prepare_kwargs.get('adc')!r})")
        feeds, model = self._model(inputs)
        model.calibrate(feeds, progress=False)
        self._calibrated = True
        return self.calibration

    def run(self, inputs, **kwargs):
        if self.needs_calibration:
            raise ConfigError("precision='adept' with adc='calibrated' needs the ADC ranges first: call "
                              "rep.calibrate(inputs) with representative inputs, pass calibration=, or prepare with "
                              "adc='worst_case' (no calibration, a coarse ADC range)")
        feeds, model = self._model(inputs)
        self.last_result = model.run(feeds, seed=int(kwargs.get("seed", 0)))
        self._warn_clipping(self.last_result.clipped_layers, model.clip_threshold)
        outputs = self.last_result.outputs
        result = namedtuple("Outputs", [f"o{i}" for i in range(len(self.output_names))], rename=True)
        return result(*[outputs[name] for name in self.output_names])

    def _warn_clipping(self, clipped: list, threshold: float) -> None:
        """Say once per model that layers clip (the standard API returns only outputs, which carry that error)."""
        if not clipped or self._warned_clipping:
            return
        self._warned_clipping = True
        worst = sorted(clipped, key=lambda item: -item[1])
        shown = ", ".join(f"{layer} {frac:.2%}" for layer, frac in worst[:3])
        warnings.warn(f"adept: {len(clipped)} photonic layer(s) clipped more than {threshold:.2%} of their ADC "
                      f"conversions (worst: {shown}), and the outputs carry that error; rep.last_result.clipped_layers "
                      "lists them on every run. headroom= (> 1) or a spec with an analog gain nearer 1 clips less. "
                      "Said once per prepared model.", RuntimeWarning, stacklevel=3)

    def _model(self, inputs):
        """(feeds less the inputs bound at import, the prepared model of their signature)."""
        feeds = self._feeds(inputs)
        # Inputs bound at import (see bind_time_inputs) are part of the signature by value.
        bound = {n: feeds.pop(n) for n in self.bound_names if n in feeds and feeds[n].size <= BIND_MAX_ELEMENTS}
        key = (tuple((n, a.shape, a.dtype.str) for n, a in feeds.items())
               + tuple((n, a.dtype.str, a.shape, a.tobytes()) for n, a in bound.items()))
        return feeds, self._cache.get(key, lambda: self._prepared(feeds, bound))

    def _prepared(self, feeds: dict, bound: dict):
        model = _prepare(from_onnx(self.model, input_shapes={n: a.shape for n, a in feeds.items()},
                                   max_elements=self.max_elements, input_values=bound),
                         precision=self.precision, **self.prepare_kwargs)
        model.share_calibration(self.calibration)
        return model

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
        if precision == "adept":  # the emulated chip: the adept preset, a calibrated ADC (as `adept run`)
            kwargs.setdefault("adc", "calibrated")
            if "spec" not in kwargs:
                kwargs["spec"] = kernel_spec(load_config("adept"))
        return AdeptRep(model, precision, max_elements, kwargs)

    @classmethod
    def run_model(cls, model, inputs, device: str = "CPU", **kwargs):
        """One-shot: prepare and run; in emulated precision with a calibrated ADC and no ``calibration=``,
        the ADC ranges come from ``inputs`` themselves (as :func:`adept_core.emulate.emulate` does)."""
        rep = cls.prepare(model, device, **kwargs)
        if rep.needs_calibration:
            rep.calibrate(inputs)
        return rep.run(inputs)

    @classmethod
    def supports_device(cls, device: str) -> bool:
        return str(device).split(":")[0].upper() in DEVICES


prepare = AdeptBackend.prepare
run_model = AdeptBackend.run_model
supports_device = AdeptBackend.supports_device
