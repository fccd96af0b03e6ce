"""A readable diff of two Kubernetes objects: the changed paths, and a unified diff of their YAML.

Paths are written as an operator reads them: ``spec.template.spec.containers[nimify-api].resources.limits.memory``
(list items that all carry a distinct ``name`` are addressed by it, others by index). Fields the server sets by
itself (resourceVersion, generation, managedFields, status) are left out. Every value is made safe to show:
no control characters, one line.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

import orjson
import yaml

from nimify_tui.text import literal, one_line


class _Absent:
    """The value of a path that is not in the object."""

    def __repr__(self) -> str:
        return "<none>"


ABSENT: Final = _Absent()

SERVER_SET_PATHS: Final = frozenset(
    {
        ("metadata", "resourceVersion"),
        ("metadata", "generation"),
        ("metadata", "managedFields"),
        ("status",),
    }
)


@dataclass(frozen=True)
class FieldChange:
    """One changed path; ``old`` or ``new`` is :data:`ABSENT` for an added or removed field."""

    path: str
    old: object
    new: object

    def __str__(self) -> str:
        return f"{self.path}: {show_value(self.old)} -> {show_value(self.new)}"


def show_value(value: object, limit: int = 120) -> str:
    """A value on one line: ``<none>`` when absent, text as is, structures as compact JSON."""
    if isinstance(value, _Absent) or value is None:
        return "<none>"
    if isinstance(value, str):
        return one_line(value, limit) if value else '""'
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return one_line(orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode(), limit)


def strip_server_fields(obj: Any, ignored: frozenset[tuple[str, ...]] = SERVER_SET_PATHS) -> Any:
    """A copy of ``obj`` without the ignored paths (top-level dicts only are walked)."""
    if not isinstance(obj, Mapping):
        return obj
    result: dict[str, Any] = {}
    for key, value in obj.items():
        if (key,) in ignored:
            continue
        nested = frozenset(path[1:] for path in ignored if len(path) > 1 and path[0] == key)
        result[key] = strip_server_fields(value, nested) if nested else value
    return result


def object_changes(
    before: Any, after: Any, ignored: frozenset[tuple[str, ...]] = SERVER_SET_PATHS
) -> list[FieldChange]:
    """The changed leaf paths from ``before`` to ``after``, in document order."""
    return list(_walk(strip_server_fields(before, ignored), strip_server_fields(after, ignored), ""))


def _child(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _list_keys(items: Sequence[Any]) -> list[str] | None:
    """Item names when every item is a mapping with a distinct ``name``; None otherwise."""
    names = [item.get("name") if isinstance(item, Mapping) else None for item in items]
    if all(isinstance(name, str) for name in names) and len(set(names)) == len(names):
        return [str(name) for name in names]
    return None


def _walk(old: Any, new: Any, path: str) -> Iterator[FieldChange]:
    if isinstance(old, Mapping) and isinstance(new, Mapping):
        for key in list(old) + [key for key in new if key not in old]:
            yield from _walk(old.get(key, ABSENT), new.get(key, ABSENT), _child(path, str(key)))
        return
    if isinstance(old, list) and isinstance(new, list):
        old_keys, new_keys = _list_keys(old), _list_keys(new)
        if old_keys is not None and new_keys is not None:
            old_by_key = dict(zip(old_keys, old, strict=True))
            new_by_key = dict(zip(new_keys, new, strict=True))
            for key in old_keys + [key for key in new_keys if key not in old_by_key]:
                yield from _walk(old_by_key.get(key, ABSENT), new_by_key.get(key, ABSENT), f"{path}[{key}]")
            return
        for index in range(max(len(old), len(new))):
            yield from _walk(
                old[index] if index < len(old) else ABSENT,
                new[index] if index < len(new) else ABSENT,
                f"{path}[{index}]",
            )
        return
    if old == new and type(old) is type(new):
        return
    if isinstance(old, _Absent) and isinstance(new, Mapping) and new:
        yield from _walk({}, new, path)
        return
    if isinstance(new, _Absent) and isinstance(old, Mapping) and old:
        yield from _walk(old, {}, path)
        return
    yield FieldChange(path or "(object)", old, new)


class BlockTextDumper(yaml.SafeDumper):
    """Multi-line text as literal blocks, which read (and diff) line by line like the file they hold."""


def _represent_text(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|" if "\n" in value else None)


BlockTextDumper.add_representer(str, _represent_text)


def to_yaml(obj: Any) -> str:
    """YAML as ``kubectl get -o yaml`` lays it out (keys sorted); control characters come out escaped."""
    text: str = yaml.dump(obj, Dumper=BlockTextDumper, default_flow_style=False, sort_keys=True, width=100)
    return text


def yaml_diff(
    before: Any,
    after: Any,
    *,
    names: tuple[str, str] = ("before", "after"),
    context: int = 3,
    ignored: frozenset[tuple[str, ...]] = SERVER_SET_PATHS,
) -> str:
    """A unified diff of the two objects' YAML (server-set fields left out); empty when they are equal."""
    old_lines = to_yaml(strip_server_fields(before, ignored)).splitlines()
    new_lines = to_yaml(strip_server_fields(after, ignored)).splitlines()
    lines = difflib.unified_diff(old_lines, new_lines, names[0], names[1], n=context, lineterm="")
    return "\n".join(literal(line) for line in lines)


def changes_text(changes: Sequence[FieldChange]) -> str:
    """One change a line; ``(no change)`` when there is none."""
    return "\n".join(str(change) for change in changes) if changes else "(no change)"
