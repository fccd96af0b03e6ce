"""Reading raw objects that may be malformed: the shape a decoder expects, and what could not be read.

A record decoder reads a raw object as the API server should send it. When the object is not what it should be (a
field of the wrong type, a list where a mapping belongs, a value no version of Kubernetes knows), the decoder must
neither raise nor pass the wrong type on: :func:`clean` walks the object along its expected :data:`Shape`, drops
what does not fit, and says, path by path, what it dropped (``spec.containers[0].name: a number, not text``).
Unknown values of an enumeration are kept (a newer cluster may send them) and noted.

:func:`record_problems` checks a decoded record's fields against its annotations: a cheap test, on every decoded
record, that the decoder's fast path gave what it promises.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Union

_DROP = object()


@dataclass(frozen=True, slots=True)
class Scalar:
    """A JSON scalar of one of ``types`` (``bool`` is never taken for a number, nor a number for a ``bool``)."""

    types: tuple[type, ...]
    what: str

    def fits(self, value: object) -> bool:
        return type(value) in self.types


@dataclass(frozen=True, slots=True)
class Enum:
    """Text among ``known``; other text is kept and noted as an unknown value."""

    known: frozenset[str]


@dataclass(frozen=True, slots=True)
class Obj:
    """A mapping with the given fields; other keys are kept unread, or read as ``others`` when it is given (and
    then noted as unknown when ``note_others`` is set)."""

    fields: Mapping[str, Shape]
    others: Shape | None = None
    note_others: bool = False


@dataclass(frozen=True, slots=True)
class ListOf:
    """A list whose every item has the shape ``item``; an item that does not is dropped."""

    item: Shape


@dataclass(frozen=True, slots=True)
class MapOf:
    """A mapping of text keys to values of the shape ``value`` (labels, annotations, resource quantities)."""

    value: Shape


@dataclass(frozen=True, slots=True)
class AnyValue:
    """Anything: the decoder does not look inside."""


Shape = Union[Scalar, Enum, Obj, ListOf, MapOf, AnyValue]  # noqa: UP007  (a runtime alias on Python 3.10)

TEXT = Scalar((str,), "text")
INT = Scalar((int,), "a whole number")
BOOL = Scalar((bool,), "true or false")
INT_OR_TEXT = Scalar((int, str), "a number or text")
ANY = AnyValue()


def enum(*known: str) -> Enum:
    return Enum(frozenset(known))


def obj(others: Shape | None = None, note_others: bool = False, /, **fields: Shape) -> Obj:
    """An :class:`Obj` from keyword fields (``obj(name=TEXT, uid=TEXT)``)."""
    return Obj(fields, others, note_others)


def describe(value: object) -> str:
    """What a value is, in words (for the notes)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true or false"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, list | tuple):
        return "a list"
    return type(value).__name__


def _expected(shape: Shape) -> str:
    if isinstance(shape, Scalar):
        return shape.what
    if isinstance(shape, Enum):
        return "text"
    if isinstance(shape, ListOf):
        return "a list"
    return "a mapping"


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def clean(value: object, shape: Shape, problems: list[str], path: str = "") -> Any:
    """``value`` with what does not fit ``shape`` dropped, noting each problem in ``problems``; a null is kept
    (the decoders read it as absent). The root's path is ``""``: a root that does not fit gives ``{}``."""
    if value is None and not path:
        problems.append("(object): null, not a mapping")
        return {}
    cleaned = _clean(value, shape, problems, path)
    return {} if cleaned is _DROP else cleaned


def _clean(value: object, shape: Shape, problems: list[str], path: str) -> Any:
    if value is None or isinstance(shape, AnyValue):
        return value
    if isinstance(shape, Scalar):
        if shape.fits(value):
            return value
    elif isinstance(shape, Enum):
        if isinstance(value, str):
            if value and value not in shape.known:
                problems.append(f"{path or '(object)'}: unknown value {value!r}")
            return value
    elif isinstance(shape, ListOf):
        if isinstance(value, list):
            kept = []
            for index, item in enumerate(value):
                cleaned = _clean(item, shape.item, problems, f"{path}[{index}]")
                if cleaned is not _DROP and cleaned is not None:
                    kept.append(cleaned)
            return kept
    elif isinstance(shape, MapOf):
        if isinstance(value, dict):
            out = {}
            for key, item in value.items():
                cleaned = _clean(item, shape.value, problems, _join(path, str(key)))
                if cleaned is not _DROP:
                    out[key] = cleaned
            return out
    elif isinstance(value, dict):
        return _clean_obj(value, shape, problems, path)
    problems.append(f"{path or '(object)'}: {describe(value)}, not {_expected(shape)}")
    return _DROP


def _clean_obj(value: dict[Any, Any], shape: Obj, problems: list[str], path: str) -> dict[Any, Any]:
    out: dict[Any, Any] = {}
    for key, item in value.items():
        item_shape = shape.fields.get(key) if isinstance(key, str) else None
        where = _join(path, str(key))
        if item_shape is None and shape.others is not None:
            if shape.note_others:
                problems.append(f"{where}: unknown field")
            item_shape = shape.others
        cleaned = item if item_shape is None else _clean(item, item_shape, problems, where)
        if cleaned is not _DROP:
            out[key] = cleaned
    return out


# --- the decoded record's own fields ---------------------------------------------------------------------------

Check = Callable[[Any], bool]


def _is_str(value: object) -> bool:
    return type(value) is str


def _is_int(value: object) -> bool:
    return type(value) is int


def _is_bool(value: object) -> bool:
    return type(value) is bool


def _is_float(value: object) -> bool:
    return type(value) is float or type(value) is int


def _anything(value: object) -> bool:
    return True


_SIMPLE: dict[object, Check] = {str: _is_str, int: _is_int, bool: _is_bool, float: _is_float, Any: _anything}


def _check_of(hint: Any) -> Check:
    simple = _SIMPLE.get(hint)
    if simple is not None:
        return simple
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin in (Union, types.UnionType):
        checks = [_check_of(arg) for arg in args if arg is not type(None)]
        optional = type(None) in args
        return lambda value: (optional and value is None) or any(check(value) for check in checks)
    if origin is tuple:
        item = _check_of(args[0]) if args else _anything
        return lambda value: type(value) is tuple and all(item(x) for x in value)
    if origin in (Mapping, dict):
        key_check, value_check = (_check_of(args[0]), _check_of(args[1])) if args else (_anything, _anything)
        if value_check is _anything:
            return lambda value: isinstance(value, Mapping)
        return lambda value: (
            isinstance(value, Mapping) and all(key_check(k) and value_check(v) for k, v in value.items())
        )
    if origin is typing.Literal:
        allowed = frozenset(args)
        return lambda value: value in allowed
    if isinstance(hint, type) and (dataclasses.is_dataclass(hint) or hasattr(hint, "_fields")):
        fields = field_checks(hint)
        return lambda value: isinstance(value, hint) and not _failing(value, fields)
    return _anything


_FIELD_CHECKS: dict[type, tuple[tuple[str, Check], ...]] = {}


def field_checks(cls: type) -> tuple[tuple[str, Check], ...]:
    """(field name, check) for each field of a dataclass or named tuple, from its annotations (made once)."""
    known = _FIELD_CHECKS.get(cls)
    if known is None:
        hints = typing.get_type_hints(cls)
        if dataclasses.is_dataclass(cls):
            names: Sequence[str] = [f.name for f in dataclasses.fields(cls)]
        else:
            names = cls._fields  # type: ignore[attr-defined]
        _FIELD_CHECKS[cls] = known = ()  # a self-referring record stops here
        known = tuple((name, _check_of(hints[name])) for name in names)
        _FIELD_CHECKS[cls] = known
    return known


def _failing(record: object, checks: tuple[tuple[str, Check], ...]) -> list[str]:
    return [name for name, check in checks if not check(getattr(record, name))]


def record_problems(record: object) -> list[str]:
    """The fields of a decoded record whose values are not of their annotated types (slow: names each one)."""
    if well_typed(record):
        return []
    return _failing(record, field_checks(type(record)))


def well_typed(record: object) -> bool:
    """Whether every field of a decoded record is of its annotated type (fast: one compiled test per class)."""
    cls = type(record)
    check = _COMPILED.get(cls)
    if check is None:
        check = _COMPILED[cls] = _compile(cls)
    return check(record)


_COMPILED: dict[type, Check] = {}


# builtins the compiled tests use, bound as default arguments: local names are read faster than global ones
_LOCALS = "type=type, str=str, int=int, bool=bool, float=float, dict=dict, tuple=tuple, set=set, map=map, all=all"


def _compile(cls: type) -> Check:
    """A function testing every field of ``cls``'s records, as one boolean expression (a generic walk over the
    annotations took as long as decoding a pod); containers are tested with C-level ``map`` where it can be."""
    namespace: dict[str, Any] = {"Mapping": Mapping, "_TEXT_ONLY": frozenset((str,)), "_cls": cls}
    counter = iter(range(1_000_000))

    def function_of(hint: Any) -> str:
        """The name of a one-argument test of ``hint`` in the namespace."""
        name = f"_test{next(counter)}"
        if isinstance(hint, type) and (dataclasses.is_dataclass(hint) or hasattr(hint, "_fields")):
            nested = _COMPILED.get(hint)
            if nested is None:
                nested = _COMPILED[hint] = _compile(hint)
            namespace[name] = nested
        else:
            exec(f"def {name}(x, {_LOCALS}):\n    return bool({expression(hint, 'x')})\n", namespace)
        return name

    def expression(hint: Any, value: str) -> str:
        if hint is str or hint is int or hint is bool:
            return f"type({value}) is {hint.__name__}"
        if hint is float:
            return f"(type({value}) is float or type({value}) is int)"
        if hint is Any:
            return "True"
        origin, args = typing.get_origin(hint), typing.get_args(hint)
        if origin in (Union, types.UnionType):
            parts = [expression(arg, value) for arg in args if arg is not type(None)]
            if type(None) in args:
                parts.insert(0, f"{value} is None")
            return "(" + " or ".join(parts) + ")"
        if origin is tuple:
            if not args or args[0] is Any:
                return f"(type({value}) is tuple)"
            if args[0] is str:
                return f"(type({value}) is tuple and set(map(type, {value})) <= _TEXT_ONLY)"
            return f"(type({value}) is tuple and all(map({function_of(args[0])}, {value})))"
        if origin in (Mapping, dict):
            test = f"((type({value}) is dict or isinstance({value}, Mapping))"
            if args and args[0] is str:
                test += f" and set(map(type, {value})) <= _TEXT_ONLY"
            if args and args[1] is str:
                test += f" and set(map(type, {value}.values())) <= _TEXT_ONLY"
            elif args and args[1] is not Any:
                test += f" and all(map({function_of(args[1])}, {value}.values()))"
            return test + ")"
        if origin is typing.Literal:
            name = f"_allowed{next(counter)}"
            namespace[name] = frozenset(args)
            return f"({value} in {name})"
        if isinstance(hint, type) and (dataclasses.is_dataclass(hint) or hasattr(hint, "_fields")):
            return f"{function_of(hint)}({value})"
        return "True"

    hints = typing.get_type_hints(cls)
    names = [f.name for f in dataclasses.fields(cls)] if dataclasses.is_dataclass(cls) else list(cls._fields)  # type: ignore[attr-defined]
    body = " and ".join(["type(r) is _cls", *(expression(hints[name], f"r.{name}") for name in names)])
    exec(f"def check(r, {_LOCALS}):\n    return bool({body})\n", namespace)  # code made from annotations only
    compiled: Check = namespace["check"]
    return compiled


def empty_value(hint: Any) -> Any:
    """A field's value when nothing of it could be read: "", 0, False, None, () or an empty mapping."""
    if hint in (str, int, bool, float):
        return hint()
    origin = typing.get_origin(hint)
    if origin in (Union, types.UnionType) and type(None) in typing.get_args(hint):
        return None
    if origin is tuple:
        return ()
    if origin is typing.Literal:
        return typing.get_args(hint)[0]
    return {}
