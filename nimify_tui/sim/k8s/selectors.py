"""Label and field selectors as the simulated API server parses and matches them."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

Obj = dict[str, Any]
ObjectPredicate = Callable[[Obj], bool]


class SelectorError(ValueError):
    """A selector the real API server would reject (it answers 400 BadRequest)."""


_SET_RE = re.compile(r"^\s*([^\s!=()]+)\s+(in|notin)\s+\(([^)]*)\)\s*$")


def _split_terms(text: str) -> list[str]:
    """Split on commas outside parentheses."""
    terms: list[str] = []
    depth, current = 0, list[str]()
    for char in text:
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        if char == "," and depth == 0:
            terms.append("".join(current))
            current = []
        else:
            current.append(char)
    terms.append("".join(current))
    return [term.strip() for term in terms if term.strip()]


def _label_term(term: str) -> Callable[[Mapping[str, str]], bool]:
    set_match = _SET_RE.match(term)
    if set_match:
        key, operator, values_text = set_match.groups()
        values = {value.strip() for value in values_text.split(",") if value.strip()}
        if operator == "in":
            return lambda labels: labels.get(key) in values
        return lambda labels: labels.get(key) not in values
    for operator in ("!=", "==", "="):
        if operator in term:
            key, _, value = term.partition(operator)
            key, value = key.strip(), value.strip()
            if not key:
                raise SelectorError(f"unable to parse requirement: {term!r}")
            if operator == "!=":
                return lambda labels: labels.get(key) != value
            return lambda labels: labels.get(key) == value
    if term.startswith("!"):
        key = term[1:].strip()
        return lambda labels: key not in labels
    if re.fullmatch(r"[A-Za-z0-9./_-]+", term) is None:
        raise SelectorError(f"unable to parse requirement: {term!r}")
    return lambda labels: term in labels


def parse_label_selector(text: str) -> Callable[[Mapping[str, str]], bool]:
    """A predicate on a label map for a selector string (=, ==, !=, in, notin, exists, !exists)."""
    checks = [_label_term(term) for term in _split_terms(text)]
    return lambda labels: all(check(labels) for check in checks)


def labels_match(selector: Mapping[str, Any] | None, labels: Mapping[str, str]) -> bool:
    """Whether ``labels`` match a structured LabelSelector (matchLabels + matchExpressions)."""
    if not selector:
        return False
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(key) != value:
            return False
    for expr in selector.get("matchExpressions") or []:
        key, operator, values = expr["key"], expr["operator"], expr.get("values") or []
        present = key in labels
        if (
            (operator == "In" and labels.get(key) not in values)
            or (operator == "NotIn" and present and labels[key] in values)
            or (operator == "Exists" and not present)
            or (operator == "DoesNotExist" and present)
        ):
            return False
    return True


def field_value(obj: Obj, path: str) -> str:
    """The string value of a dotted field path, "" when absent (as the real field selectors treat it)."""
    value: Any = obj
    for part in path.split("."):
        if not isinstance(value, dict):
            return ""
        value = value.get(part)
    if path == "source" and isinstance(obj.get("source"), dict):
        return str(obj["source"].get("component", ""))
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def parse_field_selector(text: str, allowed: tuple[str, ...]) -> ObjectPredicate:
    """A predicate on objects for a field selector; fields outside ``allowed`` are rejected like the server."""
    checks: list[ObjectPredicate] = []
    for term in _split_terms(text):
        for operator in ("!=", "==", "="):
            if operator in term:
                field, _, value = term.partition(operator)
                field, value = field.strip(), value.strip()
                break
        else:
            raise SelectorError(f"invalid selector: '{text}'; can't understand '{term}'")
        if field not in ("metadata.name", "metadata.namespace", *allowed):
            raise SelectorError(f"field label not supported: {field}")
        checks.append(_field_check(field, value, negate=operator == "!="))
    return lambda obj: all(check(obj) for check in checks)


def _field_check(field: str, value: str, negate: bool) -> ObjectPredicate:
    if negate:
        return lambda obj: field_value(obj, field) != value
    return lambda obj: field_value(obj, field) == value
