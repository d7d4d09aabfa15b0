"""The sweep specification: what to sweep, read strictly from TOML or a dict.

A spec names the workloads, a base hardware preset, the axes and what to
compute. Every key is checked: an unknown key, a wrong type or an empty axis
raises :class:`~adept_core.errors.ConfigError` naming the key and what is
allowed, before anything runs. Example (``examples/sweeps/cores_bits.toml``)::

    name = "cores_bits"
    preset = "adept"
    compute = ["cost"]
    workloads = ["resnet50", { name = "bert-large", params = { seq_len = 128 } }]

    [overrides]                      # fixed config overrides, applied to every point
    "photonic.wdm_channels" = 1

    [axes]
    "photonic.num_cores" = { from = 1, to = 16, factor = 2 }   # 1, 2, 4, 8, 16
    "photonic.adc_bits"  = { from = 4, to = 10, step = 2 }     # 4, 6, 8, 10
    core_size = { keys = ["photonic.rows", "photonic.cols"], values = [64, 128, 256] }
    batch = [1, 8]

Axes are dotted hardware-config keys (the same keys as the ``overrides`` of
:func:`adept_core.hardware.load_config`), *linked* axes that write one value
to several keys (``core_size`` above: square cores), and two special axes:
``batch`` (inferences per run, default 1) and ``seed`` (noise seed of
fidelity runs, default 0). Ranges are inclusive of ``to`` when the step lands on it:
``step`` (arithmetic), ``factor`` (geometric) or ``num`` points with
``scale = "linear"`` or ``"log"``.

Grids are sized before they are built: a range axis longer than the point
limit, or a spec with more points in all (workloads times the product of the
axis lengths), is refused with the count. The limit is
:data:`DEFAULT_MAX_POINTS`; a spec raises it with ``max_points = N`` (and
``adept sweep --max-points N`` / ``sweep(..., max_points=N)`` override both),
so a typo like ``step = 1e-6`` cannot silently ask for 10^8 points. Every
value of one axis has one type (numbers, booleans or strings), so its results
column has one type too.
"""

from __future__ import annotations

import math
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from ..errors import ConfigError

#: What a sweep can compute at each point.
COMPUTE_KINDS = ("cost", "fidelity")
#: Axes that are not hardware-config keys.
SPECIAL_AXES = ("batch", "seed")
#: Keys allowed at the top level of a spec.
TOP_LEVEL_KEYS = ("name", "description", "preset", "compute", "workloads", "axes", "overrides", "fidelity",
                  "points_per_task", "max_points")
#: Most points a spec may have unless it (or the caller) raises the limit: a full-size sweep of the
#: cost model takes ~1 ms a point on a laptop core, so this is minutes of work and ~100 MB of points.
DEFAULT_MAX_POINTS = 100_000
_WORKLOAD_KEYS = ("name", "params", "label")
_RANGE_KEYS = ("from", "to", "step", "factor", "num", "scale")
#: Result columns every row has besides the axis values and the metrics; no other axis may take these names.
RESERVED_COLUMNS = ("workload", "batch", "seed", "error", "eval_time_s", "adept_version", "config_hash",
                    "point_hash")
_LINKED_KEYS = ("keys", "values")
#: Scalars an axis value or an override may be (TOML types the config understands).
Scalar = int | float | bool | str


@dataclass(frozen=True)
class Workload:
    """A model of the zoo and the parameters it is built with.

    Attributes
    ----------
    name : str
        Zoo name, passed to :func:`adept_core.graph.zoo.build`.
    params : tuple of (str, value)
        Keyword arguments of ``build``, sorted by name (hashable, canonical;
        list values become tuples).
    label : str
        The value of the ``workload`` column of the results; unique in a spec.
    """

    name: str
    params: tuple[tuple[str, Scalar], ...] = ()
    label: str = ""


@dataclass(frozen=True)
class Axis:
    """One swept dimension, in the order its values are swept.

    Attributes
    ----------
    key : str
        Name of the axis and of its results column.
    values : tuple
        The values, in sweep order.
    config_keys : tuple of str
        Dotted config keys the value is written to: ``(key,)`` for a plain
        config axis, several for a linked axis (``core_size`` setting both
        ``photonic.rows`` and ``photonic.cols``), none for ``batch``/``seed``.
    """

    key: str
    values: tuple[Scalar, ...]
    config_keys: tuple[str, ...] = ()


@dataclass(frozen=True)
class SweepSpec:
    """A validated sweep specification (build it with :func:`load_spec`).

    Attributes
    ----------
    workloads : tuple of Workload
        The outermost axis of the sweep.
    axes : tuple of Axis
        Swept dimensions in spec order (the last one varies fastest).
    preset : str
        Base hardware preset name or path of a preset TOML (in a spec file,
        relative to the spec file's directory).
    compute : tuple of str
        Subset of :data:`COMPUTE_KINDS`.
    overrides : tuple of (str, value)
        Config overrides applied to every point, before the axis values.
    fidelity : tuple of (str, value)
        Options passed to the fidelity evaluation (sorted by key).
    points_per_task : int or None
        Points evaluated by one Dask task; ``None`` chooses automatically.
    name, description : str
        Free text, kept in the results file's metadata.
    """

    workloads: tuple[Workload, ...]
    axes: tuple[Axis, ...] = ()
    preset: str = "adept"
    compute: tuple[str, ...] = ("cost",)
    overrides: tuple[tuple[str, Scalar], ...] = ()
    fidelity: tuple[tuple[str, Any], ...] = ()
    points_per_task: int | None = None
    name: str = ""
    description: str = ""
    source: dict = field(default_factory=dict, compare=False, repr=False)

    @property
    def num_points(self) -> int:
        """Number of points: workloads times the product of the axis lengths."""
        return len(self.workloads) * math.prod(len(axis.values) for axis in self.axes)

    @property
    def config_keys(self) -> tuple[str, ...]:
        """Hardware-config keys set by the spec (fixed overrides and axes)."""
        keys = [key for key, _ in self.overrides] + [k for axis in self.axes for k in axis.config_keys]
        return tuple(dict.fromkeys(keys))


def load_spec(spec: "SweepSpec | Mapping[str, Any] | str | os.PathLike[str]",
              max_points: int | None = None) -> SweepSpec:
    """Read and validate a sweep spec.

    Parameters
    ----------
    spec : SweepSpec, mapping, or path
        A spec already loaded (returned as is), the parsed TOML as a dict, or
        the path of a TOML file.
    max_points : int or None
        Most points allowed; ``None``: the spec's ``max_points``, else
        :data:`DEFAULT_MAX_POINTS`.

    Raises
    ------
    ConfigError
        Unknown keys, wrong types, empty or duplicated axis values, a missing
        file; the message names the offending key and what is allowed.
    """
    if isinstance(spec, SweepSpec):
        _check_size(spec.num_points, _limit(max_points, "max_points"), "sweep spec")
        return spec
    if isinstance(spec, (str, os.PathLike)):
        path = Path(spec)
        try:
            with path.open("rb") as fh:
                data = tomllib.load(fh)
        except FileNotFoundError:
            raise ConfigError(f"sweep spec file {str(path)!r} does not exist") from None
        except IsADirectoryError:
            raise ConfigError(f"sweep spec {str(path)!r} is a directory, not a TOML file") from None
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(f"sweep spec {str(path)!r} is not valid TOML: {exc}") from None
        preset = data.get("preset")
        if isinstance(preset, str) and preset.endswith(".toml"):
            # Confined like a config's ``base``: a spec file may name a preset or a .toml next to it (or
            # below), never a file elsewhere whose keys an error message would then print.
            from ..hardware.loader import resolve_named_config

            data = {**data, "preset": str(resolve_named_config(preset, path))}
        return _parse(data, where=str(path), max_points=max_points)
    if isinstance(spec, Mapping):
        return _parse(dict(spec), where="sweep spec", max_points=max_points)
    raise ConfigError(f"a sweep spec is a SweepSpec, a dict or a TOML path, got {type(spec).__name__}")


def _limit(value: Any, what: str) -> int:
    if value is None:
        return DEFAULT_MAX_POINTS
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(f"{what} must be a positive integer, got {value!r}")
    return value


def _check_size(count: int, limit: int, where: str) -> None:
    if count > limit:
        raise ConfigError(f"{where} has {count:,} points, above the limit of {limit:,}; shrink the axes or, "
                          "if you mean it, raise the limit (max_points = N in the spec, --max-points N)")


def _parse(data: dict, where: str, max_points: int | None = None) -> SweepSpec:
    _reject_unknown(data, TOP_LEVEL_KEYS, where)
    limit = _limit(max_points if max_points is not None else data.get("max_points"), f"{where}: max_points")
    if "workloads" not in data:
        raise ConfigError(f"{where}: 'workloads' is required (a list of zoo names or {{name, params, label}} tables)")
    workloads = _parse_workloads(data["workloads"], where)
    axes = _parse_axes(data.get("axes", {}), where, limit)
    _check_size(len(workloads) * math.prod(len(axis.values) for axis in axes), limit, where)
    overrides = _parse_overrides(data.get("overrides", {}), where)
    set_by = [k for axis in axes for k in axis.config_keys] + [key for key, _ in overrides]
    clash = sorted({k for k in set_by if set_by.count(k) > 1})
    if clash:
        raise ConfigError(f"{where}: config key(s) {clash} are set by more than one axis or override; "
                          "keep each key in one place")
    compute = data.get("compute", ["cost"])
    if isinstance(compute, str):
        compute = ["cost", "fidelity"] if compute == "both" else [compute]
    if not isinstance(compute, list) or not compute or any(c not in COMPUTE_KINDS for c in compute):
        raise ConfigError(f"{where}: compute must be a non-empty list from {list(COMPUTE_KINDS)} (or 'both'), "
                          f"got {data.get('compute')!r}")
    fidelity = _parse_fidelity(data.get("fidelity", {}), where)
    ppt = data.get("points_per_task")
    if ppt is not None and (isinstance(ppt, bool) or not isinstance(ppt, int) or ppt < 1):
        raise ConfigError(f"{where}: points_per_task must be a positive integer, got {ppt!r}")
    for key in ("name", "description", "preset"):
        if key in data and not isinstance(data[key], str):
            raise ConfigError(f"{where}: {key} must be a string, got {data[key]!r}")
    return SweepSpec(
        workloads=workloads, axes=axes, preset=data.get("preset", "adept"),
        compute=tuple(c for c in COMPUTE_KINDS if c in compute), overrides=overrides,
        fidelity=tuple(sorted(fidelity.items())), points_per_task=ppt,
        name=data.get("name", ""), description=data.get("description", ""), source=data,
    )


#: Options of the [fidelity] table: name -> (check, what is allowed).
_FIDELITY_CHECKS = {
    "adc": (lambda v: v in ("calibrated", "worst_case"), "'calibrated' or 'worst_case'"),
    "noise": (lambda v: isinstance(v, bool), "true or false"),
    "backend": (lambda v: v in ("auto", "cpp", "numba", "numpy"), "'auto', 'cpp', 'numba' or 'numpy'"),
    "threads": (lambda v: isinstance(v, int) and not isinstance(v, bool) and v >= 1, "an integer >= 1"),
}


def _parse_fidelity(raw: Any, where: str) -> dict:
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: [fidelity] must be a table of options, got {raw!r}")
    _reject_unknown(raw, tuple(_FIDELITY_CHECKS), f"{where}: [fidelity]")
    for key, value in raw.items():
        ok, allowed = _FIDELITY_CHECKS[key]
        if not ok(value):
            raise ConfigError(f"{where}: fidelity.{key} must be {allowed}, got {value!r}")
    return raw


def _reject_unknown(table: Mapping, allowed: tuple[str, ...], where: str) -> None:
    unknown = sorted(set(table) - set(allowed))
    if unknown:
        raise ConfigError(f"{where}: unknown key(s) {unknown}; allowed: {list(allowed)}")


def _check_scalar(value: Any, where: str) -> Scalar:
    if not isinstance(value, (int, float, bool, str)):
        raise ConfigError(f"{where}: values must be numbers, booleans or strings, got {value!r}")
    if isinstance(value, float) and not math.isfinite(value):
        raise ConfigError(f"{where}: values must be finite, got {value!r}")
    return value


def _check_param(value: Any, where: str) -> Scalar | tuple[Scalar, ...]:
    """A workload parameter: a scalar, or a list of scalars (kept as a tuple: points must be hashable)."""
    if isinstance(value, list):
        return tuple(_check_scalar(v, where) for v in value)
    return _check_scalar(value, where)


def _parse_workloads(raw: Any, where: str) -> tuple[Workload, ...]:
    if not isinstance(raw, list) or not raw:
        raise ConfigError(f"{where}: workloads must be a non-empty list, got {raw!r}")
    out = []
    for i, item in enumerate(raw):
        here = f"{where}: workloads[{i}]"
        if isinstance(item, str):
            item = {"name": item}
        if not isinstance(item, dict):
            raise ConfigError(f"{here} must be a zoo name or a {{name, params, label}} table, got {item!r}")
        _reject_unknown(item, _WORKLOAD_KEYS, here)
        name = item.get("name")
        if not isinstance(name, str) or not name:
            raise ConfigError(f"{here}: 'name' must be a non-empty string, got {name!r}")
        params = item.get("params", {})
        if not isinstance(params, dict):
            raise ConfigError(f"{here}: params must be a table, got {params!r}")
        params = tuple(sorted((k, _check_param(v, f"{here}.params.{k}")) for k, v in params.items()))
        label = item.get("label") or name + ("(" + ",".join(f"{k}={v}" for k, v in params) + ")" if params else "")
        if not isinstance(label, str):
            raise ConfigError(f"{here}: label must be a string, got {label!r}")
        out.append(Workload(name=name, params=params, label=label))
    labels = [w.label for w in out]
    dupes = sorted({label for label in labels if labels.count(label) > 1})
    if dupes:
        raise ConfigError(f"{where}: workload labels {dupes} appear more than once; give each a distinct 'label'")
    builds = [(w.name, w.params) for w in out]
    same = sorted({w.label for w, b in zip(out, builds) if builds.count(b) > 1})
    if same:
        raise ConfigError(f"{where}: workloads {same} are the same model with the same params (same points twice)")
    return tuple(out)


def _parse_overrides(raw: Any, where: str) -> tuple[tuple[str, Scalar], ...]:
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: [overrides] must be a table of dotted config keys, got {raw!r}")
    bad = sorted(key for key in raw if key in SPECIAL_AXES)
    if bad:
        raise ConfigError(f"{where}: {bad} are not config keys; fix them with a one-value axis instead")
    return tuple((key, _check_scalar(value, f"{where}: overrides.{key}")) for key, value in raw.items())


def _parse_axes(raw: Any, where: str, limit: int = DEFAULT_MAX_POINTS) -> tuple[Axis, ...]:
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: [axes] must be a table, got {raw!r}")
    axes = []
    for key, value in raw.items():
        here = f"{where}: axes.{key}"
        if key in RESERVED_COLUMNS and key not in SPECIAL_AXES:
            raise ConfigError(f"{here}: {key!r} is a results column; name the axis otherwise")
        config_keys: tuple[str, ...] = () if key in SPECIAL_AXES else (key,)
        if isinstance(value, dict) and "keys" in value:
            _reject_unknown(value, _LINKED_KEYS, here)
            config_keys = value["keys"]
            if (key in SPECIAL_AXES or not isinstance(config_keys, list) or not config_keys
                    or not all(isinstance(k, str) and k for k in config_keys) or "values" not in value):
                raise ConfigError(f"{here}: a linked axis is {{keys = [dotted config keys], values = list or range}} "
                                  f"named other than {list(SPECIAL_AXES)}; got {value!r}")
            config_keys, value = tuple(config_keys), value["values"]
        if isinstance(value, dict):
            values = expand_range(value, here, limit)
        elif isinstance(value, list):
            values = tuple(_check_scalar(v, here) for v in value)
        else:
            raise ConfigError(f"{here} must be a list of values or a range table {{from, to, step|factor|num}}, "
                              f"got {value!r}")
        if not values:
            raise ConfigError(f"{here} has no values")
        if len(set(values)) != len(values):
            raise ConfigError(f"{here} repeats values: {list(values)}")
        kinds = sorted({_kind(v) for v in values})
        if len(kinds) > 1:
            raise ConfigError(f"{here} mixes {' and '.join(kinds)}: {list(values)}; an axis holds values of one "
                              "type (its results column has one type)")
        lowest = {"batch": 1, "seed": 0}.get(key)
        if lowest is not None and any(isinstance(v, bool) or not isinstance(v, int) or v < lowest for v in values):
            raise ConfigError(f"{here} must hold integers >= {lowest}, got {list(values)}")
        axes.append(Axis(key=key, values=values, config_keys=config_keys))
    return tuple(axes)


def _kind(value: Scalar) -> str:
    return "booleans" if isinstance(value, bool) else "strings" if isinstance(value, str) else "numbers"


def expand_range(table: Mapping[str, Any], where: str = "range",
                 limit: int = DEFAULT_MAX_POINTS) -> tuple[Scalar, ...]:
    """Values of a range table, ``to`` included when the progression lands on it.

    ``{from, to, step}`` is arithmetic, ``{from, to, factor}`` geometric and
    ``{from, to, num, scale}`` has ``num`` points spaced linearly or
    logarithmically. Integer ``from``/``to``/``step``/``factor`` give integers.
    A range of more than ``limit`` values is refused before it is built.
    """
    _reject_unknown(table, _RANGE_KEYS, where)
    kinds = [k for k in ("step", "factor", "num") if k in table]
    if len(kinds) != 1 or "from" not in table or "to" not in table:
        raise ConfigError(f"{where}: a range needs 'from', 'to' and exactly one of step, factor, num; "
                          f"got {dict(table)}")
    if "scale" in table and kinds != ["num"]:
        raise ConfigError(f"{where}: 'scale' only goes with 'num'")
    start, stop, kind = table["from"], table["to"], kinds[0]
    arg = table[kind]
    for name, v in (("from", start), ("to", stop), (kind, arg)):
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
            raise ConfigError(f"{where}: {name} must be a finite number, got {v!r}")
    if stop < start:
        raise ConfigError(f"{where}: 'to' ({stop}) is below 'from' ({start})")
    integral = all(isinstance(v, int) for v in (start, stop, arg))
    if kind == "step":
        if arg <= 0:
            raise ConfigError(f"{where}: step must be > 0, got {arg}")
        # The relative slack absorbs float rounding so that from=0.1, to=0.3, step=0.1 includes 0.3.
        ratio = (stop - start) / arg  # inf when the span overflows: sized, never built
        count = math.floor(ratio * (1 + 1e-12) + 1e-9) + 1 if math.isfinite(ratio) else math.inf
        _check_size(count, limit, where)
        values = [start + i * arg for i in range(count)]
    elif kind == "factor":
        if arg <= 1 or start <= 0:
            raise ConfigError(f"{where}: a geometric range needs factor > 1 and from > 0, "
                              f"got factor={arg}, from={start}")
        _check_size(math.floor(math.log(stop / start) / math.log(arg) + 1e-9) + 1, limit, where)
        values, v = [], start
        while v <= stop * (1 + 1e-12):
            values.append(v)
            v = v * arg
    else:
        scale = table.get("scale", "linear")
        if scale not in ("linear", "log"):
            raise ConfigError(f"{where}: scale must be 'linear' or 'log', got {scale!r}")
        if isinstance(arg, float) or arg < 1:
            raise ConfigError(f"{where}: num must be a positive integer, got {arg!r}")
        _check_size(arg, limit, where)
        if scale == "log" and start <= 0:
            raise ConfigError(f"{where}: a log range needs from > 0, got {start}")
        integral = False
        if arg == 1:
            values = [float(start)]
        elif scale == "linear":
            values = [start + (stop - start) * i / (arg - 1) for i in range(arg)]
        else:
            ratio = math.log(stop / start)
            values = [start * math.exp(ratio * i / (arg - 1)) for i in range(arg)]
            values[-1] = float(stop)
    if integral:
        return tuple(int(v) for v in values)
    # 12 significant digits: 0.30000000000000004 -> 0.3, so column values read as the user wrote them.
    return tuple(float(f"{float(v):.12g}") for v in values)
