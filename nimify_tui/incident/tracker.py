"""One incident as the session follows it: the outage clock, the worst severity, the resolution attempts, the
escalation prompts, the criteria checklist and the status-update reminder. Fed an :class:`Observation` at each
refresh (on any clock: the app's, or a simulated one in tests); it reports what changed, for the UI to show and
the journal to record."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from nimify_tui.incident.clock import ClockState, OutageClock, Sign
from nimify_tui.incident.escalation import Attempt, Checklist, EscalationPolicy, Escalations, Prompt, judge
from nimify_tui.incident.severity import Assessment, Level, SeverityInputs, assess, worse
from nimify_tui.incident.status_update import UPDATE_EVERY_S, IncidentFacts


@dataclass(frozen=True, slots=True)
class ActionDone:
    """An action that was carried out (not cancelled, not refused): what, when, and the diagnosis it aimed at
    (the top one then, as (scenario, component); None when there was none)."""

    summary: str
    at: float
    aimed_at: tuple[str, str] | None = None


@dataclass(frozen=True, slots=True)
class Verification:
    """A finished recovery verification: whether it passed, and when it ran. It judges the last action done
    before it started."""

    passed: bool
    started_at: float
    finished_at: float


@dataclass(frozen=True, slots=True)
class Observation:
    """The live state at one moment, as the incident needs it."""

    now: float
    failing_since: float | None  # the triage's outage going on
    severity: SeverityInputs
    signs: Sequence[Sign] = ()
    cause: str | None = None  # the top diagnosis's cause; None: no diagnosis
    diagnosed: tuple[tuple[str, str], ...] = ()  # every diagnosis now, as (scenario, component)
    actions: Sequence[ActionDone] = ()  # every action done this session, oldest first
    verification: Verification | None = None  # the latest finished one


@dataclass(frozen=True, slots=True)
class Changes:
    """What happened at this update: to show and to journal."""

    prompts: tuple[Prompt, ...] = ()
    attempts: tuple[Attempt, ...] = ()  # attempts whose outcome changed
    remind: bool = False  # a status update is due


@dataclass
class IncidentTracker:
    policy: EscalationPolicy = field(default_factory=EscalationPolicy)
    update_every_s: float = UPDATE_EVERY_S
    clock: OutageClock = field(default_factory=OutageClock)
    escalations: Escalations = field(init=False)
    checklist: Checklist = field(default_factory=Checklist)
    attempts: dict[float, Attempt] = field(default_factory=dict)  # by the action's time
    assessment: Assessment = field(default_factory=lambda: Assessment(None))
    worst: Level | None = None  # the highest grade of the outage going on (or of the last one)
    verified_at: float | None = None  # the verification that closed the last outage
    last_update_at: float | None = None  # the last status update copied
    reminded_at: float | None = None
    cause: str | None = None  # the last cause diagnosed during the outage (kept once it cleared)
    last_action: ActionDone | None = None

    def __post_init__(self) -> None:
        self.escalations = Escalations(self.policy)

    @property
    def state(self) -> ClockState:
        return self.clock.state

    def update(self, seen: Observation) -> Changes:
        now = seen.now
        was_running = self.clock.state.running
        state = self.clock.update(seen.failing_since, seen.signs, now)
        if state.running and not was_running:  # a new outage: its own grade, attempts, escalations and reminders
            self.worst, self.verified_at, self.attempts, self.reminded_at = None, None, {}, None
            self.escalations = Escalations(self.policy)
        self.assessment = assess(seen.severity)
        if state.running:
            self.worst = worse(self.worst, self.assessment.level)
        if seen.cause is not None:
            self.cause = seen.cause
        changed = self._attempts(seen, state)
        verification = seen.verification
        start = state.started_at
        if verification is not None and verification.passed and start is not None and verification.finished_at >= start:
            self.verified_at = verification.finished_at
        failed = sum(1 for attempt in self.attempts.values() if attempt.outcome == "failed")
        prompts = tuple(self.escalations.update(state.seconds(now) if state.running else 0.0, failed))
        return Changes(prompts, changed, self._remind(state, now))

    def _attempts(self, seen: Observation, state: ClockState) -> tuple[Attempt, ...]:
        """Each action taken during the outage is an attempt, judged by what followed it."""
        changed = []
        start = state.started_at
        verification = seen.verification
        judged_at = None  # the action the verification followed
        if verification is not None:
            before = [action.at for action in seen.actions if action.at <= verification.started_at]
            judged_at = max(before) if before else None
        for action in seen.actions:
            if start is None or action.at < start or (state.ended_at is not None and action.at > state.ended_at):
                continue
            self.last_action = action
            attempt = self.attempts.get(action.at, Attempt(action.summary, action.at))
            verdict = verification.passed if verification is not None and judged_at == action.at else None
            aimed_at = action.aimed_at
            cleared = aimed_at not in seen.diagnosed if aimed_at is not None else not seen.diagnosed
            judged = judge(attempt, seen.now, cleared, verdict, self.policy.attempt_deadline_s)
            if judged != attempt or action.at not in self.attempts:
                changed.append(judged)
            self.attempts[action.at] = judged
        return tuple(changed)

    def _remind(self, state: ClockState, now: float) -> bool:
        """Due every ``update_every_s`` of outage since the last status update (or since the outage began), once."""
        if not state.running or state.started_at is None:
            return False
        since = max(state.started_at, self.last_update_at or 0.0, self.reminded_at or 0.0)
        if now - since < self.update_every_s:
            return False
        self.reminded_at = now
        return True

    def status_updated(self, now: float) -> None:
        self.last_update_at = now

    def facts(self, service: str, affected: Sequence[str]) -> IncidentFacts:
        state = self.clock.state
        action = self.last_action
        return IncidentFacts(
            service=service,
            affected=tuple(affected),
            severity=self.assessment.level,
            started_at=state.started_at,
            ended_at=state.ended_at,
            cause=self.cause,
            last_action=action.summary if action is not None else None,
            last_action_at=action.at if action is not None else None,
            verified_at=self.verified_at if not state.running else None,
            worst_severity=self.worst,
        )
