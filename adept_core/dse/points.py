"""Points of a sweep: the cartesian product of a spec, each with its resolved config and content hash.

The hash (``point_hash``) is what makes a sweep resumable: it is a SHA-256
of the resolved hardware config (:func:`adept_core.hardware.config_hash`, so
editing a preset file changes it), the workload and its parameters, batch,
seed, what is computed (and the fidelity options), the evaluator and the
adept version. A row whose hash is already in the results file is not
computed again; any change to what a point means gives it a new hash.
"""

from __future__ import annotations

import hashlib
import itertools
import json
from dataclasses import dataclass, fields, is_dataclass
from typing import Any

from ..errors import ConfigError
from .spec import Scalar, SweepSpec, Workload


@dataclass(frozen=True)
class Point:
    """One design point, self-contained so a remote worker can evaluate it.

    Attributes
    ----------
    workload : Workload
        Model and build parameters.
    values : tuple of (str, value)
        The point's value on every axis of the spec, in spec order.
    config : object or None
        The resolved :class:`~adept_core.hardware.config.HardwareConfig`;
        ``None`` when the overrides make an impossible config.
    config_error : str
        Why the config could not be built ("" when it could).
    batch : int or None
        Inferences per run (``None`` for a real model: its data set sets the batch).
    seed : int
        Noise seed (fidelity runs).
    compute : tuple of str
        What to compute (``"cost"``, ``"fidelity"``).
    fidelity : tuple of (str, value)
        Options of the fidelity evaluation.
    config_hash : str
        Content hash of the resolved config ("" when invalid).
    point_hash : str
        Content hash of everything the point's result depends on.
    """

    workload: Workload
    values: tuple[tuple[str, Scalar], ...]
    config: Any
    config_error: str
    batch: int | None
    seed: int
    compute: tuple[str, ...]
    fidelity: tuple[tuple[str, Any], ...]
    config_hash: str
    point_hash: str

    def value(self, key: str) -> Scalar:
        """The point's value on axis ``key``."""
        return dict(self.values)[key]


def expand(spec: SweepSpec, version: str, evaluator_id: str = "") -> list[Point]:
    """Every point of ``spec``, workloads outermost, the last axis fastest.

    The preset is read once; configs are derived from it once per distinct
    combination of config-axis values.
    An axis key that is not a field of the preset raises
    :class:`ConfigError` (the whole spec is wrong); a value the config
    refuses only marks the points that use it (recorded as failed rows).

    Parameters
    ----------
    spec : SweepSpec
        The validated spec.
    version : str
        Package version, part of every hash.
    evaluator_id : str
        Identifies a custom evaluator ("" for the built-in one); part of the hash.
    """
    from ..hardware import config_hash, load_config, with_overrides
    from ..models import REAL_MODELS as real_models

    base = load_config(spec.preset)
    for key in spec.config_keys:
        check_config_key(base, key, spec.preset)
    fixed = dict(spec.overrides)
    configs: dict[tuple, tuple[Any, str, str]] = {}
    points = []
    for workload in spec.workloads:
        for combo in itertools.product(*(axis.values for axis in spec.axes)):
            values = tuple(zip((axis.key for axis in spec.axes), combo))
            overrides = {**fixed, **{k: v for axis, v in zip(spec.axes, combo) for k in axis.config_keys}}
            cache_key = tuple(overrides.items())
            if cache_key not in configs:
                try:
                    # Same result as load_config(preset, overrides) without re-reading the preset file.
                    cfg = with_overrides(base, overrides) if overrides else base
                    configs[cache_key] = (cfg, "", config_hash(cfg))
                except ConfigError as exc:
                    configs[cache_key] = (None, f"ConfigError: {exc}", "")
            cfg, error, chash = configs[cache_key]
            named = dict(values)
            # A real model's data set fixes its batch: recorded as null, not as a batch it did not run.
            batch = None if workload.name in real_models else int(named.get("batch", 1))
            seed = int(named.get("seed", 0))
            identity = {
                "config": chash or {"preset": spec.preset, "overrides": sorted(overrides.items())},
                "workload": [workload.name, list(workload.params)],
                "batch": batch, "seed": seed, "compute": list(spec.compute),
                "fidelity": list(spec.fidelity) if "fidelity" in spec.compute else [],
                "evaluator": evaluator_id, "version": version,
            }
            digest = hashlib.sha256(json.dumps(identity, sort_keys=True, default=str).encode()).hexdigest()
            points.append(Point(workload=workload, values=values, config=cfg, config_error=error, batch=batch,
                                seed=seed, compute=spec.compute, fidelity=spec.fidelity, config_hash=chash,
                                point_hash=digest))
    return points


def check_config_key(config: Any, key: str, preset: str) -> None:
    """Raise :class:`ConfigError` unless dotted ``key`` names a field of ``config``."""
    node = config
    for part in key.split("."):
        if not is_dataclass(node) or part not in {f.name for f in fields(node)}:
            raise ConfigError(f"unknown config key {key!r} in the sweep spec (not a field of preset {preset!r}); "
                              f"known keys: {', '.join(config_leaf_keys(config))}")
        node = getattr(node, part)
    if is_dataclass(node):
        raise ConfigError(f"config key {key!r} names a whole section; sweep one of its fields: "
                          f"{', '.join(k for k in config_leaf_keys(config) if k.startswith(key + '.'))}")


def config_leaf_keys(config: Any, prefix: str = "") -> list[str]:
    """Every dotted key of a (nested dataclass) config that holds a value."""
    keys = []
    for f in fields(config):
        value = getattr(config, f.name)
        if is_dataclass(value):
            keys += config_leaf_keys(value, f"{prefix}{f.name}.")
        else:
            keys.append(prefix + f.name)
    return keys
