"""Scrubbing of secret values from everything the journal writes.

Strings lose bearer tokens and Authorization values, JWT-shaped strings, secret-named assignments
(``token: ...``, ``password=...``, ``client-key-data: ...``), PEM blocks (plain or base64), URL passwords
and every registered secret value. Structures also lose the ``data``/``stringData`` values of Secret
objects, the values of secret-named keys and of secret-named container environment variables; kubectl's
last-applied copy of an object is scrubbed as the object it holds. Each is replaced by ``<redacted>``.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Mapping, Sequence
from typing import Any, TypeAlias

import orjson

REDACTED = "<redacted>"

JsonValue: TypeAlias = "bool | int | float | str | list[JsonValue] | dict[str, JsonValue] | None"

# Keys whose string value is a secret, in kubeconfigs, headers and request bodies (matched whole, any case).
_SECRET_KEY = re.compile(
    r"(?:(?:access|id|refresh|auth|bearer)[-_]?)?token|password|passwd|client[-_]?secret|secret"
    r"|client-key-data|client-certificate-data|(?:x-)?api[-_]?key|authorization|proxy-authorization"
    r"|(?:set-)?cookie",
    re.IGNORECASE,
)
# Names of environment variables that carry secrets, e.g. DB_PASSWORD, HF_TOKEN, AWS_SECRET_ACCESS_KEY.
_SECRET_ENV_NAME = re.compile(r"PASSWORD|PASSWD|TOKEN|SECRET|API_?KEY|CREDENTIAL|PRIVATE_?KEY", re.IGNORECASE)
_LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"
_SECRET_DATA_FIELDS = ("data", "stringData")

# Each rule with the words (lower case) one of which any text it matches holds: a rule runs only on a text that
# holds one of them (a cheap test that spares a long text most of the rules' scans).
_TEXT_RULES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"-----BEGIN [A-Z0-9 ]+-----.*?(?:-----END [A-Z0-9 ]+-----|\Z)", re.DOTALL), REDACTED),
    # base64 of "-----BEGIN", as in kubeconfig client-key-data
    (re.compile(r"LS0tLS1CRUdJT[A-Za-z0-9+/=]*"), REDACTED),
    (
        re.compile(r"(authorization[\"']?\s*[:=]\s*[\"']?)[^\"'\r\n,}]+", re.IGNORECASE),
        rf"\g<1>{REDACTED}",
    ),
    (re.compile(r"\b(bearer\s+)[A-Za-z0-9\-._~+/]+=*", re.IGNORECASE), rf"\g<1>{REDACTED}"),
    # a URL's password (scheme://user:password@host): the match starts at "://", which the regular expression
    # engine finds by a fast literal search (a scheme first, tried at every word, took ~0.2 s a 5 MB describe); the
    # scheme before it is kept as it is, whatever it is
    (re.compile(r"(://[^/\s:@]*:)[^/\s@]+@"), rf"\g<1>{REDACTED}@"),
    (
        re.compile(
            # the name may end a longer one: DB_PASSWORD=..., hfToken: ...
            r"((?:token|password|passwd|secret|api[-_]?key|client-key-data|client-certificate-data)"
            r"[\"']?\s*[:=]\s*[\"']?)[^\s\"',;}]+",
            re.IGNORECASE,
        ),
        rf"\g<1>{REDACTED}",
    ),
    (re.compile(r"\beyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*"), REDACTED),
)
_RULE_WORDS: tuple[tuple[str, ...], ...] = (
    ("-----begin",),
    ("ls0tls1crudjt",),
    ("authorization",),
    ("bearer",),
    ("://",),
    (
        "token",
        "password",
        "passwd",
        "secret",
        "apikey",
        "api-key",
        "api_key",
        "client-key-data",
        "client-certificate-data",
    ),
    ("eyj",),
)

_SECRET_OPTION = re.compile(r"--?[\w-]*(?:token|password|passwd|secret|api-?key|credential)[\w-]*", re.IGNORECASE)
_AUTH_SCHEME_PREFIX = re.compile(r"^(?:bearer|basic)\s+", re.IGNORECASE)


def is_secret_key(key: str) -> bool:
    """Whether a mapping key (kubeconfig field, header, body field) names a secret value."""
    return _SECRET_KEY.fullmatch(key) is not None


def _is_secret_env_entry(mapping: Mapping[Any, object]) -> bool:
    name = mapping.get("name")
    return isinstance(name, str) and "value" in mapping and _SECRET_ENV_NAME.search(name) is not None


def _is_secret_patch_op(mapping: Mapping[Any, object]) -> bool:
    path = mapping.get("path")
    return "op" in mapping and isinstance(path, str) and path.startswith(("/data", "/stringData"))


class Redactor:
    """Scrubs secrets from strings and JSON-like structures; registered values are removed wherever found.

    Thread-safe: registration swaps one compiled pattern, scrubbing reads it.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._known: set[str] = set()
        self._known_pattern: re.Pattern[str] | None = None

    def register(self, value: str) -> None:
        """Remove ``value`` (and ``X`` alone for ``Bearer X`` or ``Basic X``) from all scrubbed later."""
        values = {value, _AUTH_SCHEME_PREFIX.sub("", value, count=1)} - {""}
        with self._lock:
            self._known |= values
            alternatives = sorted(self._known, key=len, reverse=True)
            self._known_pattern = re.compile("|".join(map(re.escape, alternatives)))

    def scrub_text(self, text: str) -> str:
        """``text`` with every secret replaced by ``<redacted>``."""
        known = self._known_pattern
        if known is not None:
            text = known.sub(REDACTED, text)
        lowered = text.lower()
        for (pattern, replacement), words in zip(_TEXT_RULES, _RULE_WORDS, strict=True):
            if any(word in lowered for word in words):
                text = pattern.sub(replacement, text)
        return text

    def scrub(self, value: object, *, secret_payload: bool = False) -> JsonValue:
        """A JSON copy of ``value`` with secrets replaced; ``secret_payload`` treats it as (part of) a Secret.

        Accepts None, bool, int, float, str, lists, tuples and mappings with string keys; else TypeError.
        """
        if value is None or isinstance(value, bool | int | float):
            return value
        if isinstance(value, str):
            return self.scrub_text(value)
        if isinstance(value, list | tuple):
            return [self.scrub(item, secret_payload=secret_payload) for item in value]
        if isinstance(value, Mapping):
            return self.scrub_mapping(value, secret_payload=secret_payload)
        raise TypeError(f"cannot record a {type(value).__name__} in the journal; convert it to JSON values")

    def scrub_mapping(self, mapping: Mapping[Any, object], *, secret_payload: bool = False) -> dict[str, JsonValue]:
        """:meth:`scrub` for a mapping."""
        secret = secret_payload or mapping.get("kind") == "Secret"
        env_entry = _is_secret_env_entry(mapping)
        patch_op = secret and _is_secret_patch_op(mapping)
        result: dict[str, JsonValue] = {}
        for key, item in mapping.items():
            if not isinstance(key, str):
                raise TypeError(f"journal mapping keys must be strings, got {type(key).__name__}")
            if (
                (isinstance(item, str) and is_secret_key(key))
                or (env_entry and key == "value")
                or (patch_op and key == "value")
            ):
                result[key] = REDACTED
            elif key == _LAST_APPLIED and isinstance(item, str):
                result[key] = self._scrub_last_applied(item)
            elif secret and key in _SECRET_DATA_FIELDS and isinstance(item, Mapping):
                result[key] = {str(name): REDACTED for name in item}
            else:
                result[key] = self.scrub(item, secret_payload=secret_payload)
        return result

    def _scrub_last_applied(self, text: str) -> str:
        """kubectl's copy of an applied object, as JSON text: scrubbed as the object it holds."""
        try:
            applied = orjson.loads(text)
        except orjson.JSONDecodeError:
            return REDACTED
        scrubbed = self.scrub(applied)
        return text if scrubbed == applied else orjson.dumps(scrubbed).decode()


def kubeconfig_secret_values(document: object) -> set[str]:
    """The secret strings of a parsed kubeconfig: tokens, passwords, key data, auth-provider/exec secrets."""
    found: set[str] = set()
    if isinstance(document, Mapping):
        env_entry = _is_secret_env_entry(document)
        for key, item in document.items():
            if isinstance(item, str) and item and (is_secret_key(str(key)) or (env_entry and key == "value")):
                found.add(item)
            else:
                found |= kubeconfig_secret_values(item)
    elif isinstance(document, list | tuple):
        for item in document:
            found |= kubeconfig_secret_values(item)
    return found


def redact_argv(argv: Sequence[str]) -> list[str]:
    """``argv`` with the values of secret-named options (``--token X``, ``--password=X``) replaced."""
    result: list[str] = []
    hide_next = False
    for arg in argv:
        if hide_next:
            result.append(REDACTED)
            hide_next = False
            continue
        name, equals, _ = arg.partition("=")
        if _SECRET_OPTION.fullmatch(name):
            result.append(f"{name}={REDACTED}" if equals else arg)
            hide_next = not equals
        else:
            result.append(arg)
    return result
