"""Reading the few protobuf bodies kubectl sends: its access reviews (``kubectl auth can-i``).

A Kubernetes protobuf body is the magic ``k8s\\0`` and a ``runtime.Unknown`` message: field 1 the
TypeMeta (apiVersion 1, kind 2), field 2 the object's own encoding. Only the fields an access review
needs are decoded; the rest are skipped.
"""

from __future__ import annotations

from typing import Any

PROTOBUF = "application/vnd.kubernetes.protobuf"
MAGIC = b"k8s\x00"

# field number -> name, or (name, nested schema) for embedded messages
Schema = dict[int, "str | tuple[str, Schema]"]

_RESOURCE_ATTRIBUTES: Schema = {
    1: "namespace",
    2: "verb",
    3: "group",
    4: "version",
    5: "resource",
    6: "subresource",
    7: "name",
}
SCHEMAS: dict[str, Schema] = {
    "SelfSubjectAccessReview": {
        2: (
            "spec",
            {1: ("resourceAttributes", _RESOURCE_ATTRIBUTES), 2: ("nonResourceAttributes", {1: "path", 2: "verb"})},
        )
    },
    "SelfSubjectRulesReview": {2: ("spec", {1: "namespace"})},
}


class ProtobufError(ValueError):
    """A body that is not a Kubernetes protobuf object this reader knows."""


def _varint(data: bytes, pos: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        if pos >= len(data):
            raise ProtobufError("truncated varint")
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, pos
        shift += 7


def _fields(data: bytes) -> list[tuple[int, int | bytes]]:
    """(field number, value) pairs: ints for varints, bytes for length-delimited fields."""
    found: list[tuple[int, int | bytes]] = []
    pos = 0
    while pos < len(data):
        key, pos = _varint(data, pos)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, pos = _varint(data, pos)
            found.append((number, value))
        elif wire == 2:
            length, pos = _varint(data, pos)
            found.append((number, data[pos : pos + length]))
            pos += length
        elif wire == 1:
            pos += 8
        elif wire == 5:
            pos += 4
        else:
            raise ProtobufError(f"unsupported wire type {wire}")
    return found


def _message(data: bytes, schema: Schema) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for number, value in _fields(data):
        entry = schema.get(number)
        if entry is None or not isinstance(value, bytes):
            continue
        if isinstance(entry, tuple):
            result[entry[0]] = _message(value, entry[1])
        else:
            result[entry] = value.decode()
    return result


def decode(body: bytes) -> dict[str, Any]:
    """The JSON form of a protobuf-encoded object of a kind in ``SCHEMAS``."""
    if not body.startswith(MAGIC):
        raise ProtobufError("missing the k8s protobuf prefix")
    envelope = dict(_fields(body[len(MAGIC) :]))
    type_meta = envelope.get(1)
    raw = envelope.get(2)
    if not isinstance(type_meta, bytes) or not isinstance(raw, bytes):
        raise ProtobufError("not a runtime.Unknown envelope")
    meta = _message(type_meta, {1: "apiVersion", 2: "kind"})
    schema = SCHEMAS.get(meta.get("kind", ""))
    if schema is None:
        raise ProtobufError(f"kind {meta.get('kind')!r} is not readable here")
    return {**meta, **_message(raw, schema)}
