"""The Textual application: owns the session (runtime, triage, journal) and hands screens what they need."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable
from dataclasses import replace
from functools import partial
from importlib.resources import files
from typing import Any

from textual import events, work
from textual.app import SystemCommand
from textual.binding import Binding
from textual.screen import Screen

from nimify_tui.actions import ActionRunner
from nimify_tui.config import ContextPolicy, Settings
from nimify_tui.kube.access import READ_ONLY_REASON
from nimify_tui.kube.client import KubeClient
from nimify_tui.kube.exec import Terminal
from nimify_tui.live.runtime import Runtime, RuntimeOptions
from nimify_tui.live.screen_first import SCREEN_FIRST
from nimify_tui.recovery.verifier import RECOVERY, RecoveryVerifier
from nimify_tui.recovery.verify import VerifyOptions
from nimify_tui.session import Session
from nimify_tui.triage.checks import Finding
from nimify_tui.triage.diagnosis import Diagnosis
from nimify_tui.triage.source import TRIAGE, TriageSource
from nimify_tui.ui.incident_desk import IncidentDesk
from nimify_tui.ui.navigation import Navigation
from nimify_tui.ui.panes.header import HeaderInfo
from nimify_tui.ui.snapshots import SnapshotDesk
from nimify_tui.ui.worker_threads import QuitWithoutWaiting


class NimifyApp(Navigation):
    """nimify-tui: the runbook as a live screen."""

    TITLE = "nimify-tui"
    CSS_PATH = str(files("nimify_tui.styles") / "app.tcss")
    ENABLE_COMMAND_PALETTE = True
    BINDINGS = [
        Binding("question_mark", "help", "Help", id="help"),
        Binding("q", "quit_or_back", "Quit/back", id="quit"),
        Binding("ctrl+c", "ask_quit", "Quit", show=False, id="quit-asking"),
        Binding("n", "note", "Note", id="note"),
        Binding("S", "screenshot_to_journal", "Screenshot", id="screenshot"),
        Binding("P", "snapshot", "Snapshot", id="snapshot"),
    ]

    def __init__(
        self,
        client: KubeClient,
        settings: Settings,
        *,
        policy: ContextPolicy,
        scenario: str | None = None,
        runtime_options: RuntimeOptions | None = None,
        record_journal: bool = True,
        start_sources: bool = True,
    ) -> None:
        super().__init__()
        self.settings = settings
        self.policy = policy
        self.scenario = scenario
        options = runtime_options or RuntimeOptions(
            namespaces=settings.watched_namespaces,
            main_namespace=settings.namespace,
            prometheus_url=settings.prometheus_url,
            triton_url=settings.triton_url,
            nimify_api_url=settings.nimify_api_url,
            probe_interval=settings.refresh.probes,
            triton_interval=settings.refresh.triton,
            scrape_interval=settings.refresh.metrics,
        )
        # where nimify-api runs is the session's main namespace (-n), whoever chose the other options
        self.runtime = Runtime(client, replace(options, main_namespace=settings.namespace))
        self.namespace_shown = settings.namespace
        self.session = Session(client, settings, record=record_journal)
        self.triage = TriageSource(
            self.runtime.store,
            main_namespace=settings.namespace,
            on_change=self.session.finding,
            on_diagnosis=self.session.diagnosis,
            clock=lambda: self.clock(),
        )
        self._runner: ActionRunner | None = None
        # the runbook's Recovery Verification: V, and by itself when the diagnosis a fix aimed at clears
        readonly = policy.readonly or client.readonly
        verify_options = VerifyOptions.of(settings.recovery, readonly=readonly)
        self.recovery = RecoveryVerifier(self.runtime, verify_options, lambda: self.session.journal)
        self.remedy_refusals: dict[str, dict[str, str]] = {}  # namespace -> remedy id -> why not; absent: not asked
        self.start_sources = start_sources  # False: the store is filled by someone else (snapshots, replay)
        self.clock: Callable[[], float] = time.time  # what "now" is for ages; tests freeze it
        self.incident = IncidentDesk(self)  # severity, outage clock, escalation, status updates
        self.snapshots = SnapshotDesk(self)  # at detection, after recovery, and P
        self.exec_terminal: Terminal | None = None  # where `!`'s shell reads and writes; None: this terminal

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, (events.Key, events.Paste)) and not event.is_forwarded:  # not a key bubbling back
            self.answering_user()
        await super().on_event(event)

    def answering_user(self) -> None:
        """The sources step aside until the screen's answer to the user is drawn (``live/screen_first``)."""
        SCREEN_FIRST.answering()
        self.call_after_refresh(SCREEN_FIRST.answered)

    def on_mount(self) -> None:
        asyncio.get_running_loop().set_default_executor(QuitWithoutWaiting(thread_name_prefix="worker"))
        self.session.open()
        self.triage.start()
        if self.start_sources:
            self.session.record_flight(self.runtime)
            self.runtime.start()
            self.runtime.spawn(self.recovery.watch)
            self.snapshots.start()
            if not self.policy.readonly:
                self.check_permissions(self.settings.watched_namespaces, announce=True)
        self.set_keymap(self.settings.keymap.keys)
        self.incident.start()
        self.push_screen(self.first_screen())

    def first_screen(self) -> Screen[Any]:
        """The first screen: the live main screen (a replay shows its own)."""
        from nimify_tui.ui.screens.main import MainScreen

        return MainScreen()

    def on_unmount(self) -> None:
        self.triage.stop()
        self.runtime.stop()
        self.session.close("quit")
        if self.session.folder is not None:  # the post-mortem draft, after a session that saw an outage
            from nimify_tui.live.keys import LATENCY
            from nimify_tui.postmortem.after_session import write_after_session

            write_after_session(self.session.folder, self.runtime.store.value(LATENCY))

    # --- triage -------------------------------------------------------------------------------------------
    @property
    def findings(self) -> tuple[Finding, ...]:
        """The runbook checks' latest answer (the triage source computes it off this thread)."""
        triage = self.runtime.store.value(TRIAGE)
        return triage.findings if triage is not None else ()

    @property
    def diagnoses(self) -> tuple[Diagnosis, ...]:
        """The triage's latest diagnoses, most likely root cause first."""
        triage = self.runtime.store.value(TRIAGE)
        return triage.diagnoses if triage is not None else ()

    def header_info(self) -> HeaderInfo:
        identity = self.runtime.client.identity
        triage = self.runtime.store.value(TRIAGE)
        return HeaderInfo(
            context=identity.context,
            cluster=identity.cluster,
            namespace=self.namespace_shown,
            overall=triage.overall if triage is not None else "UNKNOWN",
            first_failure_at=triage.first_failure_at if triage is not None else None,
            recording=str(self.session.folder) if self.session.folder else None,
            readonly=self.policy.readonly,
            scenario=self.scenario,
            failing_since=triage.failing_since if triage is not None else None,
            last_outage=triage.last_outage if triage is not None else None,
            recovery=self.runtime.store.value(RECOVERY),
            severity=self.incident.tracker.assessment.level,
            outage_started_at=self.incident.tracker.state.started_at,
            api_unreachable=self.runtime.api_server.problem(),
        )

    # --- app-wide keys ------------------------------------------------------------------------------------
    async def action_quit_or_back(self) -> None:
        """q: the main screen asks whether to quit (y quits); any other screen goes back, as esc does."""
        from nimify_tui.ui.screens.main import MainScreen
        from nimify_tui.ui.screens.quit_confirm import back_or_ask

        await back_or_ask(self, MainScreen)

    def action_ask_quit(self) -> None:
        """ctrl+c (with no text selected to copy): asks whether to quit, from any screen."""
        from nimify_tui.ui.screens.quit_confirm import ask_to_quit

        ask_to_quit(self)

    def action_note(self) -> None:
        from nimify_tui.ui.screens.note import NoteScreen

        def save(text: str | None) -> None:
            if text:
                self.session.note(text)
                self.notify("Note written to the journal.")

        self.push_screen(NoteScreen(), save)

    def action_screenshot_to_journal(self) -> None:
        path = self.session.screenshot_path(time.time())
        if path is None:
            self.notify("Not recording: no journal folder.", severity="warning")
            return
        self.save_screenshot(filename=path.name, path=str(path.parent))
        self.session.screenshot(path)
        self.notify(f"Screenshot saved: {path}")

    def action_snapshot(self) -> None:
        """P: the runbook's documentation of the cluster as it is now, into the session folder."""
        self.snapshots.take("key")
        self.notify("Taking a snapshot...")

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        """Every key of the current screen and of the app, in the command palette too (same list as the footer),
        with the keys the keymap gives them."""
        from nimify_tui.ui.screens.help import key_label, with_keymap

        yield from super().get_system_commands(screen)
        seen: set[str] = set()
        keymap = self.settings.keymap.keys
        for namespace, bindings in (
            (screen, with_keymap(screen.BINDINGS, keymap)),
            (self, with_keymap(self.BINDINGS, keymap)),
        ):
            for binding in bindings:
                if not binding.description or binding.action in seen:
                    continue
                seen.add(binding.action)
                action = binding.action
                yield SystemCommand(
                    binding.description,
                    f"key {key_label(binding.key)}",
                    partial(self.call_later, self.run_action, action, namespace),
                )

    # --- remediation -------------------------------------------------------------------------------------
    def forget_context_state(self) -> None:
        """After ``:ctx``: the action runner and the permissions asked were the previous context's."""
        self._runner = None
        self.remedy_refusals.clear()

    def action_runner(self) -> ActionRunner:
        if self._runner is None:
            self._runner = ActionRunner(self.runtime.client, self.session.journal, self.policy)
            self._runner.done_listeners.append(lambda action, at: self.recovery.action_done(action.summary(), at))
        return self._runner

    def remedy_refusal(self, remedy: str, namespace: str) -> str | None:
        """Why a remedy may not be used on an object of ``namespace`` (None: allowed, or not asked yet). Read-only
        refuses them all, without asking anyone."""
        if self.policy.readonly or self.runtime.client.readonly:
            return READ_ONLY_REASON
        return self.remedy_refusals.get(namespace, {}).get(remedy)

    def permissions_known(self, namespace: str) -> bool:
        """Whether the API server has been asked about the remedies in ``namespace`` (read-only: nothing to ask)."""
        return self.policy.readonly or self.runtime.client.readonly or namespace in self.remedy_refusals

    def remedy_refused_everywhere(self, remedy: str) -> bool:
        """Whether the remedy is refused in every watched namespace: its key is then shown disabled."""
        namespaces = self.settings.watched_namespaces
        return all(self.remedy_refusal(remedy, namespace) for namespace in namespaces)

    @work(thread=True, group="permissions")
    def check_permissions(
        self, namespaces: Iterable[str], *, announce: bool = False, then: Callable[[], None] | None = None
    ) -> None:
        """Ask the API server (SelfSubjectAccessReview) about every remedy in each namespace, then run ``then``;
        ``announce`` says which remedies are refused where."""
        from nimify_tui.actions.registry import PlanExtras, refusals_in

        reviewer = self.action_runner().reviewer
        extras = PlanExtras(triton_url=self.settings.triton_url)
        for namespace in namespaces:
            refusals = refusals_in(reviewer, self.runtime.client, namespace, extras)
            self.call_from_thread(self._permissions_known, namespace, refusals)
        if announce:
            self.call_from_thread(self._announce_refusals)
        if then is not None:
            self.call_from_thread(then)

    def _permissions_known(self, namespace: str, refusals: dict[str, str]) -> None:
        self.remedy_refusals[namespace] = refusals
        self.refresh_bindings()

    def _announce_refusals(self) -> None:
        """One notice: the refused remedies, with the namespaces where each set of them is refused, and a reason."""
        namespaces_by_refused: dict[tuple[str, ...], list[str]] = {}
        for namespace, refusals in self.remedy_refusals.items():
            if refusals:
                namespaces_by_refused.setdefault(tuple(refusals), []).append(namespace)
        if not namespaces_by_refused:
            return
        where = "; ".join(
            f"{', '.join(remedies)} in {', '.join(namespaces)}"
            for remedies, namespaces in namespaces_by_refused.items()
        )
        reason = next(reason for refusals in self.remedy_refusals.values() for reason in refusals.values())
        self.notify(f"Not allowed: {where}. {reason}", markup=False)

    def notify_error(self, message: str, **kwargs: Any) -> None:
        self.notify(message, severity="error", timeout=8, markup=False, **kwargs)
