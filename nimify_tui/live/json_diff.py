"""Compact diffs of JSON objects, in the shape of a JSON merge patch (RFC 7386).

A patch holds the members that changed: a nested object is diffed member by member, anything else (a list, a
string, a number) is replaced whole, and a member set to ``None`` is removed. A ``null`` member of the new object is
therefore recorded as removed; Kubernetes' decoders read a missing member and a ``null`` one alike.
"""

from __future__ import annotations

from typing import Any


def merge_diff(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    """The patch that turns ``old`` into ``new`` (empty: they are equal)."""
    patch: dict[str, Any] = {}
    for name, value in new.items():
        before = old.get(name, _MISSING)
        if before is _MISSING or before != value:
            if isinstance(value, dict) and isinstance(before, dict):
                patch[name] = merge_diff(before, value)
            else:
                patch[name] = value
    for name in old:
        if name not in new:
            patch[name] = None
    return patch


def merge_apply(target: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    """A new object: ``target`` with ``patch`` applied (``target`` is left as it was)."""
    result = dict(target)
    for name, value in patch.items():
        if value is None:
            result.pop(name, None)
        elif isinstance(value, dict):
            before = result.get(name)
            result[name] = merge_apply(before if isinstance(before, dict) else {}, value)
        else:
            result[name] = value
    return result


_MISSING = object()
