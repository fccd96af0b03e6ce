"""How nimify-api and nimify-worker read ``/etc/nimify/config.yaml`` as they start: the sections and keys they
know, and the error they exit with on a file they refuse."""

from __future__ import annotations

import difflib

import yaml

CONFIG_PATH = "/etc/nimify/config.yaml"
KNOWN_KEYS: dict[str, frozenset[str]] = {
    "server": frozenset({"port", "metrics_port", "workers"}),
    "triton": frozenset({"url", "model", "timeout_s", "max_batch_size"}),
    "database": frozenset({"host", "port", "pool_size"}),
    "cache": frozenset({"path"}),
    "logging": frozenset({"level"}),
}


def _suggestion(name: str, known: frozenset[str]) -> str:
    close = difflib.get_close_matches(name, sorted(known), n=1)
    return f"; did you mean '{close[0]}'?" if close else ""


def config_error(text: str | None) -> str:
    """Why the apps refuse the configuration ``text`` ("" when they accept it; None: there is no such file)."""
    if text is None:
        return f"configuration file {CONFIG_PATH} not found"
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark is not None else ""
        return f"{CONFIG_PATH} is not valid YAML{where}: {getattr(exc, 'problem', None) or exc}"
    if not isinstance(document, dict):
        return f"{CONFIG_PATH} must be a mapping of sections ({', '.join(KNOWN_KEYS)})"
    for section, body in document.items():
        if section not in KNOWN_KEYS:
            known_sections = frozenset(KNOWN_KEYS)
            return f"unknown section '{section}' in {CONFIG_PATH}{_suggestion(str(section), known_sections)}"
        if not isinstance(body, dict):
            return f"section '{section}' in {CONFIG_PATH} must be a mapping"
        for key in body:
            if key not in KNOWN_KEYS[section]:
                hint = _suggestion(str(key), KNOWN_KEYS[section])
                return f"unknown key '{key}' in {CONFIG_PATH} (section '{section}'{hint})"
    return ""
