"""Hypothesis strategies shared by the property tests: JSON values of any shape, and malformed objects."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**64),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20),
)
json_values = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)


@st.composite
def deeply_nested(draw: st.DrawFn) -> Any:
    """A list or mapping nested a few hundred levels deep."""
    depth = draw(st.integers(min_value=50, max_value=400))
    value: Any = draw(scalars)
    for level in range(depth):
        value = [value] if level % 2 else {"x": value}
    return value


junk = st.one_of(json_values, deeply_nested())


def paths_of(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every path into a JSON value (keys of mappings, indexes of lists), the root's ``()`` first."""
    found = [prefix]
    if isinstance(value, dict):
        for key, item in value.items():
            found.extend(paths_of(item, (*prefix, key)))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found.extend(paths_of(item, (*prefix, index)))
    return found


def replaced(value: Any, path: tuple[Any, ...], new: Any) -> Any:
    """A copy of ``value`` with the part at ``path`` replaced by ``new`` (the rest shared)."""
    if not path:
        return new
    head, rest = path[0], path[1:]
    if isinstance(value, dict):
        return {**value, head: replaced(value[head], rest, new)}
    copy = list(value)
    copy[head] = replaced(value[head], rest, new)
    return copy


def removed(value: Any, path: tuple[Any, ...]) -> Any:
    """A copy of ``value`` without the key or item at ``path`` (non-empty)."""
    head, rest = path[0], path[1:]
    if rest:
        if isinstance(value, dict):
            return {**value, head: removed(value[head], rest)}
        copy = list(value)
        copy[head] = removed(value[head], rest)
        return copy
    if isinstance(value, dict):
        return {key: item for key, item in value.items() if key != head}
    return [item for index, item in enumerate(value) if index != head]


def path_text(path: tuple[Any, ...]) -> str:
    """A path as the decoders write it in ``unreadable``: ``spec.containers[0].name``."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text
