"""The error hierarchy of adept.

Every error a user can provoke with bad input is an :class:`AdeptError`; the
ones about values also subclass :class:`ValueError` so generic callers can
catch them the usual way. Messages name the bad value and what is allowed.
"""


class AdeptError(Exception):
    """Base class of every error adept raises on purpose."""


class ConfigError(AdeptError, ValueError):
    """An impossible or unknown configuration value (spec, preset, TOML key)."""


class ShapeError(AdeptError, ValueError):
    """An array of the wrong shape, rank, dtype or memory layout."""


class BudgetError(ShapeError):
    """A tensor, or a loop's stacked outputs, over the element budget of a model (``max_elements``).

    Its own type so that callers which fall back to another evaluator on a :class:`ShapeError` can
    tell an over-budget model, which is refused everywhere, from a shape the fallback can hold.
    """


class SymbolicShapeError(ShapeError):
    """A model input or output whose dimension is symbolic where the caller gave no size for it.

    Its own type so that the CLI can retry the import with sizes taken from the user's data.
    """


class InputError(AdeptError, ValueError):
    """Input values the hardware cannot represent (NaN, Inf)."""


class BackendUnavailableError(AdeptError, RuntimeError):
    """A kernel backend was asked for but is not built or not importable."""


class UnsupportedOpError(AdeptError, NotImplementedError):
    """A model contains an operator adept does not implement."""


class UnknownOpError(UnsupportedOpError):
    """An op type (or domain) adept has no kernel for at all, whatever the shapes or input values.

    Its own type so that the ONNX importer never defers it to run time (binding input values cures
    shapes that depend on data, never a missing op): it is raised at import, naming the node.
    """
