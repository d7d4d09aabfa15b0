"""How close an emulated output is to the float32 reference."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass

import numpy as np

from ..errors import ShapeError


@dataclass(frozen=True)
class Fidelity:
    """Agreement of one output with its reference.

    Attributes
    ----------
    rel_error : float
        ``||y - ref||_2 / ||ref||_2`` over the whole tensor.
    max_rel_error : float
        ``max|y - ref| / max|ref|``.
    cosine : float
        Mean over samples (axis 0) of the cosine similarity of the flattened sample.
    top1_agreement : float or None
        Fraction of rows whose argmax over the last axis agrees (classifier outputs only).
    """

    rel_error: float
    max_rel_error: float
    cosine: float
    top1_agreement: float | None = None

    def as_dict(self) -> dict:
        return asdict(self)


def compare(y: np.ndarray, ref: np.ndarray, classifier: bool = False) -> Fidelity:
    """Fidelity of ``y`` against ``ref`` (same shape; axis 0 = samples)."""
    y = np.asarray(y, dtype=np.float64)
    ref = np.asarray(ref, dtype=np.float64)
    if y.shape != ref.shape:
        raise ShapeError(f"cannot compare shapes {y.shape} and {ref.shape}")
    diff = y - ref
    ref_norm = float(np.linalg.norm(ref))
    rel = float(np.linalg.norm(diff)) / ref_norm if ref_norm else float(np.linalg.norm(diff))
    ref_max = float(np.max(np.abs(ref))) if ref.size else 0.0
    max_rel = float(np.max(np.abs(diff))) / ref_max if ref_max else float(np.max(np.abs(diff), initial=0.0))
    flat_y = y.reshape(y.shape[0], -1) if y.ndim > 1 else y[None]
    flat_r = ref.reshape(ref.shape[0], -1) if ref.ndim > 1 else ref[None]
    den = np.linalg.norm(flat_y, axis=1) * np.linalg.norm(flat_r, axis=1)
    cos = np.where(den > 0, np.sum(flat_y * flat_r, axis=1) / np.where(den > 0, den, 1.0), 1.0)
    top1 = None
    if classifier:
        top1 = float(np.mean(np.argmax(y.reshape(-1, y.shape[-1]), axis=1) ==
                             np.argmax(ref.reshape(-1, ref.shape[-1]), axis=1)))
    return Fidelity(rel, max_rel, float(np.mean(cos)), top1)


def is_classifier_output(ref: np.ndarray) -> bool:
    """The CLI's rule for reporting argmax agreement: at least 2-D with more than one class."""
    return ref.ndim >= 2 and ref.shape[-1] > 1


def compare_outputs(ref, out, classifier: bool | None = None):
    """The fidelity figures ``adept run`` prints, for your own reference and emulated outputs.

    Parameters
    ----------
    ref, out : numpy.ndarray or mapping name -> numpy.ndarray
        The float32 reference and the emulated output(s), e.g. ``reference.outputs`` and
        ``result.outputs`` of two :meth:`PreparedModel.run` calls. Axis 0 holds the samples.
    classifier : bool or None
        Report argmax agreement over the last axis; ``None`` (default) decides as the CLI
        does (:func:`is_classifier_output`).

    Returns
    -------
    Fidelity, or dict name -> Fidelity when mappings were given (same keys required).
    """
    if isinstance(ref, Mapping) or isinstance(out, Mapping):
        if not (isinstance(ref, Mapping) and isinstance(out, Mapping)):
            raise ShapeError("compare_outputs needs two arrays or two mappings name -> array, got "
                             f"{type(ref).__name__} and {type(out).__name__}")
        if set(ref) != set(out):
            raise ShapeError(f"compare_outputs: reference has outputs {sorted(ref)}, emulation {sorted(out)}")
        return {name: compare_outputs(ref[name], out[name], classifier) for name in ref}
    ref, out = np.asarray(ref), np.asarray(out)
    return compare(out, ref, classifier=is_classifier_output(ref) if classifier is None else bool(classifier))
