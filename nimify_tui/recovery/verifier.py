"""Recovery verification over a session's live runtime: one verification at a time on the pollers' loop, each
snapshot published in the store under :data:`RECOVERY`, each check and the outcome journaled; and the start by
itself when the diagnosis an action aimed at clears.

An action carried out (:meth:`RecoveryVerifier.action_done`) is remembered with the top diagnosis of that moment;
the first triage after it where that diagnosis is gone starts a verification, once for that action.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Literal

from nimify_tui.journal.journal import Journal, JournalError
from nimify_tui.kube.records import selects
from nimify_tui.live.keys import DEPLOYMENTS, NODES, PODS, ValueKey
from nimify_tui.live.pollers import InCluster, http_client
from nimify_tui.recovery.result import STEPS, RecoveryResult
from nimify_tui.recovery.verify import VerifyOptions, planned, verify, with_options
from nimify_tui.text import one_line
from nimify_tui.triage.source import TRIAGE
from nimify_tui.triton.client import TRITON_NAMESPACE

if TYPE_CHECKING:
    from nimify_tui.live.runtime import Runtime
    from nimify_tui.triage.source import Triage

# the latest verification: running (with the checks done so far), verified, failed or incomplete (read-only); absent
# until the first one starts
RECOVERY: ValueKey[RecoveryResult] = ValueKey("recovery")

WATCH_EVERY_S = 0.5


@dataclass(frozen=True, slots=True)
class _Awaited:
    """An action whose diagnosis has not cleared yet: its summary, when, and the diagnosis it aimed at."""

    summary: str
    at: float
    aimed_at: tuple[str, str] | None  # (scenario, component) of the top diagnosis then; None: there was none


def _top(triage: Triage | None) -> tuple[str, str] | None:
    if triage is None or not triage.diagnoses:
        return None
    top = triage.diagnoses[0]
    return top.scenario, top.component


USERS_PATH_FINDINGS = frozenset({"ingress", "tls"})  # the checks of the way users reach nimify-api


def cleared(triage: Triage, aimed_at: tuple[str, str] | None) -> bool:
    """Whether the diagnosis an action aimed at is gone (an action taken with no diagnosis: when none is left)."""
    if aimed_at is None:
        return not triage.diagnoses
    return all((d.scenario, d.component) != aimed_at for d in triage.diagnoses)


class RecoveryVerifier:
    """See the module docstring. ``journal`` is asked at each write (the session may open it later)."""

    def __init__(
        self,
        runtime: Runtime,
        options: VerifyOptions,
        journal: Callable[[], Journal | None] = lambda: None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.runtime = runtime
        self.options = options
        self.journal = journal
        self.clock = clock
        self._lock = threading.Lock()
        self._running = False
        self._awaited: _Awaited | None = None
        self._last_action: tuple[str, float] | None = None
        self._journal_broken = False

    @property
    def running(self) -> bool:
        return self._running

    def action_done(self, summary: str, at: float) -> None:
        """An action was carried out (any thread): verify once the diagnosis it aimed at clears."""
        aimed_at = _top(self.runtime.store.value(TRIAGE))
        with self._lock:
            self._awaited = _Awaited(summary, at, aimed_at)
            self._last_action = (summary, at)

    def start(self, trigger: Literal["key", "auto"] = "key") -> bool:
        """Start a verification now on the runtime's loop; False when one is running already."""
        with self._lock:
            if self._running:
                return False
            self._running = True
            if trigger == "auto":
                self._awaited = None
            last = self._last_action
        started_at = self.clock()
        first = with_options(
            planned(
                started_at,
                trigger=trigger,
                after_action=last[0] if last else None,
                action_at=last[1] if last else None,
            ),
            self.options.readonly,
        )
        self.runtime.store.put(RECOVERY, first)
        self.runtime.spawn(lambda: self._run(first))
        return True

    async def watch(self) -> None:
        """Start a verification by itself when an awaited action's diagnosis cleared (runs until cancelled)."""
        while True:
            await asyncio.sleep(WATCH_EVERY_S)
            self.check_cleared()

    def check_cleared(self) -> bool:
        """One look at the latest triage: start the verification an action awaits if its diagnosis cleared."""
        awaited = self._awaited
        triage = self.runtime.store.value(TRIAGE)
        if awaited is None or triage is None or triage.checked_at <= awaited.at or self._running:
            return False
        if not cleared(triage, awaited.aimed_at):
            return False
        return self.start("auto")

    async def _run(self, first: RecoveryResult) -> RecoveryResult:
        journaled: set[tuple[str, str]] = set()
        latest = first

        def publish(result: RecoveryResult) -> None:
            nonlocal latest
            if result.outcome != "running":
                return  # the end is published once journaled, when a new verification may start
            latest = result
            self.runtime.store.put(RECOVERY, result)
            for check in result.checks:
                if check.finished and (check.step, check.name) not in journaled:
                    journaled.add((check.step, check.name))
                    self._journal_check(result, check.step, check.name)

        try:
            async with http_client(InCluster.of(self.runtime.client)) as client:
                result = await verify(
                    client,
                    self.runtime.endpoints,
                    self.options,
                    first,
                    on_update=publish,
                    clock=self.clock,
                    users_path=self._users_path,
                    capacity=self._capacity,
                )
            for check in result.checks:  # the not-run checks marked before the start
                if (check.step, check.name) not in journaled:
                    self._journal_check(result, check.step, check.name)
            self._journal_outcome(result)
        except asyncio.CancelledError:
            with self._lock:
                self._running = False
            raise
        except Exception as exc:  # never left "running": what broke is said as a failed check
            broken = next((c for c in latest.checks if not c.finished), latest.checks[-1])
            failed = replace(broken, state="fail", detail=one_line(f"{type(exc).__name__}: {exc}", 200))
            result = latest.with_check(failed).finish(self.clock(), None)
        with self._lock:
            self._running = False
        self.runtime.store.put(RECOVERY, result)
        return result

    def _users_path(self) -> tuple[str, bool]:
        """The latest triage's ingress and TLS checks: both pass, or cannot tell for want of an ingress (a
        cluster reached without one); a failing or unread one fails the check."""
        triage = self.runtime.store.value(TRIAGE)
        if triage is None:
            return "unknown: no triage yet", False
        found = {f.check: f for f in triage.findings if f.check in USERS_PATH_FINDINGS}
        failing = [f for f in found.values() if f.state == "fail"]
        if failing:
            return one_line("; ".join(f"{f.title}: {f.evidence}" for f in failing), 200), False
        said = ", ".join(f"{f.title.lower()} {f.state}" for f in found.values()) or "no ingress seen"
        return said, True

    def _capacity(self) -> tuple[str, bool]:
        """nimify-api's and Triton's deployments: every replica of the current revision available, none of their
        pods on a node that is not Ready (stuck there, or counted by a controller that cannot reach it)."""
        store = self.runtime.store
        serving = {(self.runtime.options.main_namespace, "nimify-api"), (TRITON_NAMESPACE, "triton-server")}
        deployments = [d for d in store.items(DEPLOYMENTS) if (d.namespace, d.name) in serving]
        if not deployments:
            return "unknown: neither nimify-api's nor Triton's deployment is seen", False
        if not store.have_loaded(["pods", "nodes"]):  # pods stuck on a lost node would pass unseen
            return "unknown: the pods and nodes are not listed yet", False
        short = [
            f"{d.name} {d.available}/{d.desired} available, {d.updated} of the current revision"
            for d in deployments
            if not d.available == d.updated == d.replicas == d.desired
        ]
        lost = {
            n.name
            for n in store.items(NODES)
            if not any(c.type == "Ready" and c.status == "True" for c in n.conditions)
        }
        selectors = [(d.namespace, d.match_labels) for d in deployments]
        stuck = sorted(
            p.name
            for p in store.items(PODS)
            if p.node in lost and any(p.namespace == ns and selects(selector, p.labels) for ns, selector in selectors)
        )
        if stuck:
            short.append(f"{len(stuck)} pod(s) on a node not Ready: {', '.join(stuck[:3])}")
        if short:
            return one_line("; ".join(short), 200), False
        return ", ".join(f"{d.name} {d.available}/{d.desired}" for d in deployments), True

    def _journal_check(self, result: RecoveryResult, step: str, name: str) -> None:
        journal = self._journal()
        check = next(c for c in result.checks if (c.step, c.name) == (step, name))
        if journal is not None:
            self._write(
                journal.recovery_check,
                step=step,
                check=name,
                state=check.state,
                detail=check.detail,
                duration_ms=check.duration_ms,
                started_at=result.started_at,
            )

    def _journal(self) -> Journal | None:
        """The session's journal; None when the session does not record, or when it can no longer be written (the
        session says why): the verification goes on without it."""
        journal = self.journal()
        return journal if journal is not None and not self._journal_broken else None

    def _journal_outcome(self, result: RecoveryResult) -> None:
        journal = self._journal()
        if journal is None:
            return
        load = result.load
        self._write(
            journal.recovery,
            outcome=result.outcome,
            trigger=result.trigger,
            after_action=result.after_action,
            started_at=result.started_at,
            duration_ms=round(((result.finished_at or result.started_at) - result.started_at) * 1000.0, 1),
            steps={step: result.step_state(step) for step in STEPS},
            load_test=None
            if load is None
            else {
                "requests": load.requests,
                "concurrency": load.concurrency,
                "errors": load.errors,
                "p50_ms": round(load.p50_ms, 1),
                "p95_ms": round(load.p95_ms, 1),
                "max_ms": round(load.max_ms, 1),
                "histogram_ms": [["+Inf" if b == float("inf") else b, n] for b, n in load.buckets],
                "first_error": load.first_error,
            },
        )

    def _write(self, entry: Callable[..., object], **fields: object) -> None:
        try:
            entry(**fields)
        except JournalError:
            self._journal_broken = True
