"""The [keymap] table of the config file: read as written, a malformed key or an unknown binding id refused with
the file, the key and what was expected."""

from __future__ import annotations

from pathlib import Path

import pytest

from nimify_tui.config import ConfigError, Keymap, load_settings


def settings_from(directory: Path, text: str) -> Keymap:
    path = directory / "config.toml"
    path.write_text(text, encoding="utf-8")
    return load_settings({}, {"HOME": str(directory)}, path).keymap


def test_the_keymap_is_read_with_the_file_it_came_from(tmp_path: Path) -> None:
    keymap = settings_from(tmp_path, '[keymap]\nscale = "S"\nlogs = "ctrl+l, l"\nhelp = "f1"\nfilter = "?"\n')
    assert dict(keymap.keys) == {"scale": "S", "logs": "ctrl+l,l", "help": "f1", "filter": "?"}
    assert keymap.source == str(tmp_path / "config.toml")


def test_no_keymap_keeps_every_default(tmp_path: Path) -> None:
    assert dict(settings_from(tmp_path, 'namespace = "nimify-system"\n').keys) == {}
    assert load_settings({}, {"HOME": str(tmp_path)}, None).keymap == Keymap()  # no config file at all


@pytest.mark.parametrize("keys", ['"ctrl+"', '"ctrl+l,"', '""', '"Page Up"', '"F5"', '"hyperctrl+x"', "5", "[]"])
def test_a_malformed_key_is_refused_naming_the_binding(tmp_path: Path, keys: str) -> None:
    shown = repr(keys.strip('"')) if keys.startswith('"') else {"5": "5", "[]": "a list"}[keys]
    with pytest.raises(ConfigError) as caught:
        settings_from(tmp_path, f"[keymap]\nscale = {keys}\n")
    assert str(caught.value) == (
        f"{tmp_path / 'config.toml'}: key 'keymap.scale': expected a key or comma-separated keys "
        f'(e.g. "S", "ctrl+l", "f5", "ctrl+l,l"), got {shown}'
    )


def test_a_keymap_that_is_not_a_table_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        settings_from(tmp_path, 'keymap = "vim"\n')
    assert str(caught.value) == f"{tmp_path / 'config.toml'}: key 'keymap': expected a table, got 'vim'"


def test_an_unknown_binding_id_is_refused_with_the_closest_one(tmp_path: Path) -> None:
    keymap = settings_from(tmp_path, '[keymap]\nlogs = "L"\nscal = "S"\n')
    with pytest.raises(ConfigError) as caught:
        keymap.check_ids({"logs", "scale", "restart"})
    assert str(caught.value) == f"{tmp_path / 'config.toml'}: unknown key 'keymap.scal'; did you mean 'keymap.scale'?"
    keymap.check_ids({"logs", "scal"})  # every id known: no error
