"""Text from the cluster, made safe to show: no terminal control sequences, no surprises.

Names, messages and log lines can hold escape sequences (colours, cursor moves, window titles) or other control
characters. Shown as they are they would drive the operator's terminal; here every control character becomes a
visible, literal form (``ESC`` as ``^[``, others as ``^X`` or ``\\xNN``), so what the cluster said is what is seen.
Rich markup is not interpreted anywhere we display text (we build ``Text`` objects, never parse markup), so
``[bold]`` stays ``[bold]``.
"""

from __future__ import annotations

import re

_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f-\x9f]")


def _visible(match: re.Match[str]) -> str:
    code = ord(match.group())
    if code < 0x20:
        return "^" + chr(code + 0x40)
    if code == 0x7F:
        return "^?"
    return f"\\x{code:02x}"


def literal(text: str, *, tab_size: int = 4) -> str:
    """``text`` with control characters made visible and tabs expanded; plain text passes unchanged (fast path)."""
    if text.isprintable():
        return text
    if "\t" in text:
        text = text.expandtabs(tab_size)
    return _CONTROL.sub(_visible, text)


def one_line(text: str, limit: int = 300) -> str:
    """A single display line: newlines folded to spaces, controls made visible, cut with an ellipsis."""
    flat = " ".join(text.split("\n"))
    flat = literal(flat)
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"
