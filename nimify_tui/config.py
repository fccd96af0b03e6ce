"""Settings: command line > environment (``NIMIFY_TUI_*``) > XDG config TOML > defaults.

The config file is ``$XDG_CONFIG_HOME/nimify-tui/config.toml`` (``~/.config/nimify-tui/config.toml`` when the
variable is unset), for example::

    namespace = "nimify-system"
    watched_namespaces = ["nimify-system", "triton-system", "monitoring", "ingress-nginx"]
    readonly = false
    record_dir = "~/incidents"
    prometheus_url = "http://prometheus.example:9090"

    [refresh]            # seconds between polls
    triton = 2
    metrics = 5

    [recovery]           # the recovery verification's end-to-end predict and light load test (bounded)
    predict_body = '{"input": [1, 2, 3]}'
    load_requests = 10   # 1 to 200
    load_concurrency = 10  # 1 to 50
    load_timeout = 5     # seconds per request, at most 30

    [contexts."prod-eu"]
    readonly = true
    production = true

    [keymap]             # binding id = key(s), in place of the default (the ids are listed in the help, ?)
    scale = "S"
    logs = "ctrl+l,l"

Each top-level key (and ``refresh.NAME``, ``recovery.NAME``) is also read from ``NIMIFY_TUI_KEY``
(``NIMIFY_TUI_REFRESH_NAME``) and from the command-line mapping under the key's name (``refresh_NAME``). A URL left
unset means the service is reached through the API server's service proxy; a kubeconfig left unset means the
Kubernetes client's own lookup (``KUBECONFIG``, ``~/.kube/config``, in-cluster).
"""

from __future__ import annotations

import difflib
import json
import math
import os
import re
import sys
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any
from urllib.parse import urlsplit

ENV_PREFIX = "NIMIFY_TUI_"
DEFAULT_NAMESPACE = "nimify-system"
DEFAULT_WATCHED_NAMESPACES = ("nimify-system", "triton-system", "monitoring", "ingress-nginx")
# the recovery verification's light load test never goes beyond these, whatever is asked
MAX_REQUESTS = 200
MAX_CONCURRENCY = 50
MAX_TIMEOUT_S = 30.0


class ConfigError(Exception):
    """A setting that cannot be used; the one-line message names the source, the key and what was expected."""


@dataclass(frozen=True)
class ContextPolicy:
    """A context's policy: no mutating actions when read-only; typed confirmations on production."""

    readonly: bool = False
    production: bool = False


@dataclass(frozen=True)
class RefreshIntervals:
    """Seconds between polls of each polled source (Kubernetes objects are watched, not polled)."""

    triton: float = 2.0
    probes: float = 2.0
    metrics: float = 5.0
    gpu: float = 5.0


@dataclass(frozen=True)
class RecoverySettings:
    """The ``[recovery]`` table: the predict's JSON body and the light load test's bounds."""

    predict_body: str = '{"input": [1, 2, 3]}'  # the runbook's
    load_requests: int = 10
    load_concurrency: int = 10
    load_timeout: float = 5.0


@dataclass(frozen=True)
class Keymap:
    """The ``[keymap]`` table: binding id -> the key, or comma-separated keys, used in place of its default."""

    keys: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    source: str = ""  # the config file it was read from

    def check_ids(self, binding_ids: Collection[str]) -> None:
        """Raise :class:`ConfigError` for an id that no binding has (the UI knows its bindings' ids)."""
        for binding_id in self.keys:
            if binding_id not in binding_ids:
                raise _unknown_key(self.source, f"keymap.{binding_id}", [f"keymap.{known}" for known in binding_ids])


@dataclass(frozen=True)
class Settings:
    """The resolved settings of one run. ``watched_namespaces`` always includes ``namespace``."""

    kubeconfig: Path | None = None
    context: str | None = None
    namespace: str = DEFAULT_NAMESPACE
    watched_namespaces: tuple[str, ...] = DEFAULT_WATCHED_NAMESPACES
    readonly: bool = False
    record_dir: Path | None = None
    prometheus_url: str | None = None
    triton_url: str | None = None
    nimify_api_url: str | None = None
    dcgm_url: str | None = None
    refresh: RefreshIntervals = RefreshIntervals()
    recovery: RecoverySettings = RecoverySettings()
    contexts: Mapping[str, ContextPolicy] = field(default_factory=lambda: MappingProxyType({}))
    keymap: Keymap = Keymap()

    def context_policy(self, context_name: str | None) -> ContextPolicy:
        """The policy of a context; the global ``readonly`` makes every context read-only."""
        configured = self.contexts.get(context_name, ContextPolicy()) if context_name else ContextPolicy()
        return ContextPolicy(readonly=self.readonly or configured.readonly, production=configured.production)


class _InvalidValue(Exception):
    """Raised by a value check; the caller knows the source and the key."""


@dataclass(frozen=True)
class _Kind:
    """How one kind of setting is checked, and how it is read from an environment variable's text."""

    expected: str
    check: Callable[[object], object]
    read_text: Callable[[str], object] = str
    expected_as_text: str = ""

    def describe(self, from_text: bool) -> str:
        return (self.expected_as_text or self.expected) if from_text else self.expected


def _check_text(value: object) -> str:
    if isinstance(value, str) and value:
        return value
    raise _InvalidValue


def _check_path(value: object) -> Path:
    if isinstance(value, str | os.PathLike) and os.fspath(value):
        return Path(value).expanduser()
    raise _InvalidValue


_NAMESPACE_NAME = re.compile(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?")


def _check_namespace(value: object) -> str:
    if isinstance(value, str) and _NAMESPACE_NAME.fullmatch(value):
        return value
    raise _InvalidValue


def _check_namespaces(value: object) -> tuple[str, ...]:
    if not isinstance(value, list | tuple) or not value:
        raise _InvalidValue
    return tuple(dict.fromkeys(_check_namespace(item) for item in value))


def _read_namespaces(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def _check_flag(value: object) -> bool:
    if isinstance(value, bool):
        return value
    raise _InvalidValue


_FLAG_WORDS = dict.fromkeys(("1", "true", "yes", "on"), True) | dict.fromkeys(("0", "false", "no", "off"), False)


def _read_flag(text: str) -> object:
    return _FLAG_WORDS.get(text.strip().lower(), text)


def _check_url(value: object) -> str:
    if not isinstance(value, str):
        raise _InvalidValue
    try:
        parts = urlsplit(value)
        valid = parts.scheme in ("http", "https") and bool(parts.hostname) and parts.port != 0
    except ValueError:  # a malformed port or IPv6 address
        raise _InvalidValue from None
    if not valid:
        raise _InvalidValue
    return value.rstrip("/")


def _check_seconds(value: object) -> float:
    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value) and value > 0:
        return float(value)
    raise _InvalidValue


def _read_seconds(text: str) -> object:
    try:
        return float(text)
    except ValueError:
        return text


def _check_json(value: object) -> str:
    if not isinstance(value, str):
        raise _InvalidValue
    try:
        json.loads(value)
    except ValueError:
        raise _InvalidValue from None
    return value


def _counts(low: int, high: int) -> _Kind:
    def check(value: object) -> int:
        if isinstance(value, int) and not isinstance(value, bool) and low <= value <= high:
            return value
        raise _InvalidValue

    def read(text: str) -> object:
        try:
            return int(text)
        except ValueError:
            return text

    return _Kind(f"a whole number from {low} to {high}", check, read)


def _check_short_seconds(value: object) -> float:
    seconds = _check_seconds(value)
    if seconds > MAX_TIMEOUT_S:
        raise _InvalidValue
    return seconds


_TEXT = _Kind("a non-empty string", _check_text)
_PATH = _Kind("a file path", _check_path)
_NAMESPACE = _Kind("a namespace name (lowercase letters, digits and '-', at most 63)", _check_namespace)
_NAMESPACES = _Kind(
    "a non-empty list of namespace names",
    _check_namespaces,
    _read_namespaces,
    "comma-separated namespace names",
)
_FLAG = _Kind("true or false", _check_flag, _read_flag, "true/false, 1/0, yes/no or on/off")
_URL = _Kind("an http:// or https:// URL", _check_url)
_SECONDS = _Kind("a positive number of seconds", _check_seconds, _read_seconds)
_JSON = _Kind("JSON text", _check_json)
_RECOVERY_KINDS = {
    "predict_body": _JSON,
    "load_requests": _counts(1, MAX_REQUESTS),
    "load_concurrency": _counts(1, MAX_CONCURRENCY),
    "load_timeout": _Kind(
        f"a positive number of seconds, at most {MAX_TIMEOUT_S:g}", _check_short_seconds, _read_seconds
    ),
}

# Keys as written in the TOML file; "refresh.NAME" lives in the [refresh] table.
_KEYS: dict[str, _Kind] = {
    "kubeconfig": _PATH,
    "context": _TEXT,
    "namespace": _NAMESPACE,
    "watched_namespaces": _NAMESPACES,
    "readonly": _FLAG,
    "record_dir": _PATH,
    "prometheus_url": _URL,
    "triton_url": _URL,
    "nimify_api_url": _URL,
    "dcgm_url": _URL,
    **{f"refresh.{name}": _SECONDS for name in RefreshIntervals.__dataclass_fields__},
    **{f"recovery.{name}": kind for name, kind in _RECOVERY_KINDS.items()},
}
_SUBTABLES = ("refresh", "recovery")  # "NAME.key" settings, read from the environment and command line too
_CONTEXT_KEYS = tuple(ContextPolicy.__dataclass_fields__)
_TABLES = ("contexts", "keymap")  # read on their own, not from the environment or the command line

# A key as Textual names it: modifiers, then one character ("S", "?") or a key's name ("f5", "pageup", "slash").
_KEY = re.compile(r"((ctrl|shift|alt|meta|super|hyper)\+)*([a-z][a-z0-9_]*|[^\s,])")
_KEYS_EXPECTED = 'a key or comma-separated keys (e.g. "S", "ctrl+l", "f5", "ctrl+l,l")'


def _cli_name(key: str) -> str:
    return key.replace(".", "_")


def _env_name(key: str) -> str:
    return ENV_PREFIX + _cli_name(key).upper()


def _describe_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list | tuple):
        return "a list"
    text = repr(value) if isinstance(value, str) else str(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _invalid(where: str, kind: _Kind, value: object, from_text: bool = False) -> ConfigError:
    return ConfigError(f"{where}: expected {kind.describe(from_text)}, got {_describe_value(value)}")


def _unknown_key(source: str, key: str, known: list[str]) -> ConfigError:
    close = difflib.get_close_matches(key, known, n=1)
    hint = f"; did you mean '{close[0]}'?" if close else ""
    return ConfigError(f"{source}: unknown key '{key}'{hint}")


def xdg_base_dir(env: Mapping[str, str], variable: str, default_under_home: Path) -> Path:
    """An XDG base directory: ``$variable`` when set to an absolute path, else ``~/default_under_home``."""
    value = env.get(variable, "")
    if value and Path(value).is_absolute():
        return Path(value)
    home = Path(env["HOME"]) if env.get("HOME") else Path.home()
    return home / default_under_home


def default_config_path(env: Mapping[str, str]) -> Path:
    """``$XDG_CONFIG_HOME/nimify-tui/config.toml``."""
    return xdg_base_dir(env, "XDG_CONFIG_HOME", Path(".config")) / "nimify-tui" / "config.toml"


def _read_toml(path: Path) -> dict[str, Any]:
    if sys.version_info >= (3, 11):  # imported only where a config file is read (most starts have none)
        import tomllib
    else:
        import tomli as tomllib
    try:
        with path.open("rb") as file:
            document: dict[str, Any] = tomllib.load(file)
            return document
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the config file: {exc.strerror or exc}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from None


def _contexts_from_toml(path: Path, table: object) -> dict[str, ContextPolicy]:
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: key 'contexts': expected a table, got {_describe_value(table)}")
    contexts = {}
    for name, section in table.items():
        where = f'contexts."{name}"'
        if not isinstance(section, dict):
            raise ConfigError(f"{path}: key '{where}': expected a table, got {_describe_value(section)}")
        flags = {}
        for key, value in section.items():
            if key not in _CONTEXT_KEYS:
                raise _unknown_key(str(path), f"{where}.{key}", [f"{where}.{known}" for known in _CONTEXT_KEYS])
            if not isinstance(value, bool):
                raise _invalid(f"{path}: key '{where}.{key}'", _FLAG, value)
            flags[key] = value
        contexts[name] = ContextPolicy(**flags)
    return contexts


def _keymap_from_toml(path: Path, table: object) -> Keymap:
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: key 'keymap': expected a table, got {_describe_value(table)}")
    keymap: dict[str, str] = {}
    for binding_id, keys in table.items():
        parts = [part.strip() for part in keys.split(",")] if isinstance(keys, str) else [""]
        if not all(_KEY.fullmatch(part) for part in parts):
            raise ConfigError(
                f"{path}: key 'keymap.{binding_id}': expected {_KEYS_EXPECTED}, got {_describe_value(keys)}"
            )
        keymap[binding_id] = ",".join(parts)
    return Keymap(MappingProxyType(keymap), str(path))


def _values_from_toml(path: Path, document: dict[str, Any]) -> dict[str, object]:
    flat: dict[str, object] = {}
    for key, value in document.items():
        if key in _TABLES:
            continue
        if key in _SUBTABLES and isinstance(value, dict):
            flat.update({f"{key}.{name}": item for name, item in value.items()})
        elif key in _SUBTABLES:
            raise ConfigError(f"{path}: key '{key}': expected a table, got {_describe_value(value)}")
        else:
            flat[key] = value
    values: dict[str, object] = {}
    for key, value in flat.items():
        kind = _KEYS.get(key)
        if kind is None:
            raise _unknown_key(str(path), key, [*_KEYS, *_TABLES])
        try:
            values[key] = kind.check(value)
        except _InvalidValue:
            raise _invalid(f"{path}: key '{key}'", kind, value) from None
    return values


def _values_from_env(env: Mapping[str, str]) -> dict[str, object]:
    values: dict[str, object] = {}
    for key, kind in _KEYS.items():
        name = _env_name(key)
        text = env.get(name, "")
        if not text:
            continue
        try:
            values[key] = kind.check(kind.read_text(text))
        except _InvalidValue:
            raise _invalid(f"environment variable {name}", kind, text, from_text=True) from None
    return values


def _values_from_cli(cli: Mapping[str, object]) -> dict[str, object]:
    keys_by_cli_name = {_cli_name(key): key for key in _KEYS}
    values: dict[str, object] = {}
    for name, value in cli.items():
        key = keys_by_cli_name.get(name)
        if key is None:
            raise ConfigError(f"unknown command-line setting '{name}'")
        if value is None:
            continue
        try:
            values[key] = _KEYS[key].check(value)
        except _InvalidValue:
            raise _invalid(f"option --{name.replace('_', '-')}", _KEYS[key], value) from None
    return values


def load_settings(cli: Mapping[str, object], env: Mapping[str, str], config_path: Path | None) -> Settings:
    """Resolve the settings of this run.

    ``cli`` maps setting names (``namespace``, ``refresh_triton``, ...) to values given on the command line; a
    value of None means "not given" (use ``default=None`` for ``--readonly``). ``config_path`` None means the
    default XDG path, which may be absent; an explicit path must exist.
    """
    path = config_path or default_config_path(env)
    values: dict[str, object] = {}
    contexts: dict[str, ContextPolicy] = {}
    keymap = Keymap()
    if config_path is not None or path.is_file():
        document = _read_toml(path)
        values.update(_values_from_toml(path, document))
        contexts = _contexts_from_toml(path, document.get("contexts", {}))
        keymap = _keymap_from_toml(path, document.get("keymap", {}))
    values.update(_values_from_env(env))
    values.update(_values_from_cli(cli))

    fields: dict[str, Any] = {key: value for key, value in values.items() if "." not in key}
    refresh: dict[str, Any] = {
        key.removeprefix("refresh."): value for key, value in values.items() if key.startswith("refresh.")
    }
    recovery: dict[str, Any] = {
        key.removeprefix("recovery."): value for key, value in values.items() if key.startswith("recovery.")
    }
    namespace = fields.get("namespace", DEFAULT_NAMESPACE)
    watched = fields.get("watched_namespaces", DEFAULT_WATCHED_NAMESPACES)
    fields["watched_namespaces"] = watched if namespace in watched else (namespace, *watched)
    return Settings(
        **fields,
        refresh=RefreshIntervals(**refresh),
        recovery=RecoverySettings(**recovery),
        contexts=MappingProxyType(contexts),
        keymap=keymap,
    )
