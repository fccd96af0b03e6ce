"""The incident's people side in the app: it follows the live state each second (on the app's clock, so tests run
on simulated time), grades the severity, runs the outage clock, raises the escalation prompts and the status-update
reminder, and journals each of them, each tick of the criteria checklist and each status update copied."""

from __future__ import annotations

import os
import threading
from typing import TYPE_CHECKING

from nimify_tui.actions.plan import Action
from nimify_tui.incident.escalation import CRITERION_BY_ID, Prompt
from nimify_tui.incident.observe import severity_inputs, signs
from nimify_tui.incident.osc52 import PayloadTooLarge, osc52, tmux_note
from nimify_tui.incident.severity import Level
from nimify_tui.incident.status_update import draft
from nimify_tui.incident.tracker import ActionDone, IncidentTracker, Observation, Verification
from nimify_tui.journal.journal import Journal
from nimify_tui.recovery.result import RecoveryResult
from nimify_tui.recovery.verifier import RECOVERY
from nimify_tui.recovery.verify import PREDICT_CHECK
from nimify_tui.triage.source import TRIAGE

if TYPE_CHECKING:
    from nimify_tui.ui.app import NimifyApp

SERVICE = "nimify-api"
TICK_S = 1.0
PREDICT_FRESH_S = 5 * 60  # outside an outage, a failed predict older than this no longer grades it


def verification_of(result: RecoveryResult | None) -> Verification | None:
    """A finished recovery verification as the escalation judges attempts by it (read-only's "incomplete" judges
    nothing)."""
    if result is None or result.finished_at is None or result.outcome not in ("verified", "failed"):
        return None
    return Verification(result.outcome == "verified", result.started_at, result.finished_at)


def predict_failed(result: RecoveryResult | None, since: float) -> bool:
    """Whether the latest verification, started since ``since``, saw the end-to-end predict fail (an older one says
    nothing about now)."""
    if result is None or result.started_at < since:
        return False
    return any(c.name == PREDICT_CHECK and c.state == "fail" for c in result.checks)


class IncidentDesk:
    """Owned by the app: :meth:`tick` each second; the main screen shows :attr:`tracker`'s state and the banner."""

    def __init__(self, app: NimifyApp) -> None:
        self.app = app
        self.tracker = IncidentTracker()
        self.reminder_due = False
        self._actions: list[ActionDone] = []
        self._lock = threading.Lock()
        self._level: Level | None = None

    @property
    def journal(self) -> Journal | None:
        return self.app.session.journal

    def start(self) -> None:
        self.app.action_runner().done_listeners.append(self.action_done)
        self.app.set_interval(TICK_S, self.tick)

    def action_done(self, action: Action, at: float) -> None:
        """An action was carried out (on a worker thread): an attempt, aimed at the top diagnosis of the moment."""
        triage = self.app.runtime.store.value(TRIAGE)
        top = triage.diagnoses[0] if triage is not None and triage.diagnoses else None
        aimed_at = (top.scenario, top.component) if top is not None else None
        with self._lock:
            self._actions.append(ActionDone(action.summary(), self.app.clock(), aimed_at))

    def observe(self) -> Observation:
        store = self.app.runtime.store
        namespace = self.app.settings.namespace
        triage = store.value(TRIAGE)
        recovery = store.value(RECOVERY)
        diagnoses = triage.diagnoses if triage is not None else ()
        with self._lock:
            actions = tuple(self._actions)
        now = self.app.clock()
        state = self.tracker.state
        since = state.started_at if state.running and state.started_at is not None else now - PREDICT_FRESH_S
        return Observation(
            now=now,
            failing_since=triage.failing_since if triage is not None else None,
            severity=severity_inputs(store, namespace, predict_failing=predict_failed(recovery, since)),
            signs=signs(store, namespace),
            cause=diagnoses[0].cause if diagnoses else None,
            diagnosed=tuple((d.scenario, d.component) for d in diagnoses),
            actions=actions,
            verification=verification_of(recovery),
        )

    def tick(self) -> None:
        changes = self.tracker.update(self.observe())
        journal = self.journal
        assessment = self.tracker.assessment
        if assessment.level != self._level:
            self._level = assessment.level
            if journal is not None:
                journal.severity(level=assessment.level, reasons=assessment.reasons)
        for attempt in changes.attempts:
            if attempt.outcome == "failed" and journal is not None:
                journal.resolution_attempt(
                    action=attempt.action, action_at=attempt.at, outcome="failed", why=attempt.why
                )
        for prompt in changes.prompts:
            self._raise(prompt)
        if changes.remind:
            self.reminder_due = True
            if journal is not None:
                journal.status_update(text="", resolution=False, copied=False, event="reminder")
            self.app.notify("A status update is due (30 min since the last): c drafts it.", severity="warning")

    def _raise(self, prompt: Prompt) -> None:
        if self.journal is not None:
            self.journal.escalation(event="raised", prompt=prompt.id, who=prompt.who, why=prompt.why)
        self.app.bell()
        self.app.notify(
            f"Escalate to {prompt.who}: {prompt.why}. On the main screen, a acknowledges.",
            title="Escalation",
            severity="error",
            timeout=30,
            markup=False,
        )

    def acknowledge(self) -> Prompt | None:
        """The oldest open prompt, acknowledged and journaled (None: none open)."""
        open_prompts = self.tracker.escalations.open()
        if not open_prompts:
            return None
        prompt = self.tracker.escalations.acknowledge(open_prompts[0].id)
        if prompt is not None and self.journal is not None:
            self.journal.escalation(event="acknowledged", prompt=prompt.id, who=prompt.who, why=prompt.why)
        return prompt

    def toggle_criterion(self, criterion_id: str) -> bool:
        ticked = self.tracker.checklist.toggle(criterion_id)
        criterion = CRITERION_BY_ID[criterion_id]
        if self.journal is not None:
            self.journal.escalation_criterion(
                criterion=criterion.id, text=criterion.text, who=criterion.who, ticked=ticked
            )
        return ticked

    # --- status updates -----------------------------------------------------------------------------------
    def draft(self) -> str:
        """The status update from the live state now (the resolution message after verified recovery)."""
        self.tick()  # the state of this moment, anything it raises raised as at any tick
        facts = self.tracker.facts(SERVICE, self.tracker.assessment.reasons)
        return draft(facts, self.app.clock())

    @property
    def resolved(self) -> bool:
        return self.tracker.verified_at is not None and not self.tracker.state.running

    def copy(self, text: str) -> str:
        """Copy ``text`` with OSC 52 through the app's driver and journal it; what to tell the person."""
        try:
            osc52(text)  # the bound terminals accept; Textual writes these very bytes
        except PayloadTooLarge as exc:
            return f"Not copied: {exc}. Select the text on screen instead."
        self.app.copy_to_clipboard(text)
        if self.journal is not None:
            self.journal.status_update(text=text, resolution=self.resolved, copied=True)
        self.tracker.status_updated(self.app.clock())
        self.reminder_due = False
        note = tmux_note(os.environ)
        return "Copied to the clipboard (OSC 52) and journaled." + (f" {note}." if note else "")
