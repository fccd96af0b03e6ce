"""One triage session's record: the journal folder, its entries, and the secrets that must never reach it."""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from nimify_tui.config import Settings
from nimify_tui.journal.credentials import connection_credentials
from nimify_tui.journal.journal import Journal, JournalError
from nimify_tui.journal.paths import create_session_dir, sessions_root
from nimify_tui.kube.client import KubeClient
from nimify_tui.live.flight_recorder import FLIGHT_FILE_NAME, FlightRecorder
from nimify_tui.live.recorded_values import RecordedValue, live_values
from nimify_tui.live.runtime import Runtime
from nimify_tui.triage.checks import Finding, State
from nimify_tui.triage.diagnosis import Diagnosis


def recorded_values() -> tuple[RecordedValue[Any], ...]:
    """The store's values a session records and a replay plays back: the live sources', the recovery
    verification's state and the in-pod steps' last runs (the checks read them)."""
    from nimify_tui.actions.exec_steps import StepResult
    from nimify_tui.recovery.result import RecoveryResult
    from nimify_tui.recovery.verifier import RECOVERY
    from nimify_tui.triage.in_pod import STEP_RESULTS

    return (
        *live_values(),
        RecordedValue(RECOVERY, RecoveryResult),
        RecordedValue(STEP_RESULTS, Mapping[str, StepResult]),
    )


class Session:
    """Writes the incident journal; a journal that cannot be written never stops the triage (it says why)."""

    def __init__(self, client: KubeClient, settings: Settings, *, record: bool = True) -> None:
        self.client = client
        self.settings = settings
        self.record = record
        self.journal: Journal | None = None
        self.folder: Path | None = None
        self.problem = ""
        self._shots = 0
        self.flight: FlightRecorder | None = None

    def open(self) -> None:
        if not self.record:
            return
        identity = self.client.identity
        try:
            folder = self.settings.record_dir
            if folder is not None:
                folder.mkdir(parents=True, exist_ok=True)
                if (folder / "journal.jsonl").exists():  # an earlier session recorded here: keep it, add ours
                    folder = create_session_dir(folder, identity.context)
            else:
                folder = create_session_dir(sessions_root(os.environ), identity.context)
            journal = Journal.open(folder)
        except (OSError, JournalError) as exc:
            self.problem = f"not recording: {exc}"
            return
        for credential in connection_credentials(self.client):
            journal.register_secret(credential)
        journal.start(
            context=identity.context,
            server=identity.server,
            user=identity.user,
            namespaces=list(self.settings.watched_namespaces),
            readonly=self.client.readonly,
            argv=sys.argv,
        )
        self.journal = journal
        self.folder = folder

    def record_flight(self, runtime: Runtime) -> None:
        """Record the store's changes beside the journal (the flight recorder), for ``nimify-tui replay``; call
        before ``runtime.start()``: the informers' decoders are wrapped to note what they decode."""
        if self.journal is None or self.folder is None:
            return
        from nimify_tui.kube.records import DECODERS

        identity = self.client.identity
        header = {
            "context": identity.context,
            "cluster": identity.cluster,
            "main_namespace": self.settings.namespace,
            "namespaces": list(self.settings.watched_namespaces),
        }
        try:
            recorder = FlightRecorder(
                self.folder / FLIGHT_FILE_NAME,
                runtime.store,
                redactor=self.journal.redactor,
                header=header,
                values=recorded_values(),
            )
        except OSError as exc:
            self.problem = f"no flight recording: {exc}"
            return
        runtime.options.decoders = recorder.decoders({**DECODERS, **runtime.options.decoders})
        recorder.start()
        self.flight = recorder

    def finding(self, finding: Finding, previous: State | None) -> None:
        if self.journal is not None:
            self.journal.finding(
                check=finding.check,
                state=finding.state,
                previous=previous,
                object_name=", ".join(finding.objects) or finding.title,
                evidence=finding.evidence,
            )

    def diagnosis(self, diagnosis: Diagnosis, appeared: bool) -> None:
        """A diagnosis of the triage appeared or cleared."""
        if self.journal is not None:
            self.journal.diagnosis(
                event="appeared" if appeared else "cleared",
                scenario=diagnosis.scenario,
                component=diagnosis.component,
                runbook=diagnosis.runbook,
                cause=diagnosis.cause,
                evidence=diagnosis.evidence,
                objects=diagnosis.objects,
                kubectl=diagnosis.fix.kubectl if diagnosis.fix is not None else None,
            )

    def switch_client(self, client: KubeClient) -> None:
        """The session's cluster is now ``client``'s context (``:ctx``): its credentials are kept out of the journal
        too, and the switch is an entry of its own."""
        previous, self.client = self.client.identity.context, client
        if self.journal is None:
            return
        for credential in connection_credentials(client):
            self.journal.register_secret(credential)
        identity = client.identity
        self.journal.context_switch(
            previous=previous,
            context=identity.context,
            server=identity.server,
            user=identity.user,
            readonly=client.readonly,
        )

    def note(self, text: str) -> None:
        if self.journal is not None:
            self.journal.note(text)

    def screenshot_path(self, now: float) -> Path | None:
        if self.folder is None:
            return None
        self._shots += 1
        stamp = datetime.fromtimestamp(now, timezone.utc).strftime("%Y%m%d-%H%M%S")
        return self.folder / f"screenshot-{stamp}-{self._shots}.svg"

    def screenshot(self, path: Path) -> None:
        if self.journal is not None:
            self.journal.screenshot(path)

    def close(self, reason: str) -> None:
        if self.flight is not None:
            self.flight.close()
            self.flight = None
        if self.journal is not None:
            self.journal.end(reason)
            self.journal.close()
            self.journal = None
