"""The runbook's escalation criteria: prompts that come by themselves, and a checklist the person ticks.

By themselves: the Engineering Manager once the outage lasts :attr:`EscalationPolicy.em_outage_s` (30 min) or after
:attr:`EscalationPolicy.em_failed_attempts` (2) failed resolution attempts; the VP Engineering once it lasts
:attr:`EscalationPolicy.vp_outage_s` (2 h). A resolution attempt is an action taken during the outage; it failed
when the recovery verification that followed it failed, or when the diagnosis did not clear within
:attr:`EscalationPolicy.attempt_deadline_s` of it. The other criteria (data loss, security, customer impact, legal)
only a person can judge: they are :data:`CRITERIA`, ticked by hand.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Literal

Outcome = Literal["pending", "cleared", "verified", "failed"]


@dataclass(frozen=True, slots=True)
class EscalationPolicy:
    em_outage_s: float = 30 * 60
    em_failed_attempts: int = 2
    vp_outage_s: float = 2 * 60 * 60
    attempt_deadline_s: float = 10 * 60  # a fix's diagnosis should clear within this


@dataclass(frozen=True, slots=True)
class Prompt:
    """One escalation to make: to whom, and why. ``id`` names it once per session (raised once, acknowledged
    once)."""

    id: str
    who: str
    why: str


@dataclass(frozen=True, slots=True)
class Attempt:
    """A resolution attempt: the action taken, when, and how it turned out."""

    action: str
    at: float
    outcome: Outcome = "pending"
    why: str = ""


def judge(attempt: Attempt, now: float, cleared: bool, verification: bool | None, deadline_s: float) -> Attempt:
    """The attempt in the light of what came after it: ``cleared`` (the diagnosis that it fixed is gone) and
    ``verification`` (the recovery verification after it: True passed, False failed, None not run yet). Once
    verified or failed, an attempt stays so."""
    if attempt.outcome in ("verified", "failed"):
        return attempt
    if verification is False:
        return replace(attempt, outcome="failed", why="recovery verification failed")
    if verification is True:
        return replace(attempt, outcome="verified", why="recovery verified")
    if cleared:
        return replace(attempt, outcome="cleared", why="diagnosis cleared")
    if now - attempt.at >= deadline_s:
        minutes = deadline_s / 60
        return replace(attempt, outcome="failed", why=f"diagnosis still there {minutes:g} min after")
    return attempt


def due(outage_s: float, failed_attempts: int, policy: EscalationPolicy) -> tuple[Prompt, ...]:
    """Every escalation the criteria call for now."""
    prompts = []
    if outage_s >= policy.em_outage_s:
        prompts.append(Prompt("em-duration", "Engineering Manager", f"outage over {policy.em_outage_s / 60:g} min"))
    if failed_attempts >= policy.em_failed_attempts:
        prompts.append(Prompt("em-attempts", "Engineering Manager", f"{failed_attempts} failed resolution attempts"))
    if outage_s >= policy.vp_outage_s:
        prompts.append(Prompt("vp-duration", "VP Engineering", f"outage over {policy.vp_outage_s / 3600:g} h"))
    return tuple(prompts)


@dataclass
class Escalations:
    """The prompts raised so far and those the person acknowledged; each prompt is raised once an outage."""

    policy: EscalationPolicy = field(default_factory=EscalationPolicy)
    raised: dict[str, Prompt] = field(default_factory=dict)
    acknowledged: set[str] = field(default_factory=set)

    def update(self, outage_s: float, failed_attempts: int) -> list[Prompt]:
        """The prompts that are due and were not raised before (to show and to journal)."""
        new = [p for p in due(outage_s, failed_attempts, self.policy) if p.id not in self.raised]
        for prompt in new:
            self.raised[prompt.id] = prompt
        return new

    def open(self) -> list[Prompt]:
        """The prompts raised and not acknowledged yet, oldest first."""
        return [p for p in self.raised.values() if p.id not in self.acknowledged]

    def acknowledge(self, prompt_id: str) -> Prompt | None:
        """The prompt acknowledged now (None: not open)."""
        prompt = self.raised.get(prompt_id)
        if prompt is None or prompt_id in self.acknowledged:
            return None
        self.acknowledged.add(prompt_id)
        return prompt


@dataclass(frozen=True, slots=True)
class Criterion:
    id: str
    text: str
    who: str  # whom the runbook says to escalate to


CRITERIA: tuple[Criterion, ...] = (
    Criterion("data-loss", "Potential data loss identified", "Engineering Manager"),
    Criterion("customer-impact", "Customer impact significant", "Engineering Manager"),
    Criterion("security", "Security implications", "VP Engineering"),
    Criterion("customer-escalations", "Major customer escalations", "VP Engineering"),
    Criterion("external-resources", "Need for external resources", "VP Engineering"),
    Criterion("data-breach", "Data breach suspected", "CEO/Legal"),
    Criterion("sla-penalties", "SLA violations with penalties", "CEO/Legal"),
    Criterion("regulatory", "Regulatory implications", "CEO/Legal"),
    Criterion("public-relations", "Public relations impact", "CEO/Legal"),
)
CRITERION_BY_ID = {criterion.id: criterion for criterion in CRITERIA}


@dataclass
class Checklist:
    """The criteria the person ticked."""

    ticked: set[str] = field(default_factory=set)

    def toggle(self, criterion_id: str) -> bool:
        """Tick or untick; True when ticked now."""
        if criterion_id not in CRITERION_BY_ID:
            raise KeyError(criterion_id)
        if criterion_id in self.ticked:
            self.ticked.discard(criterion_id)
            return False
        self.ticked.add(criterion_id)
        return True

    def escalate_to(self) -> tuple[str, ...]:
        """Whom the ticked criteria call for, in the runbook's order, each once."""
        whom: list[str] = []
        for criterion in CRITERIA:
            if criterion.id in self.ticked and criterion.who not in whom:
                whom.append(criterion.who)
        return tuple(whom)
