"""Lists and watch events read for only the fields their records need, with msgspec.

A pod as the API server sends it is about 2.4 KB of JSON, and its record reads a third of it: parsing all of it into
dictionaries (managed fields, tolerations, image IDs, probes' ports...) was most of the time of a 50,000-pod list
(1.75 s of 2.7 s). The record's shape (``record_shapes``) names every field the decoder and kubectl's rules read;
msgspec decodes into plain dictionaries (TypedDicts built from that shape) with only those fields, skipping the
rest without making objects: 0.73 s for the same list, and the same records.

Each scalar may be null (the API server sends ``lastProbeTime: null``, and the decoders read a null as absent). A
value of another type than its shape's fails the whole page's typed decode: it gives None, and the caller parses
the page whole and decodes it as before, so a malformed object is read (and marked) exactly as without this.
"""

from __future__ import annotations

import functools
import itertools
import typing
from typing import Any

import msgspec

from nimify_tui.kube.record_shapes import PRUNED
from nimify_tui.kube.shape import AnyValue, Enum, ListOf, MapOf, Obj, Scalar, Shape

_make_typed_dict: Any = getattr(typing, "TypedDict")  # noqa: B009  (called at run time, not used as a type)
_names = itertools.count(1)


def _nullable(value_type: Any) -> Any:
    return typing.Optional[value_type]  # noqa: UP045  (a type built at run time)


def pruned_type(shape: Shape) -> Any:
    """The type msgspec decodes a value of ``shape`` into: dictionaries with only the shape's fields, lists,
    scalars; each of them may be null. A mapping whose other keys the shape reads too (a container's state)
    is kept whole."""
    if isinstance(shape, AnyValue):
        return Any
    if isinstance(shape, Scalar):
        return _nullable(typing.Union[shape.types])  # noqa: UP007  (a type built at run time)
    if isinstance(shape, Enum):
        return _nullable(str)
    if isinstance(shape, ListOf):
        return _nullable(list[pruned_type(shape.item)])  # type: ignore[misc]
    if isinstance(shape, MapOf):
        return _nullable(dict[str, pruned_type(shape.value)])  # type: ignore[misc]
    if shape.others is not None:
        return _nullable(dict[str, Any])
    fields = {name: pruned_type(field) for name, field in shape.fields.items()}
    return _nullable(_make_typed_dict(f"Pruned{next(_names)}", fields, total=False))


class PrunedDecoder:
    """Decodes list pages and watch events of one kind of object, keeping only the fields of ``shape``."""

    def __init__(self, shape: Obj) -> None:
        item = pruned_type(shape)
        page = {"metadata": _nullable(dict[str, Any]), "items": list[item]}  # type: ignore[valid-type]
        event = {"type": _nullable(str), "object": item}
        self._page: msgspec.json.Decoder[dict[str, Any]] = msgspec.json.Decoder(
            _make_typed_dict("PrunedListPage", page, total=False)
        )
        self._event: msgspec.json.Decoder[dict[str, Any]] = msgspec.json.Decoder(
            _make_typed_dict("PrunedWatchEvent", event, total=False)
        )

    def page(self, data: bytes) -> dict[str, Any] | None:
        """A list's page (``metadata`` and ``items``) with its objects pruned; None when it does not fit the shape
        (or is not JSON): parse it whole."""
        try:
            return self._page.decode(data)
        except msgspec.DecodeError:  # a ValidationError is one
            return None

    def event(self, line: bytes) -> dict[str, Any] | None:
        """A watch event whose object was added, modified or deleted, pruned; None for any other (a bookmark, an
        error, another shape, not JSON): parse it whole."""
        try:
            event = self._event.decode(line)
        except msgspec.DecodeError:
            return None
        if event.get("type") not in ("ADDED", "MODIFIED", "DELETED") or not event.get("object"):
            return None
        return event


@functools.cache
def pruned_decoder(kind_name: str) -> PrunedDecoder | None:
    """The pruned decoder of an informer's kind (``record_shapes.PRUNED``), made once; None for the others."""
    shape = PRUNED.get(kind_name)
    return None if shape is None else PrunedDecoder(shape)
