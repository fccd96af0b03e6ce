"""The guarded path every action takes: permission, dry run and diff, confirmation, real call, journal.

The UI calls :meth:`ActionRunner.prepare` (from a worker thread), shows the diff and asks for the
confirmation :attr:`Prepared.confirmation` describes, then calls :meth:`ActionRunner.execute` or
:meth:`ActionRunner.cancel`. Every outcome (ok, error, cancelled, unknown) is written to the journal with the
exact request. Failures raise :class:`~nimify_tui.actions.plan.ActionError` with one line for the operator; nothing
is left half done and the runner stays usable. A change sent without an answer (timed out, connection cut) is
neither done nor failed: it is journaled as ``unknown`` and raises :class:`ActionOutcomeUnknown`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from nimify_tui.actions.plan import Action, ActionError, Outcome, Preview, Request, explain_kube_error
from nimify_tui.config import ContextPolicy
from nimify_tui.journal.journal import ActionResult, Journal
from nimify_tui.kube.access import READ_ONLY_REASON, AccessReviewer, Permission
from nimify_tui.kube.client import KubeClient
from nimify_tui.kube.errors import KubeError
from nimify_tui.text import one_line


class ActionOutcomeUnknown(ActionError):
    """The change was sent but no answer came back: it may have been carried out. The next refresh says."""


def unanswered_change(exc: BaseException) -> KubeError | None:
    """The error of a change sent without an answer behind ``exc`` (itself, or what it was raised from)."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, KubeError) and seen.outcome_unknown:
            return seen
        seen = seen.__cause__
    return None


@dataclass(frozen=True)
class Confirmation:
    """How the operator confirms: typing ``typed_name`` (delete, or any action on production), else yes/no."""

    typed_name: str | None
    prompt: str

    def accepts(self, typed: str | None) -> bool:
        return self.typed_name is None or (typed or "").strip() == self.typed_name


@dataclass(frozen=True)
class Prepared:
    """An action that passed the permission check and the dry run, waiting for the operator's decision."""

    action: Action
    permission: Permission
    preview: Preview
    confirmation: Confirmation
    prepared_at: float  # time.monotonic() when preparing started


class ActionRunner:
    """Runs actions for one cluster connection. Thread-safe; a journal of None records nothing."""

    def __init__(
        self,
        client: KubeClient,
        journal: Journal | None,
        policy: ContextPolicy | None = None,
        *,
        reviewer: AccessReviewer | None = None,
    ) -> None:
        self.client = client
        self.journal = journal
        self.policy = policy or ContextPolicy()
        self.reviewer = reviewer or AccessReviewer(client, readonly=self.policy.readonly)
        # called (on the executing thread) with each action carried out and when (time.time()): what followed it
        # (a recovery verification, an escalation's count of attempts) is judged against it
        self.done_listeners: list[Callable[[Action, float], None]] = []

    @property
    def readonly(self) -> bool:
        return self.policy.readonly or self.client.readonly

    def allowed(self, action: Action) -> Permission:
        """May the action be offered? Read-only sessions are refused without asking the API server."""
        if self.readonly:
            return Permission(False, READ_ONLY_REASON)
        return self.reviewer.check_all(action.access_checks())

    def confirmation(self, action: Action) -> Confirmation:
        """Delete always, and every action on a production context, asks for the object's name to be typed."""
        name = action.target.name
        if action.destructive or self.policy.production:
            why = "production context" if self.policy.production else "destructive action"
            return Confirmation(name, f"{action.summary()}. Type {name} to confirm ({why}).")
        return Confirmation(None, f"{action.summary()}?")

    def prepare(self, action: Action) -> Prepared:
        """Permission, then the dry run and its diff; a refusal or failure is journaled and raised."""
        started = time.monotonic()
        permission = self.allowed(action)
        if not permission.allowed:
            self._record(action, None, "error", permission.reason, started, action.request())
            raise ActionError(permission.reason)
        blocked = action.blocked_reason()
        if blocked:
            self._record(action, None, "error", blocked, started, action.request())
            raise ActionError(blocked)
        try:
            preview = action.preview()
        except (ActionError, KubeError) as exc:
            message = _message(exc)
            self._record(action, None, "error", f"dry run failed: {message}", started, action.dry_run_request())
            raise ActionError(f"dry run failed: {message}") from exc
        return Prepared(action, permission, preview, self.confirmation(action), started)

    def execute(self, prepared: Prepared, typed: str | None = None) -> Outcome:
        """The real call, once confirmed; the result (ok or error) is journaled. A wrong typed name sends nothing."""
        if not prepared.confirmation.accepts(typed):
            raise ActionError(f"not confirmed: type {prepared.confirmation.typed_name} exactly to go ahead")
        if self.readonly:
            self._record(prepared.action, prepared.preview, "error", READ_ONLY_REASON, time.monotonic())
            raise ActionError(READ_ONLY_REASON)
        started = time.monotonic()
        try:
            outcome = prepared.action.execute()
        except (ActionError, KubeError) as exc:
            unanswered = unanswered_change(exc)
            if unanswered is not None:
                message = (
                    f"outcome unknown: {explain_kube_error(unanswered)}; the change may have been made: "
                    f"the next refresh of {prepared.action.target.kind} {prepared.action.target.name} shows it"
                )
                self._record(prepared.action, prepared.preview, "unknown", message, started)
                raise ActionOutcomeUnknown(message) from exc
            message = _message(exc)
            self._record(prepared.action, prepared.preview, "error", message, started)
            raise ActionError(message) from exc
        self._record(prepared.action, prepared.preview, "ok", None, started)
        done_at = time.time()
        for listener in self.done_listeners:
            listener(prepared.action, done_at)
        return outcome

    def cancel(self, prepared: Prepared) -> None:
        """The operator said no: journaled as cancelled, with the request that was not sent."""
        self._record(prepared.action, prepared.preview, "cancelled", None, prepared.prepared_at)

    def run(self, action: Action, confirm: Callable[[Prepared], str | bool | None]) -> Outcome | None:
        """The whole path in one call: ``confirm`` answers False/None to cancel, True or the typed name to go."""
        prepared = self.prepare(action)
        answer = confirm(prepared)
        if answer is None or answer is False:
            self.cancel(prepared)
            return None
        return self.execute(prepared, None if answer is True else answer)

    def _record(
        self,
        action: Action,
        preview: Preview | None,
        result: ActionResult,
        error: str | None,
        started: float,
        request: Request | None = None,
    ) -> None:
        if self.journal is None:
            return
        sent = request or action.request()
        self.journal.action(
            who=self.client.identity.user,
            verb=action.verb,
            target_kind=action.target.kind,
            target_namespace=action.target.namespace,
            target_name=action.target.name,
            parameters=action.journal_parameters(),
            dry_run_diff=preview.text if preview is not None else None,
            result=result,
            error=error,
            duration_ms=round((time.monotonic() - started) * 1000, 1),
            request_method=sent.method,
            request_path=sent.path_with_query,
            request_body=sent.body,
        )


def _message(exc: ActionError | KubeError) -> str:
    return explain_kube_error(exc) if isinstance(exc, KubeError) else one_line(str(exc))
