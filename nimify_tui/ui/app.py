"""The Textual application: owns the session (runtime, triage, journal) and hands screens what they need."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from functools import partial
from importlib.resources import files
from typing import Any

from textual import work
from textual.app import SystemCommand
from textual.binding import Binding
from textual.screen import Screen

from nimify_tui.actions import ActionRunner
from nimify_tui.config import ContextPolicy, Settings
from nimify_tui.kube.client import KubeClient
from nimify_tui.runtime import Runtime, RuntimeOptions
from nimify_tui.session import Session
from nimify_tui.triage.checks import Finding, FindingTracker, overall_state, run_checks
from nimify_tui.ui.navigation import Navigation
from nimify_tui.ui.panes.header import HeaderInfo

TRIAGE_EVERY_S = 2.0  # "restarted lately", "first failure" age: checks that move with the clock alone


class NimifyApp(Navigation):
    """nimify-tui: the runbook as a live screen."""

    TITLE = "nimify-tui"
    CSS_PATH = str(files("nimify_tui.styles") / "app.tcss")
    ENABLE_COMMAND_PALETTE = True
    BINDINGS = [
        Binding("question_mark", "help", "Help", id="help"),
        Binding("q", "quit", "Quit", id="quit"),
        Binding("n", "note", "Note", id="note"),
        Binding("S", "screenshot_to_journal", "Screenshot", id="screenshot"),
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
            prometheus_url=settings.prometheus_url,
            triton_url=settings.triton_url,
            nimify_api_url=settings.nimify_api_url,
            probe_interval=settings.refresh.probes,
            triton_interval=settings.refresh.triton,
            scrape_interval=settings.refresh.metrics,
        )
        self.runtime = Runtime(client, options)
        self.tracker = FindingTracker.new()
        self.findings: list[Finding] = []
        self.namespace_shown = settings.namespace
        self.session = Session(client, settings, record=record_journal)
        self._last_triage = 0.0
        self._triaged_changes = -1
        self._runner: ActionRunner | None = None
        self.remedy_refusals: dict[str, str] = {}
        self.start_sources = start_sources  # False: the store is filled by someone else (snapshots, replay)
        self.clock: Callable[[], float] = time.time  # what "now" is for ages; tests freeze it

    def on_mount(self) -> None:
        self.session.open()
        if self.start_sources:
            self.runtime.start()
            if not self.policy.readonly:
                self.check_permissions()
        from nimify_tui.ui.screens.main import MainScreen

        self.push_screen(MainScreen())

    def on_unmount(self) -> None:
        self.runtime.stop()
        self.session.close("quit")

    # --- triage -------------------------------------------------------------------------------------------
    def triage_now(self, now: float) -> list[Finding]:
        """Run the runbook checks when the store changed (and every few seconds, as some depend on the time) and
        journal what changed."""
        changes = self.runtime.store.changes
        if changes != self._triaged_changes or now - self._last_triage >= TRIAGE_EVERY_S or not self.findings:
            self._last_triage = now
            self._triaged_changes = changes
            self.findings = run_checks(self.runtime.store, now)
            for finding, previous in self.tracker.update(self.findings, now):
                self.session.finding(finding, previous)
        return self.findings

    def header_info(self) -> HeaderInfo:
        identity = self.runtime.client.identity
        return HeaderInfo(
            context=identity.context,
            cluster=identity.cluster,
            namespace=self.namespace_shown,
            overall=overall_state(self.findings),
            first_failure_at=self.tracker.first_failure_at,
            recording=str(self.session.folder) if self.session.folder else None,
            readonly=self.policy.readonly,
            scenario=self.scenario,
        )

    # --- app-wide keys ------------------------------------------------------------------------------------
    def action_help(self) -> None:
        from nimify_tui.ui.screens.help import HelpScreen

        self.push_screen(HelpScreen())

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

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        """Every key of the current screen and of the app, in the command palette too (same list as the footer)."""
        yield from super().get_system_commands(screen)
        seen: set[str] = set()
        for namespace, bindings in ((screen, screen.BINDINGS), (self, self.BINDINGS)):
            for binding in bindings:
                if not isinstance(binding, Binding) or not binding.description or binding.action in seen:
                    continue
                seen.add(binding.action)
                action = binding.action
                yield SystemCommand(
                    binding.description,
                    f"key {binding.key}",
                    partial(self.call_later, self.run_action, action, namespace),
                )

    # --- remediation -------------------------------------------------------------------------------------
    def action_runner(self) -> ActionRunner:
        if self._runner is None:
            self._runner = ActionRunner(self.runtime.client, self.session.journal, self.policy)
        return self._runner

    def remedy_refusal(self, remedy: str) -> str | None:
        """Why a remediation key is disabled (None: offered). Read-only removes them all, without asking anyone."""
        if self.policy.readonly or self.runtime.client.readonly:
            return "read-only session"
        return self.remedy_refusals.get(remedy)

    @work(thread=True, group="permissions")
    def check_permissions(self) -> None:
        """Ask the API server (SelfSubjectAccessReview) once per remediation; disabled keys say why."""
        from nimify_tui.actions import AccessCheck

        namespace = self.settings.namespace
        questions = {
            "scale": AccessCheck("patch", "apps", "deployments", "scale", namespace),
            "resources": AccessCheck("patch", "apps", "deployments", "", namespace),
            "undo": AccessCheck("patch", "apps", "deployments", "", namespace),
            "restart": AccessCheck("patch", "apps", "deployments", "", namespace),
            "delete": AccessCheck("delete", "", "pods", "", namespace),
            "expand": AccessCheck("patch", "", "persistentvolumeclaims", "", namespace),
            "configmap": AccessCheck("update", "", "configmaps", "", namespace),
            "load": AccessCheck("create", "", "services", "proxy", "triton-system"),
            "unload": AccessCheck("create", "", "services", "proxy", "triton-system"),
        }
        reviewer = self.action_runner().reviewer
        refusals = {}
        for remedy, question in questions.items():
            answer = reviewer.check(question)
            if not answer.allowed:
                refusals[remedy] = answer.reason
        self.call_from_thread(self._permissions_known, refusals)

    def _permissions_known(self, refusals: dict[str, str]) -> None:
        self.remedy_refusals = refusals
        self.refresh_bindings()
        if refusals:
            keys = ", ".join(sorted(refusals))
            self.notify(f"Disabled (not allowed): {keys}. {next(iter(refusals.values()))}", markup=False)

    def notify_error(self, message: str, **kwargs: Any) -> None:
        self.notify(message, severity="error", timeout=8, markup=False, **kwargs)
