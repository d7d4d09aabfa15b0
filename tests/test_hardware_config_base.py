"""A config's ``base =`` stays in the presets and in the naming file's directory (issue 8, item 4).

The file outside holds a key that is not a config key; a loader that followed
``base`` to it would report "unknown key 'api_token'" and so leak its keys.
"""

import os

import pytest

from adept_core.errors import ConfigError
from adept_core.hardware import load_config

SECRET = 'api_token = "hunter2"\n'


@pytest.fixture
def tree(tmp_path):
    configs, outside = tmp_path / "configs", tmp_path / "outside"
    configs.mkdir()
    outside.mkdir()
    (outside / "secret.toml").write_text(SECRET)
    (outside / "fine.toml").write_text('base = "adept"\n[photonic]\nnum_cores = 3\n')
    return configs, outside


ESCAPES = {
    "dotdot": lambda configs, outside: "../outside/secret.toml",
    "dotdot_inside_then_out": lambda configs, outside: "./x/../../outside/secret.toml",
    "absolute": lambda configs, outside: str(outside / "secret.toml"),
    "dir_symlink": lambda configs, outside: os.symlink(outside, configs / "link") or "link/secret.toml",
    "file_symlink": lambda configs, outside: os.symlink(outside / "secret.toml", configs / "s.toml") or "s.toml",
}


@pytest.mark.parametrize("escape", list(ESCAPES))
def test_base_outside_the_naming_directory_is_refused(tree, escape):
    configs, outside = tree
    (configs / "mine.toml").write_text(f'base = "{ESCAPES[escape](configs, outside)}"\n')
    with pytest.raises(ConfigError, match=r"mine.toml: .* is outside .*configs; a file may only name a preset") as err:
        load_config(configs / "mine.toml")
    assert "api_token" not in str(err.value) and "hunter2" not in str(err.value)


def test_base_chain_cannot_climb_back_up(tree):
    configs, _ = tree
    (configs / "sub").mkdir()
    (configs / "top.toml").write_text('base = "adept"\n')
    (configs / "sub" / "child.toml").write_text('base = "../top.toml"\n')
    with pytest.raises(ConfigError, match="is outside"):
        load_config(configs / "sub" / "child.toml")


def test_base_in_the_same_directory_or_below_and_presets_still_work(tree):
    configs, _ = tree
    (configs / "sub").mkdir()
    (configs / "sub" / "a.toml").write_text('base = "systolic"\n[photonic]\nnum_cores = 2\n')
    os.symlink(configs / "sub" / "a.toml", configs / "alias.toml")  # a symlink that stays inside is fine
    (configs / "b.toml").write_text('base = "alias.toml"\n[photonic]\nwdm_channels = 4\n')
    cfg = load_config(configs / "b.toml")
    assert (cfg.photonic.num_cores, cfg.photonic.wdm_channels, cfg.accelerator) == (2, 4, "systolic")


def test_a_file_named_directly_may_live_anywhere(tree, monkeypatch):
    configs, outside = tree
    monkeypatch.chdir(configs)
    assert load_config("../outside/fine.toml").photonic.num_cores == 3
    assert load_config(str(outside / "fine.toml")).photonic.num_cores == 3
