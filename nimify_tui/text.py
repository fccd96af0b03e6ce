"""Text from the cluster, made safe to show: no terminal control sequences, no markup, no surprises.

Names, messages and log lines can hold escape sequences (colours, cursor moves, window titles, screen clears) or
other control characters. Shown as they are, they would drive the operator's terminal. One policy applies to every
string we display:

* whole escape sequences (CSI, OSC, DCS/SOS/PM/APC strings and other ESC sequences, in their 7-bit and 8-bit forms)
  are removed: they carry formatting, not text;
* any other control character (C0 except tab, DEL, C1) becomes a visible symbol: C0 and DEL their Unicode control
  pictures (ESC is "␛"), C1 "�", so nothing disappears silently;
* tabs are expanded to spaces.

Rich markup is never interpreted where we display text (we build ``Text`` objects, never parse markup), so
``[bold]`` stays ``[bold]``.
"""

from __future__ import annotations

import re

DEFAULT_TAB_SIZE = 8

_ESCAPE_SEQUENCE = re.compile(
    r"""
      (?:\x1b\[|\x9b) [\x30-\x3f]* [\x20-\x2f]* [\x40-\x7e]          # CSI: colours, cursor, erase
    | (?:\x1b[\]PX^_]|[\x90\x98\x9d\x9e\x9f]) .*? (?:\x07|\x1b\\|\x9c|$)  # OSC, DCS, SOS, PM, APC strings
    | \x1b [\x20-\x2f]* [\x30-\x7e]                                   # any other ESC sequence
    """,
    re.VERBOSE,
)
_CONTROL_CHARACTER = re.compile(r"[\x00-\x08\x0a-\x1f\x7f-\x9f]")
_VISIBLE_CONTROL = {
    **{code: 0x2400 + code for code in range(0x20) if code != 0x09},
    0x7F: 0x2421,
    **{code: 0xFFFD for code in range(0x80, 0xA0)},
}


def sanitize(text: str, tab_size: int = DEFAULT_TAB_SIZE) -> str:
    """``text`` with escape sequences removed, control characters made visible and tabs expanded."""
    if text.isprintable():  # no control character (escape sequences start with one), no tab: the common case
        return text
    if not _CONTROL_CHARACTER.search(text):
        return text if "\t" not in text else text.expandtabs(tab_size)
    without_sequences = _ESCAPE_SEQUENCE.sub("", text)
    return without_sequences.translate(_VISIBLE_CONTROL).expandtabs(tab_size)


def literal(text: str) -> str:
    """One string from the cluster, safe to display (a newline in it shows as "␊")."""
    return sanitize(text, 4)


def one_line(text: str, limit: int = 300) -> str:
    """A single display line: newlines folded to spaces, controls made safe, cut with an ellipsis."""
    flat = literal(" ".join(text.split("\n")))
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"
