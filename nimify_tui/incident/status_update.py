"""The status update the runbook asks for ("Communicate Status", and "Update Status" once resolved), drafted from
the live state: what is affected, since when and how severe, the suspected cause, what is being done, and when the
next update comes. After verified recovery the draft is the resolution message. Short on purpose: it goes into a
status page or a chat channel, and through the terminal's clipboard."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

from nimify_tui.kube.duration import human_duration

UPDATE_EVERY_S = 30 * 60  # the runbook: keep stakeholders informed with regular updates


@dataclass(frozen=True, slots=True)
class IncidentFacts:
    """What a status update states, gathered from the live state."""

    service: str  # "nimify-api"
    affected: tuple[str, ...]  # "/health fails", "predict fails", "2 of 3 replicas ready"
    severity: str | None  # "SEV-1", "SEV-2", None
    started_at: float | None  # the outage clock's start
    ended_at: float | None = None  # the outage clock's end, once every check passes again
    cause: str | None = None  # the top diagnosis's cause
    last_action: str | None = None  # the last action taken, as the journal says it
    last_action_at: float | None = None
    verified_at: float | None = None  # recovery verified then (only then is the draft a resolution)
    worst_severity: str | None = None  # the highest grade the incident reached


def utc(at: float) -> str:
    return datetime.fromtimestamp(at, timezone.utc).strftime("%H:%M UTC")


def draft(facts: IncidentFacts, now: float, next_update_in_s: float = UPDATE_EVERY_S) -> str:
    """The update to post now: the resolution message after verified recovery, else the outage update."""
    if facts.verified_at is not None:
        return resolution(facts)
    if facts.ended_at is not None:  # every check passes again, the recovery not verified (yet)
        severity = facts.worst_severity or "not graded"
        lines = [f"[MONITORING] {facts.service}: checks pass again; recovery not verified yet"]
    else:
        severity = facts.severity or "not graded"
        lines = [f"[{severity}] {facts.service}: {'investigating' if facts.last_action is None else 'mitigating'}"]
    affected = "; ".join(facts.affected) or "no user-facing failure seen right now"
    lines.append(f"Affected: {facts.service} ({affected}).")
    if facts.started_at is not None and facts.ended_at is not None:
        span = f"{utc(facts.started_at)} to {utc(facts.ended_at)} ({human_duration(facts.ended_at - facts.started_at)})"
        lines.append(f"Outage: {span}, {severity} at worst.")
    elif facts.started_at is not None:
        lines.append(f"Since: {utc(facts.started_at)} ({human_duration(now - facts.started_at)}), {severity}.")
    else:
        lines.append(f"Since: not known yet, {severity}.")
    lines.append(f"Suspected cause: {facts.cause or 'under investigation'}.")
    if facts.last_action is not None:
        when = f" at {utc(facts.last_action_at)}" if facts.last_action_at is not None else ""
        lines.append(f"Being done: {facts.last_action}{when}; verifying recovery.")
    else:
        lines.append("Being done: investigating; no change made yet.")
    lines.append(f"Next update: {utc(now + next_update_in_s)}.")
    return "\n".join(lines)


def resolution(facts: IncidentFacts) -> str:
    """The runbook's "Post resolution": resolved since when, how long it lasted, cause and fix."""
    verified = facts.verified_at if facts.verified_at is not None else 0.0
    severity = facts.worst_severity or facts.severity
    lines = [f"[RESOLVED] {facts.service}: operational again"]
    lines.append(f"Resolved: recovery verified at {utc(verified)} (health checks, monitoring and load test pass).")
    if facts.started_at is not None:
        end = facts.ended_at if facts.ended_at is not None else verified
        span = f"{utc(facts.started_at)} to {utc(end)} ({human_duration(end - facts.started_at)})"
        lines.append(f"Duration: {span}" + (f", {severity} at worst." if severity else "."))
    lines.append(f"Cause: {facts.cause or 'see the post-mortem'}.")
    if facts.last_action is not None:
        lines.append(f"Fix: {facts.last_action}.")
    lines.append("Status page: Operational. A post-mortem follows.")
    return "\n".join(lines)
