"""Infeasible design points: a row that keeps its metrics but carries its reason as the ``error``.

A design whose laser puts more than ``optics.max_waveguide_power_mw`` into an input waveguide cannot be
built (the waveguide turns nonlinear), yet what it *would* cost is what shows where the limit cuts a
laser sweep. Such a point is therefore evaluated as usual and then marked:

- ``infeasible``: the linkbudget's note (``""`` when the design is within every limit);
- ``error``: ``"infeasible: <reason>"`` (:data:`INFEASIBLE_PREFIX`), so every consumer that only asks
  "did this point work?" sees that it did not, with the named reason.

Unlike an evaluation failure (``"ExceptionType: message"``, metrics null) an infeasible row has its
metrics. Consumers that count failures (:class:`~adept_core.dse.engine.SweepResult`, the progress bar,
``adept sweep``'s summary) count it as *infeasible*, not as failed; ``adept plot`` keeps it and draws it
hollow. On resume neither kind is computed again: its ``point_hash`` is in the file, and re-running
it would give the same answer (the hash covers everything the result depends on).
"""

from __future__ import annotations

from typing import Any, Mapping

#: How an infeasible row's ``error`` begins (lower case: not an exception type, see the module doc).
INFEASIBLE_PREFIX = "infeasible: "
#: The metric an evaluator sets to a non-empty reason to mark its point infeasible.
INFEASIBLE_METRIC = "infeasible"
_NOTE_PREFIX = "INFEASIBLE: "  # how linkbudget.waveguide_limit_note starts its sentence


def infeasible_error(metrics: Mapping[str, Any]) -> str:
    """The ``error`` of a row with these metrics: ``"infeasible: <reason>"``, or ``""`` when feasible."""
    note = metrics.get(INFEASIBLE_METRIC)
    if not isinstance(note, str) or not note:
        return ""
    reason = note[len(_NOTE_PREFIX):] if note.startswith(_NOTE_PREFIX) else note
    return INFEASIBLE_PREFIX + reason


def is_infeasible(error: Any) -> bool:
    """True for the ``error`` of an infeasible row (metrics present), False for "" or a failure."""
    return isinstance(error, str) and error.startswith(INFEASIBLE_PREFIX)


def is_failure(error: Any) -> bool:
    """True for the ``error`` of a point that could not be evaluated (no metrics)."""
    return bool(error) and not is_infeasible(error)
