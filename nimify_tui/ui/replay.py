"""``nimify-tui replay SESSION_DIR``: a recorded session played back through the main screen, with no cluster.

The flight recording (``flight.jsonl.gz``) fills the store as it was at the replay's position; the triage runs on
it as on a live store. A time bar under the header shows the position, the speed and the journal's events;
``space`` pauses, ``+``/``-`` change the speed, ``[``/``]`` jump to the previous or next journal event. Every key that
would act on a cluster, or write into the session's record, is disabled (pressed, it says why), and the header says
REPLAY. Describe and YAML are answered from the recording, the logs from the session's snapshots.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from rich.text import Text
from textual.actions import ActionParseResult
from textual.actions import parse as parse_action
from textual.app import ComposeResult
from textual.binding import Binding
from textual.dom import DOMNode
from textual.screen import Screen
from textual.widgets import Static

from nimify_tui.config import ContextPolicy, Settings
from nimify_tui.journal.journal import JOURNAL_FILE_NAME, read_journal
from nimify_tui.kube.client import ClusterIdentity
from nimify_tui.kube.records import DECODERS
from nimify_tui.live.flight_recorder import FLIGHT_FILE_NAME, Recording, read_recording
from nimify_tui.live.playback import JournalMark, Playback, RecordedClient, journal_marks
from nimify_tui.session import recorded_values
from nimify_tui.ui.app import NimifyApp
from nimify_tui.ui.panes.header import HeaderInfo
from nimify_tui.ui.screens.main import MainScreen

SPEEDS = (0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0)
TICK_S = 0.1  # how often the position moves while playing
_CHANGES_NOTHING = "a replay acts on no cluster"
_SENDS_NOTHING = "a replay sends and journals nothing"
_WRITES_NOTHING = "a replay writes nothing into the session it plays"
# the keys that act on a cluster, or on the incident's record: shown disabled; pressed, each says why
REFUSED = {
    "fix": _CHANGES_NOTHING,
    "remedy": _CHANGES_NOTHING,
    "shell": _CHANGES_NOTHING,  # exec: a shell, the runbook's in-pod steps
    "in_pod_step": _CHANGES_NOTHING,
    "verify": _CHANGES_NOTHING + " (the recorded verification is shown)",
    "status_update": _SENDS_NOTHING,
    "acknowledge": _SENDS_NOTHING,
    "escalation_criteria": _SENDS_NOTHING,
    "note": _WRITES_NOTHING,
    "screenshot_to_journal": _WRITES_NOTHING,
    "snapshot": _WRITES_NOTHING,
}
DISABLED_ACTIONS = frozenset(REFUSED)
LOG_ACTIONS = frozenset({"logs", "previous_logs"})  # from the session's snapshots: disabled when it has none
NO_SNAPSHOTS = "this session took no snapshot, and a replay's logs are its snapshots'"


class ReplayError(Exception):
    """The folder holds no session that can be played back."""


@dataclass(frozen=True)
class SessionRecord:
    """What a session folder holds for a replay."""

    folder: Path
    recording: Recording
    marks: tuple[JournalMark, ...]


def load_session(folder: Path) -> SessionRecord:
    flight = folder / FLIGHT_FILE_NAME
    if not flight.is_file():
        raise ReplayError(f"{folder}: no flight recording ({FLIGHT_FILE_NAME}); record a session with --record")
    recording = read_recording(flight)
    if not recording.frames:
        raise ReplayError(f"{flight}: no frames recorded")
    journal = folder / JOURNAL_FILE_NAME
    marks = journal_marks(read_journal(journal)) if journal.is_file() else ()
    return SessionRecord(folder, recording, marks)


def offline_client(recording: Recording, snapshots: Path | None = None) -> RecordedClient:
    """A client that never connects: it names the recorded context, and answers GETs of recorded objects."""
    header = recording.header
    identity = ClusterIdentity(
        context=str(header.get("context") or "recorded"),
        cluster=str(header.get("cluster") or "recorded"),
        server="",
        user="",
        namespace=str(header.get("main_namespace") or "nimify-system"),
    )
    return RecordedClient(identity, snapshots)


def replay_settings(recording: Recording, settings: Settings) -> Settings:
    """The user's settings with the recorded namespaces, and no journal of its own."""
    header = recording.header
    main = str(header.get("main_namespace") or settings.namespace)
    watched = tuple(str(n) for n in header.get("namespaces") or ()) or settings.watched_namespaces
    return replace(settings, namespace=main, watched_namespaces=watched, record_dir=None, readonly=True)


def _utc(at: float) -> str:
    return datetime.fromtimestamp(at, timezone.utc).strftime("%H:%M:%S")


def render_time_bar(playback: Playback, speed: float, paused: bool, width: int) -> Text:
    """``▶ 2x 12:03:04 UTC [━━━|──◆──] +01:10/05:00  next: <event>``: the journal's events are the ◆."""
    start, end, at = playback.start, playback.end, playback.position
    head = f" {'❚❚' if paused else '▶'} {speed:g}x {_utc(at)} UTC "
    elapsed, total = at - start, end - start
    clock = f" +{_minutes(elapsed)}/{_minutes(total)}"
    upcoming = playback.next_mark()
    after = f"  next: {upcoming.text}" if upcoming is not None else "  end of the journal"
    after = after[: max(0, width // 3)]
    cells = max(10, width - len(head) - 2 - len(clock) - len(after))
    bar = ["─"] * cells
    for mark in playback.marks:
        if total > 0:
            bar[min(cells - 1, int((mark.at - start) / total * cells))] = "◆"
    here = min(cells - 1, int(elapsed / total * cells)) if total > 0 else 0
    text = Text(no_wrap=True, overflow="ellipsis")
    text.append(head, style="bold")
    text.append("[")
    text.append("".join(bar[:here]), style="cyan")
    text.append("|", style="bold yellow")
    text.append("".join(bar[here + 1 :]), style="dim")
    text.append("]")
    text.append(clock)
    text.append(after, style="dim")
    return text


def _minutes(seconds: float) -> str:
    whole = max(0, int(seconds))
    return f"{whole // 60:02d}:{whole % 60:02d}"


def replayed_snapshots(app: NimifyApp) -> bool:
    """Whether the replayed session took snapshots (a replay's logs are theirs)."""
    client = app.runtime.client
    return isinstance(client, RecordedClient) and bool(client.snapshots)


class TimeBar(Static):
    """Where the replay is: the position, the speed, pause, and the journal's events."""

    DEFAULT_CSS = "TimeBar { height: 1; background: $panel; }"


class ReplayMainScreen(MainScreen):
    """The main screen with a time bar, its cluster keys disabled."""

    def compose(self) -> ComposeResult:
        parts = iter(super().compose())
        yield next(parts)  # the header
        yield TimeBar(id="time-bar")
        yield from parts

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in DISABLED_ACTIONS:
            return None  # shown, disabled
        if action in LOG_ACTIONS and not replayed_snapshots(self.nimify):
            return None
        return super().check_action(action, parameters)


class ReplayApp(NimifyApp):
    """The app on a recorded session: the store is filled by the playback, nothing reaches a cluster."""

    BINDINGS = [
        Binding("space", "toggle_pause", "Pause", id="replay-pause"),
        Binding("plus", "faster", "Faster", id="replay-faster"),
        Binding("minus", "slower", "Slower", id="replay-slower"),
        Binding("left_square_bracket", "previous_event", "Prev event", id="replay-previous"),
        Binding("right_square_bracket", "next_event", "Next event", id="replay-next"),
    ]

    def __init__(self, session: SessionRecord, settings: Settings) -> None:
        recording = session.recording
        settings = replay_settings(recording, settings)
        client = offline_client(recording, session.folder / "snapshots")
        super().__init__(
            client,
            settings,
            policy=ContextPolicy(readonly=True),
            record_journal=False,
            start_sources=False,
        )
        self.replayed = session
        self.playback = Playback(recording, self.runtime.store, DECODERS, session.marks, recorded_values())
        client.playback = self.playback  # describe and YAML: the objects as recorded
        self.speed = 1.0
        self.paused = False
        self.clock = lambda: self.playback.position
        self._last_tick = time.monotonic()

    def on_mount(self) -> None:  # before NimifyApp's (Textual calls both)
        self.playback.seek(self.replayed.recording.started)  # the first frame: the store as first seen
        self.set_interval(TICK_S, self._advance)

    def first_screen(self) -> Screen[Any]:
        return ReplayMainScreen()

    def header_info(self) -> HeaderInfo:
        return replace(super().header_info(), replay=True, recording=None)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in DISABLED_ACTIONS:
            return None
        return super().check_action(action, parameters)

    async def run_action(
        self,
        action: str | ActionParseResult,
        default_namespace: DOMNode | None = None,
        namespaces: Mapping[str, DOMNode] | None = None,
    ) -> bool:
        """A disabled key (or palette entry) pressed says why it does nothing here."""
        name = parse_action(action)[1] if isinstance(action, str) else action[1]
        why = REFUSED.get(name)
        if why is None and name in LOG_ACTIONS and not replayed_snapshots(self):
            why = NO_SNAPSHOTS
        if why is not None:
            self.notify(f"REPLAY: {why}.", severity="warning", markup=False)
            return True
        return await super().run_action(action, default_namespace, namespaces)

    # --- the position -------------------------------------------------------------------------------------
    def _advance(self) -> None:
        now = time.monotonic()
        elapsed, self._last_tick = now - self._last_tick, now
        if not self.paused and self.playback.position < self.playback.end:
            self.playback.seek(self.playback.position + elapsed * self.speed)
        self._show_position()

    def seek(self, at: float) -> None:
        self.playback.seek(at)
        self._show_position()

    def _show_position(self) -> None:
        if not self.screen_stack:  # the app is being taken down: a last tick has no screen to draw on
            return
        for bar in self.screen.query(TimeBar):
            bar.update(render_time_bar(self.playback, self.speed, self.paused, bar.size.width or 80))

    def action_toggle_pause(self) -> None:
        self.paused = not self.paused
        self._show_position()

    def action_faster(self) -> None:
        self.speed = next((s for s in SPEEDS if s > self.speed), SPEEDS[-1])
        self._show_position()

    def action_slower(self) -> None:
        self.speed = next((s for s in reversed(SPEEDS) if s < self.speed), SPEEDS[0])
        self._show_position()

    def action_previous_event(self) -> None:
        mark = self.playback.previous_mark()
        if mark is None:
            self.seek(self.playback.start)
            return
        self.seek(mark.at)
        self.notify(mark.text, title=mark.kind, markup=False)

    def action_next_event(self) -> None:
        mark = self.playback.next_mark()
        if mark is None:
            self.notify("No journal event after this point.", markup=False)
            return
        self.seek(mark.at)
        self.notify(mark.text, title=mark.kind, markup=False)


def run_replay(folder: Path, prog: str) -> int:
    """``nimify-tui replay SESSION_DIR``: 0 once quit, 2 when the folder cannot be played back."""
    import os
    import sys

    from nimify_tui.config import ConfigError, load_settings

    try:
        session = load_session(folder)
        settings = load_settings({}, os.environ, None)
    except (ReplayError, ConfigError, OSError) as exc:
        print(f"{prog} replay: {exc}", file=sys.stderr)
        return 2
    app = ReplayApp(session, settings)
    app.run()
    return app.return_code or 0
