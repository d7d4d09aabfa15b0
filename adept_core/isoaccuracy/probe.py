"""A real model on the emulator as the search's ``score(laser_mw, seed)``.

One :class:`ModelProbe` per (model, design): the fp32 reference is run once; the ADC ranges are
calibrated once on the model's *calibration* inputs (MiniLM: 20 held-out sentences never
evaluated; EfficientNet-Lite0: the evaluation photos mirrored left-right, the only natural photos
that ship; ``adept_core.models``) -- calibration runs the float32 network and does not depend on
the laser, so every laser reuses it; each ``(laser, seed)`` then runs the evaluation inputs.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Mapping

from ..kernels import NoiseSpec
from .criteria import CRITERIA, check_model, fidelity, relative_metrics
from .designs import Design


def design_config(design: Design, config: str = "adept", overrides: Mapping[str, Any] | None = None,
                  laser_mw: float | None = None):
    """The HardwareConfig of ``design`` on ``config`` + ``overrides`` (design wins), at ``laser_mw`` if given."""
    from ..hardware import load_config

    over = {**dict(overrides or {}), **dict(design.overrides)}
    if laser_mw is not None:
        over["optics.laser_power_mw"] = float(laser_mw)
    return load_config(config, over)


class ModelProbe:
    """Fidelity of one real model on one design at any laser and seed (see the module docstring)."""

    def __init__(self, model: str, design: Design, config: str = "adept", overrides: Mapping[str, Any] | None = None,
                 model_params: Mapping[str, Any] | None = None, backend: str = "auto", real=None) -> None:
        from .. import models
        from ..emulate import prepare
        from ..hardware import kernel_spec

        check_model(model)
        self.model, self.design, self.backend = model, design, backend
        self.cfg = design_config(design, config, overrides)
        self.real = real if real is not None else models.build(model, **dict(model_params or {}))
        self.reference = prepare(self.real.graph, precision="fp32").run(self.real.inputs).outputs
        self.reference_metrics = self.real.compare(self.reference, self.reference)
        self.calibration = None
        if design.adc == "calibrated":
            m = prepare(self.real.graph, spec=kernel_spec(self.cfg), adc="calibrated", backend=backend)
            self.calibration = dict(m.calibrate(self.real.calibration_inputs))
        self.last_metrics: dict[tuple[float, int], dict[str, float]] = {}

    def _run(self, spec, seed: int) -> float:
        from ..emulate import prepare

        m = prepare(self.real.graph, spec=spec, adc=self.design.adc, calibration=self.calibration, backend=self.backend)
        metrics = self.real.compare(self.reference, m.run(self.real.inputs, seed=seed).outputs)
        rel = relative_metrics(self.model, metrics, self.reference_metrics)
        return fidelity(rel), {**{k: metrics[k] for k in CRITERIA[self.model]}, **{f"{k}_rel": v for k, v in rel.items()}}

    def score(self, laser_mw: float, seed: int) -> float:
        """Fidelity (smallest criterion / fp32) at ``laser_mw`` with noise seed ``seed``."""
        from ..hardware import kernel_spec

        fid, metrics = self._run(kernel_spec(self.cfg, laser_power_mw=laser_mw), seed)
        self.last_metrics[(laser_mw, seed)] = {**metrics, "fidelity": fid}
        return fid

    def noiseless(self) -> float:
        """Fidelity with the analog noise off (quantization and the ADC only)."""
        from ..hardware import kernel_spec

        return self._run(replace(kernel_spec(self.cfg), noise=NoiseSpec()), 0)[0]

    def waveguide(self, laser_mw: float) -> tuple[float, float]:
        """(mW per input waveguide, ``optics.max_waveguide_power_mw``) at ``laser_mw``."""
        from ..hardware.linkbudget import waveguide_power_mw

        return waveguide_power_mw(self.cfg, laser_mw), float(self.cfg.optics.max_waveguide_power_mw)
