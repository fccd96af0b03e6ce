"""The store's single values (probes, Triton, GPUs, the latency series, alert states, ...) as plain JSON, and back.

The flight recorder writes each value the panes read as JSON: a dataclass as an object of its fields, a tuple as a
list, a mapping as an object (a key that is not a string, such as ``(namespace, pod)``, as its JSON text), a float
that JSON cannot hold (``inf``) as its text. Reading goes back through the value's declared type, so a replay puts in
the store the same immutable snapshots the pollers put there.

Values change a little at a time (a point appended to the latency series, one probe's latency), so they are written
as diffs (:func:`value_diff`): ``{"=": new}`` replaces a value, ``{"{": {member: diff}, "-": [members]}`` changes an
object's members, ``{"#": {index: diff}}`` the items of a list of the same length, and ``{"[": [n, [items]]}`` drops
a list's first ``n`` items and appends ``items`` (a sliding series).
"""

from __future__ import annotations

import dataclasses
import math
import types
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any, Generic, TypeVar

import orjson

from nimify_tui.live.keys import (
    ALERT_STATES,
    GPUS,
    LATENCY,
    LOG_SIGNATURES,
    NODE_USAGE,
    POD_USAGE,
    PROBES,
    PVC_USAGE,
    TLS_CERTIFICATES,
    TRITON,
    ValueKey,
)

V = TypeVar("V")
Json = Any  # what orjson reads and writes


@dataclass(frozen=True)
class RecordedValue(Generic[V]):
    """A value of the store that a recording holds, with the type it is read back as."""

    key: ValueKey[V]
    type: Any  # e.g. ``tuple[ProbeResult, ...]``

    @property
    def name(self) -> str:
        return self.key.name


def live_values() -> tuple[RecordedValue[Any], ...]:
    """The live sources' values that the panes and the triage read (imported here, not at start-up)."""
    from nimify_tui.gpu.merge import GpuView
    from nimify_tui.kube.certificates import CertificateInfo
    from nimify_tui.kube.kubelet_stats import VolumeUsage
    from nimify_tui.kube.log_signatures import LogSignature
    from nimify_tui.kube.metrics_api import Usage
    from nimify_tui.metrics.alert_states import RuleState
    from nimify_tui.metrics.api_latency import LatencyHistory
    from nimify_tui.probes import ProbeResult
    from nimify_tui.triton.poller import TritonView

    return (
        RecordedValue(PROBES, tuple[ProbeResult, ...]),
        RecordedValue(TRITON, TritonView),
        RecordedValue(GPUS, GpuView),
        RecordedValue(LATENCY, LatencyHistory),
        RecordedValue(POD_USAGE, dict[tuple[str, str], Usage]),
        RecordedValue(NODE_USAGE, dict[str, Usage]),
        RecordedValue(ALERT_STATES, tuple[RuleState, ...]),
        RecordedValue(LOG_SIGNATURES, Mapping[tuple[str, str, str], LogSignature]),
        RecordedValue(PVC_USAGE, Mapping[tuple[str, str], VolumeUsage]),
        RecordedValue(TLS_CERTIFICATES, Mapping[tuple[str, str], CertificateInfo]),
    )


# --- to JSON and back ---------------------------------------------------------------------------------------------
def to_json(value: object) -> Json:
    """``value`` as JSON values (see the module's docstring)."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else repr(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {field.name: to_json(getattr(value, field.name)) for field in dataclasses.fields(value)}
    if isinstance(value, list | tuple):
        return [to_json(item) for item in value]
    if isinstance(value, Mapping):
        return {_key_text(key): to_json(item) for key, item in value.items()}
    raise TypeError(f"a {type(value).__name__} cannot be recorded")


def _key_text(key: object) -> str:
    return key if isinstance(key, str) else orjson.dumps(to_json(key)).decode()


def from_json(data: Json, type_: Any) -> Any:
    """The value of type ``type_`` that :func:`to_json` wrote as ``data``."""
    if type_ is Any or type_ is object:
        return data
    origin = typing.get_origin(type_)
    args = typing.get_args(type_)
    if origin is typing.Union or origin is types.UnionType:
        return _from_union(data, args)
    if origin is typing.Literal:
        return data
    if origin is tuple:
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(from_json(item, args[0]) for item in data)
        return tuple(from_json(item, arg) for item, arg in zip(data, args, strict=True))
    if origin is list:
        return [from_json(item, args[0]) for item in data]
    if origin in (dict, Mapping, typing.Mapping):
        key_type, item_type = args
        return {_key_of(key, key_type): from_json(item, item_type) for key, item in data.items()}
    if dataclasses.is_dataclass(type_) and isinstance(type_, type):
        return _from_fields(data, type_)
    if type_ is float:
        return float(data)
    if type_ is type(None):
        return None
    return data  # str, int, bool


def _key_of(text: str, key_type: Any) -> Any:
    return text if key_type is str else from_json(orjson.loads(text), key_type)


def _from_union(data: Json, args: tuple[Any, ...]) -> Any:
    if data is None and type(None) in args:
        return None
    for arg in args:
        if _fits(data, arg):
            return from_json(data, arg)
    return data


def _fits(data: Json, type_: Any) -> bool:
    """Whether ``data`` can be what ``to_json`` wrote for a ``type_``."""
    origin = typing.get_origin(type_) or type_
    if origin is typing.Literal:
        return data in typing.get_args(type_)
    if dataclasses.is_dataclass(origin) or origin in (dict, Mapping, typing.Mapping):
        return isinstance(data, dict)
    if origin in (tuple, list):
        return isinstance(data, list)
    if origin is float:
        return (isinstance(data, int | float) and not isinstance(data, bool)) or data in ("inf", "-inf", "nan")
    if origin is int:
        return isinstance(data, int) and not isinstance(data, bool)
    if origin is bool:
        return isinstance(data, bool)
    if origin is str:
        return isinstance(data, str)
    return origin is type(None) and data is None


@cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _from_fields(data: Mapping[str, Json], cls: type) -> Any:
    hints = _hints(cls)
    given = {
        field.name: from_json(data[field.name], hints[field.name])
        for field in dataclasses.fields(cls)
        if field.init and field.name in data
    }
    return cls(**given)


def scrub_strings(data: Json, scrub: Callable[[str], str]) -> Json:
    """``data`` with ``scrub`` applied to every string in it (not to the members' names: field names and keys)."""
    if isinstance(data, str):
        return scrub(data)
    if isinstance(data, list):
        return [scrub_strings(item, scrub) for item in data]
    if isinstance(data, dict):
        return {name: scrub_strings(item, scrub) for name, item in data.items()}
    return data


# --- diffs --------------------------------------------------------------------------------------------------------
def value_diff(old: Json, new: Json) -> Json:
    """The diff that turns ``old`` into ``new`` (None: they are equal)."""
    if old == new:
        return None
    if isinstance(old, dict) and isinstance(new, dict):
        changed = {name: value_diff(old.get(name, _ABSENT), item) for name, item in new.items()}
        diff: dict[str, Json] = {"{": {name: change for name, change in changed.items() if change is not None}}
        removed = [name for name in old if name not in new]
        if removed:
            diff["-"] = removed
        return diff
    if isinstance(old, list) and isinstance(new, list):
        return _list_diff(old, new)
    return {"=": new}


def _list_diff(old: list[Json], new: list[Json]) -> Json:
    if len(old) == len(new) and new:
        changed = [i for i, (a, b) in enumerate(zip(old, new, strict=True)) if a != b]
        if len(changed) < len(new):
            return {"#": {str(i): value_diff(old[i], new[i]) for i in changed}}
    dropped = _shift(old, new)
    if dropped is not None:
        kept = len(old) - dropped
        return {"[": [dropped, new[kept:]]}
    return {"=": new}


def _shift(old: list[Json], new: list[Json]) -> int | None:
    """The ``n`` such that ``new`` is ``old`` less its first ``n`` items, then more (None: it is not)."""
    if not old:
        return None
    for dropped in range(len(old)):
        kept = len(old) - dropped
        if kept <= len(new) and old[dropped] == new[0] and old[dropped:] == new[:kept]:
            return dropped
    return None


def value_apply(old: Json, diff: Json) -> Json:
    """``old`` with ``diff`` applied (``old`` is left as it was)."""
    if "=" in diff:
        return diff["="]
    if "{" in diff:
        result = dict(old) if isinstance(old, dict) else {}
        for name, change in diff["{"].items():
            result[name] = value_apply(result.get(name), change)
        for name in diff.get("-", ()):
            result.pop(name, None)
        return result
    if "#" in diff:
        items = list(old)
        for index, change in diff["#"].items():
            items[int(index)] = value_apply(items[int(index)], change)
        return items
    dropped, appended = diff["["]
    return [*old[dropped:], *appended]


class _Absent:
    """A member that was not there (distinct from one that was None)."""

    def __eq__(self, other: object) -> bool:
        return other is self

    def __hash__(self) -> int:
        return 0


_ABSENT: Any = _Absent()
