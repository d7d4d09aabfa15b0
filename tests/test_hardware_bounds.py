"""Every numeric hardware field is bounded, so a value that validates cannot overflow or divide by zero later."""

from __future__ import annotations

from dataclasses import fields

import pytest

from adept_core.errors import ConfigError
from adept_core.hardware import link_budget, load_config, required_laser_power
from adept_core.hardware.config import SECTIONS, to_dict

_NUMERIC = [(f"{section}.{f.name}", value) for section, cls in SECTIONS.items() for f in fields(cls)
            for value in [to_dict(load_config("adept"))[section][f.name]]
            if isinstance(value, (int, float)) and not isinstance(value, bool)]


@pytest.mark.parametrize("key", [key for key, _ in _NUMERIC])
def test_every_numeric_field_refuses_an_absurd_magnitude(key):
    value = to_dict(load_config("adept"))[key.split(".")[0]][key.split(".")[1]]
    huge = -1e300 if value < 0 else (10**300 if isinstance(value, int) else 1e300)
    with pytest.raises(ConfigError, match=key):
        load_config("adept", {key: huge})


@pytest.mark.parametrize("key, value", [("sram.capacity_mib", 1e308), ("optics.mzi_insertion_loss_db", 1e6),
                                        ("optics.rin_db_per_hz", -1e6)])
def test_the_issue_values_are_refused_naming_the_key(key, value):
    with pytest.raises(ConfigError, match=key.replace(".", r"\.")):
        load_config("adept", {key: value})


def test_a_path_that_loses_all_light_is_refused_by_the_link_budget():
    cfg = load_config("adept-svd-mesh", {"optics.mzi_insertion_loss_db": 99.0})  # the 257-deep mesh pays it 257 times
    with pytest.raises(ConfigError, match="above 300 dB: no light"):
        link_budget(cfg)
    with pytest.raises(ConfigError, match="above 300 dB"):
        required_laser_power(cfg, 4.0)
