"""Severity from the state, and the clipboard's OSC 52 bytes."""

from __future__ import annotations

import base64

import pytest

from nimify_tui.incident.osc52 import MAX_PAYLOAD, PayloadTooLarge, osc52, tmux_note
from nimify_tui.incident.severity import Assessment, SeverityInputs, assess, worse


def test_users_down_is_sev1_whatever_else_holds() -> None:
    assert assess(SeverityInputs(health_failing=True, firing_alerts=("NimifyAPIDown",))) == Assessment(
        "SEV-1", ("/health fails",)
    )
    assert assess(SeverityInputs(predict_failing=True)).level == "SEV-1"
    assert assess(SeverityInputs(error_ratio=0.51)).reasons == ("5xx 51% of answers",)


def test_half_of_the_answers_failing_is_not_yet_down() -> None:
    assert assess(SeverityInputs(error_ratio=0.5)).level is None


def test_firing_alerts_and_lost_capacity_are_sev2() -> None:
    degraded = assess(SeverityInputs(firing_alerts=("NimifyHighLatency",), capacity_lost=("node gpu-1 NotReady",)))
    assert degraded == Assessment("SEV-2", ("NimifyHighLatency firing", "node gpu-1 NotReady"))
    assert assess(SeverityInputs(error_ratio=0.02)) == Assessment(None)
    assert Assessment(None).label == "no incident"


def test_the_worse_grade_wins() -> None:
    assert worse("SEV-2", "SEV-1") == "SEV-1"
    assert worse(None, "SEV-2") == "SEV-2"
    assert worse(None, None) is None


def test_osc52_is_esc_bracket_52_c_base64_bel_byte_for_byte() -> None:
    text = "[SEV-1] nimify-api: investigating\nCause: OOMKilled — limit 512Mi"
    sequence = osc52(text).encode("ascii")
    payload = base64.b64encode(text.encode("utf-8"))
    assert sequence == b"\x1b]52;c;" + payload + b"\x07"
    assert osc52("hi").encode() == b"\x1b]52;c;aGk=\x07"


def test_a_payload_too_large_for_terminals_is_refused() -> None:
    fits = "x" * (MAX_PAYLOAD // 4 * 3)  # the longest text whose base64 is within the bound
    assert len(osc52(fits)) == len("\x1b]52;c;\x07") + MAX_PAYLOAD // 4 * 4
    with pytest.raises(PayloadTooLarge):
        osc52(fits + "xxx")


def test_tmux_needs_set_clipboard_on() -> None:
    assert tmux_note({}) == ""
    assert "set-clipboard on" in tmux_note({"TMUX": "/tmp/tmux-1000/default,1,0"})
