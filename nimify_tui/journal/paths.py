"""Where sessions are recorded: ``$XDG_STATE_HOME/nimify-tui/sessions/<YYYYmmdd-HHMMSS>-<context>``."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime, timezone
from pathlib import Path

from nimify_tui.config import xdg_base_dir

_UNSAFE_RUN = re.compile(r"[^A-Za-z0-9._-]+")
_MAX_NAME_PART = 64


def sessions_root(env: Mapping[str, str]) -> Path:
    """``$XDG_STATE_HOME/nimify-tui/sessions`` (``~/.local/state/...`` when the variable is unset)."""
    return xdg_base_dir(env, "XDG_STATE_HOME", Path(".local", "state")) / "nimify-tui" / "sessions"


def path_safe_context(context: str | None) -> str:
    """A context name as one path component: unsafe runs become ``_``, the last 64 characters are kept."""
    if context is None:
        return "in-cluster"
    safe = _UNSAFE_RUN.sub("_", context)[-_MAX_NAME_PART:].strip("._-")
    return safe or "context"


def create_session_dir(root: Path, context: str | None, now: datetime | None = None) -> Path:
    """Create and return a new, private session directory under ``root``, named by UTC time and context.

    Sessions started in the same second get ``-2``, ``-3``, ... suffixes; creation is atomic, so two
    processes never share a directory.
    """
    started = (now or datetime.now(timezone.utc)).astimezone(timezone.utc)
    base = f"{started:%Y%m%d-%H%M%S}-{path_safe_context(context)}"
    root.mkdir(parents=True, exist_ok=True)
    attempt = 1
    while True:
        candidate = root / (base if attempt == 1 else f"{base}-{attempt}")
        try:
            candidate.mkdir(mode=0o700)
        except FileExistsError:
            attempt += 1
        else:
            return candidate
