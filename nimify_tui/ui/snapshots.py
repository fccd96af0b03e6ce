"""Snapshots in the app: taken by themselves at detection and once the outage is over, and with ``P`` at any
time; each in the session folder's ``snapshots/<time>/``, on a worker thread, and journaled with its folder."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING

from nimify_tui.journal.credentials import connection_credentials
from nimify_tui.journal.redact import Redactor
from nimify_tui.recovery.verifier import RECOVERY
from nimify_tui.snapshot.take import Snapshot, SnapshotOptions, default_folder, take_snapshot
from nimify_tui.snapshot.triggers import SnapshotTriggers, Trigger
from nimify_tui.triage.report import json_report
from nimify_tui.triage.source import TRIAGE

if TYPE_CHECKING:
    from nimify_tui.ui.app import NimifyApp

TICK_S = 1.0
_SAID = {"detection": "at detection", "recovery": "after recovery", "key": ""}


class SnapshotDesk:
    """Owned by the app: :meth:`tick` each second takes the automatic snapshots, :meth:`take` any of them."""

    def __init__(self, app: NimifyApp) -> None:
        self.app = app
        self.triggers = SnapshotTriggers()
        self.taken: list[Snapshot] = []  # in the order they were finished
        self._lock = threading.Lock()
        self._redactor: Redactor | None = None

    def start(self) -> None:
        self.app.set_interval(TICK_S, self.tick)

    def tick(self) -> None:
        store = self.app.runtime.store
        triage = store.value(TRIAGE)
        recovery = store.value(RECOVERY)
        verified_at = recovery.finished_at if recovery is not None and recovery.outcome == "verified" else None
        trigger = self.triggers.observe(
            now=self.app.clock(),
            diagnosed=bool(triage is not None and triage.diagnoses),
            overall=triage.overall if triage is not None else "UNKNOWN",
            verified_at=verified_at,
        )
        if trigger is not None and self.app.session.folder is not None:  # by itself only into a session folder
            self.take(trigger)

    def take(self, trigger: Trigger) -> None:
        """Take one on a worker thread: in the session folder, else (the key, not recording) ./incident-<time>."""
        self.app.run_worker(lambda: self._take(trigger), thread=True, group="snapshot", exit_on_error=False)

    def redactor(self) -> Redactor:
        """The journal's, which knows every credential of the connection; else one of our own that does too."""
        journal = self.app.session.journal
        if journal is not None:
            return journal.redactor
        with self._lock:
            if self._redactor is None:
                self._redactor = Redactor()
                for secret in connection_credentials(self.app.runtime.client):
                    self._redactor.register(secret)
            return self._redactor

    def _take(self, trigger: Trigger) -> None:
        app = self.app
        settings = app.settings
        client = app.runtime.client
        keymap = settings.keymap.keys
        context = client.identity.context

        def triage() -> bytes | None:
            found = app.runtime.store.value(TRIAGE)
            return json_report(found, context=context, keymap=keymap) if found is not None else None

        options = SnapshotOptions(
            namespaces=settings.watched_namespaces,
            main_namespace=settings.namespace,
            index_post=not (app.policy.readonly or client.readonly),
        )
        session = app.session.folder
        try:
            snapshot = take_snapshot(
                client,
                default_folder(Path(session) if session else None),
                options,
                redactor=self.redactor(),
                triage=triage,
            )
        except OSError as exc:
            app.call_from_thread(app.notify_error, f"Snapshot not written: {exc}")
            return
        journal = app.session.journal
        if journal is not None:
            journal.snapshot(snapshot.folder, trigger=trigger, files=len(snapshot.files), errors=snapshot.errors)
        with self._lock:
            self.taken.append(snapshot)
        said = " ".join(filter(None, ("Snapshot", _SAID[trigger])))
        missing = f" ({len(snapshot.errors)} not taken: see manifest.json)" if snapshot.errors else ""
        app.call_from_thread(app.notify, f"{said}: {snapshot.folder}{missing}", markup=False)
