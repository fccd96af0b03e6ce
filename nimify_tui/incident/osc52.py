"""Copying to the clipboard with OSC 52: the terminal (even at the far end of SSH) puts the text in its clipboard.

The sequence is ``ESC ] 52 ; c ; <base64 of the UTF-8 text> BEL``. Under tmux a plain sequence from the application
sets the clipboard when tmux's ``set-clipboard`` is ``on`` (its default, ``external``, ignores it); the DCS
passthrough form is not needed then, so the plain form is the only one written. Some terminals cap or refuse large
payloads: :data:`MAX_PAYLOAD` bounds what is sent, and the text is always shown on screen too.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping

ESC = "\x1b"
BEL = "\x07"
MAX_PAYLOAD = 74_994  # base64 bytes: what the most restrictive common terminals still accept (about 56 kB of text)


class PayloadTooLarge(ValueError):
    """The text is too long to be sent in one OSC 52 sequence."""


def osc52(text: str) -> str:
    """The OSC 52 sequence that sets the system clipboard ("c") to ``text``."""
    payload = base64.b64encode(text.encode("utf-8")).decode("ascii")
    if len(payload) > MAX_PAYLOAD:
        raise PayloadTooLarge(f"{len(payload)} bytes of base64, more than the {MAX_PAYLOAD} terminals accept")
    return f"{ESC}]52;c;{payload}{BEL}"


def tmux_note(environ: Mapping[str, str]) -> str:
    """What the person must know when the app runs inside tmux ("" outside it)."""
    if not environ.get("TMUX"):
        return ""
    return "inside tmux: needs `set -g set-clipboard on` (the default, external, ignores it)"
