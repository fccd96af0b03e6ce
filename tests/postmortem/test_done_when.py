"""Issue 11's "Done when", end to end on one simulator session: crashloop-oom recorded, a screenshot (S), fixed with
f and y, recovery verified, then q and y. A canary token was planted before the session in a Secret of the watched
namespace and in the kubeconfig. The one session folder then holds the detection snapshot (pods-describe shows
OOMKilled, the logs hold the previous container's lines), the recovery snapshot, postmortem.md (detection, the
action and verified recovery in order, with times; each diagnosis), report.html (loaded in a real Chromium), a
replay (CrashLoopBackOff rows at the start, Running at the end, every pane's data, drill-down from the recording and
the snapshots, the keys of a replay) and no canary, nor any kubeconfig token, in any file."""

from __future__ import annotations

import asyncio
import base64
import gzip
import json
import os
import re
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from textual.widgets import Static

from nimify_tui.config import load_settings
from nimify_tui.journal.journal import read_journal
from nimify_tui.kube.client import KubeClient
from nimify_tui.live.keys import ALERT_STATES, LATENCY, PODS, PROBES, TRITON
from nimify_tui.postmortem.html import TIMELINE_COLOURS
from nimify_tui.recovery.verifier import RECOVERY
from nimify_tui.sim.k8s.kubeconfig import kubeconfig
from nimify_tui.sim.server import SimThread
from nimify_tui.ui.app import NimifyApp
from nimify_tui.ui.exec_shell import SHELL_KEY, ShellScreen
from nimify_tui.ui.panes.header import StatusHeader
from nimify_tui.ui.replay import NO_SNAPSHOTS, ReplayApp, ReplayMainScreen, TimeBar, load_session
from nimify_tui.ui.screens.action import ActionScreen
from nimify_tui.ui.screens.logs import LogsScreen
from nimify_tui.ui.screens.note import NoteScreen
from nimify_tui.ui.screens.pod import PodScreen
from nimify_tui.ui.widgets.log_view import LogView

from ..ui.conftest import make_app, until
from .chromium import chromium_path, load, png_colours, screenshot
from .test_session_report import NO_CHROMIUM, api_statuses, record_fixed_outage, timeline

NAMESPACE = "nimify-system"
CANARY = f"canary-{secrets.token_hex(8)}"  # the Secret's value
KUBE_CANARY = f"canary-kube-{secrets.token_hex(8)}"  # a token of the kubeconfig
LOAD_TEST_TWO_AT_A_TIME = "[recovery]\nload_concurrency = 2\n"


@dataclass(frozen=True)
class Outage:
    folder: Path  # the session folder
    secrets: tuple[str, ...]  # what no file of it may hold: the canaries and the kubeconfig's tokens
    journal: list[dict[str, Any]]

    def snapshot(self, trigger: str) -> Path:
        entry = next(e for e in self.journal if e["kind"] == "snapshot" and e["trigger"] == trigger)
        return self.folder / entry["folder"]


def plant_canaries(sim: SimThread, folder: Path) -> tuple[str, ...]:
    """The kubeconfig, with a spare user whose token is a canary; a Secret holding the other canary, created
    through the API in the watched namespace. Returns every token the kubeconfig holds, and the Secret's value."""
    config: dict[str, Any] = kubeconfig(sim)
    config["users"].append({"name": "spare", "user": {"token": KUBE_CANARY}})
    path = folder / "kubeconfig"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as out:
        yaml.safe_dump(config, out)
    client = KubeClient.from_kubeconfig(str(path), "sim-admin")
    secret = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "hf-canary", "namespace": NAMESPACE},
        "type": "Opaque",
        "data": {"token": base64.b64encode(CANARY.encode()).decode()},
    }
    client.send_json("POST", f"/api/v1/namespaces/{NAMESPACE}/secrets", secret)
    created = client.get_json(f"/api/v1/namespaces/{NAMESPACE}/secrets/hf-canary")
    assert base64.b64decode(created["data"]["token"]).decode() == CANARY
    client.close()
    tokens = [user["user"]["token"] for user in config["users"]]
    return (CANARY, *tokens)


@pytest.fixture(scope="module")
def outage(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Outage]:
    folder = tmp_path_factory.mktemp("done-when")
    with SimThread(scenario="crashloop-oom", speed=10.0) as sim:
        planted = plant_canaries(sim, folder)
        # the light load test two at a time: ten at once measure the shared CPU's load more than the fix
        app = make_app(sim, folder, record=True, config_toml=LOAD_TEST_TWO_AT_A_TIME)
        session = asyncio.run(record_fixed_outage(sim, app, snapshots=2, running=True))
    yield Outage(session, planted, read_journal(session / "journal.jsonl"))


def test_the_detection_snapshot_shows_oomkilled_and_the_previous_containers_logs(outage: Outage) -> None:
    detection = outage.snapshot("detection")
    describe = (detection / "pods-describe.txt").read_text()
    # the containers restart between back-offs: each describe shows the last termination, OOMKilled
    assert re.search(r"Last State: +Terminated\n +Reason: +OOMKilled", describe), describe[:2000]
    previous = sorted((detection / "logs" / NAMESPACE).glob("nimify-api-*/*.previous.log"))
    assert previous, "the previous containers' logs of the crash-looping pods"
    lines = [line for log in previous for line in log.read_text().splitlines()]
    assert any("container limit 1024 MiB" in line for line in lines), "the previous container's last lines"


def test_a_recovery_snapshot_is_taken_after_the_detection_one(outage: Outage) -> None:
    detection, recovery = outage.snapshot("detection"), outage.snapshot("recovery")
    assert detection.name < recovery.name
    assert (recovery / "manifest.json").is_file() and (recovery / "pods-describe.txt").is_file()
    assert json.loads((recovery / "triage.json").read_text())["diagnoses"] == [], "taken once the outage was over"
    assert re.search(r"^deployment\.apps/nimify-api +3/3 ", (recovery / "state.txt").read_text(), re.MULTILINE)


def test_the_postmortem_timeline_has_detection_each_diagnosis_the_action_and_verified_recovery(
    outage: Outage,
) -> None:
    markdown = (outage.folder / "postmortem.md").read_text()
    rows = timeline(markdown)
    kinds = [kind for _, kind, _ in rows]
    # verified recovery: the automatic verification's, or V's after it when the shared CPU failed its load test
    verified = next(i for i, (_, kind, text) in enumerate(rows) if kind == "recovery" and "verified" in text)
    order = [kinds.index(k) for k in ("detection", "diagnosis", "mitigation", "diagnosis cleared")]
    assert [*order, verified] == sorted([*order, verified]), kinds
    assert kinds[0] in ("first failure", "detection"), kinds
    mitigation = rows[kinds.index("mitigation")]
    assert "set-resources Deployment nimify-system/nimify-api" in mitigation[2]
    diagnosis = rows[kinds.index("diagnosis")]
    assert "Pod Crash Loop" in diagnosis[2] and "OOMKilled" in markdown
    times = [t for t, _, _ in rows]
    assert all(re.fullmatch(r"\d\d:\d\d:\d\d", t) for t in times) and times == sorted(times)
    assert "kubectl -n nimify-system set resources deployment/nimify-api --containers=nimify-api" in markdown
    assert "limits=memory=2Gi" in markdown and "result: ok" in markdown
    root = markdown.split("## Root cause", 1)[1].split("\n## ", 1)[0]
    assert root.lstrip().startswith("**Cause:**") and "OOMKilled" in root and "CrashLoopBackOff" in root
    assert re.search(r"- Time to resolve: \d", markdown)
    assert "Latency p95: peak" in markdown  # the series the TUI saw, kept in latency-series.json
    assert (outage.folder / "latency-series.json").is_file()
    appeared = [e for e in outage.journal if e["kind"] == "diagnosis" and e["event"] == "appeared"]
    cleared = [e for e in outage.journal if e["kind"] == "diagnosis" and e["event"] == "cleared"]
    assert appeared and cleared and appeared[0]["scenario"] == "crash-loop" and appeared[0]["evidence"]


def test_the_report_loads_in_chromium_without_console_messages_and_shows_the_timeline(
    outage: Outage, tmp_path: Path
) -> None:
    html = (outage.folder / "report.html").read_text()
    assert "data:image/svg+xml;base64," in html  # the S screenshot, embedded
    binary = chromium_path()
    if binary is None:
        pytest.skip(NO_CHROMIUM)
    page = outage.folder / "report.html"
    loaded = load(binary, page, tmp_path / "profile")
    assert loaded.console == []
    assert 'class="timeline"' in loaded.dom
    png = screenshot(binary, page, tmp_path / "profile", tmp_path / "report.png", (1100, 3000))
    colours = png_colours(png)
    for kind in ("failure", "detection", "action", "recovery"):  # each timeline row's colour strip, drawn
        value = TIMELINE_COLOURS[kind].lstrip("#")
        assert tuple(int(value[i : i + 2], 16) for i in (0, 2, 4)) in colours, kind


def test_no_file_of_the_session_holds_a_canary_or_a_kubeconfig_token(outage: Outage) -> None:
    files = [path for path in outage.folder.rglob("*") if path.is_file()]
    names = {path.name for path in files}
    assert {"journal.jsonl", "flight.jsonl.gz", "postmortem.md", "report.html", "pods-describe.txt"} <= names
    forms = [form for secret in outage.secrets for form in (secret.encode(), base64.b64encode(secret.encode()))]
    for path in files:
        data = path.read_bytes()
        texts = [data, gzip.decompress(data)] if path.suffix == ".gz" else [data]
        if path.suffix == ".html":  # the embedded screenshots, decoded
            texts += [base64.b64decode(b) for b in re.findall(rb"base64,([A-Za-z0-9+/=]+)", data)]
        for text in texts:
            assert not [form for form in forms if form in text], path


# --- the replay -----------------------------------------------------------------------------------------------------
def shown(app: NimifyApp, widget_type: type[Static]) -> str:
    return str(app.screen.query_one(widget_type).render())


def notices(app: NimifyApp) -> list[str]:
    return [str(n.message) for n in app._notifications]


async def jump(pilot: Any, replay: ReplayApp, key: str) -> None:
    """Press ``[`` or ``]`` and wait until the position moved (the key is answered)."""
    before = replay.playback.position
    await pilot.press(key)
    await until(pilot, lambda: replay.playback.position != before, f"{key} answered")


def crash_looping(replay: ReplayApp) -> bool:
    return any(
        p.name.startswith("nimify-api-") and p.status == "CrashLoopBackOff" for p in replay.runtime.store.items(PODS)
    )


async def at_the_start_crash_looping(pilot: Any, replay: ReplayApp) -> None:
    """Paused on the first frame that shows nimify-api's pods in CrashLoopBackOff: the first one, unless the
    session began while they ran between two back-offs (then a later one, still before the fix)."""
    await pilot.press("space")
    assert replay.paused and "❚❚" in shown(replay, TimeBar)
    fix = next(m.at for m in replay.playback.marks if m.kind == "action")
    for at in sorted({f.at for f in replay.playback.recording.frames if f.at < fix}):
        replay.seek(at)
        if crash_looping(replay):
            break
    assert crash_looping(replay) and replay.playback.position < fix, "CrashLoopBackOff before the fix"
    await until(pilot, lambda: "CrashLoopBackOff" in api_statuses(replay), "CrashLoopBackOff rows at the start")


async def test_the_replay_shows_crashloopbackoff_at_the_start_and_running_at_the_end(outage: Outage) -> None:
    replay = ReplayApp(load_session(outage.folder), load_settings({}, {}, None))
    async with replay.run_test(size=(160, 45)) as pilot:
        await at_the_start_crash_looping(pilot, replay)
        assert isinstance(replay.screen, ReplayMainScreen)
        assert "REPLAY" in shown(replay, StatusHeader)
        store = replay.runtime.store

        replay.seek(replay.playback.end)
        await until(
            pilot,
            lambda: (statuses := api_statuses(replay)) and set(statuses) == {"Running"},
            "Running at the end",
        )
        assert store.value(PROBES) and store.value(TRITON) is not None, "the health strip's and models' data"
        recovery = store.value(RECOVERY)
        assert recovery is not None and recovery.outcome == "verified", "the recorded verification"
        latency = store.value(LATENCY)
        assert latency is not None and len(latency.points) > 3 and store.value(ALERT_STATES)
        assert replay.runtime.client.sent_mutations == 0


async def test_the_replay_drills_down_from_the_recording_and_the_snapshots(outage: Outage) -> None:
    replay = ReplayApp(load_session(outage.folder), load_settings({}, {}, None))
    async with replay.run_test(size=(160, 45)) as pilot:
        await at_the_start_crash_looping(pilot, replay)
        assert isinstance(replay.screen, ReplayMainScreen)
        selected = replay.screen.selected_pod_record()
        assert selected is not None and selected.name.startswith("nimify-api-")
        await pilot.press("d")  # describe: the pod as recorded
        describe = await until(
            pilot,
            lambda: isinstance(replay.screen, PodScreen) and replay.screen.query_one("#text-describe", LogView),
            "the describe",
        )
        await until(pilot, lambda: "Containers:" in describe.text, "the describe's text")
        assert "OOMKilled" in describe.text and f"Name:                 {selected.name}" in describe.text
        assert selected.status != "CrashLoopBackOff" or "CrashLoopBackOff" in describe.text
        await pilot.press("y")  # its YAML, as recorded (redacted as the journal is)
        yaml_view = replay.screen.query_one("#text-yaml", LogView)
        await until(pilot, lambda: f"name: {selected.name}" in yaml_view.text, "the YAML")
        assert "reason: OOMKilled" in yaml_view.text and "restartCount:" in yaml_view.text
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(replay.screen, ReplayMainScreen), "back on the main screen")
        await pilot.press("p")  # the previous container's logs, from the session's snapshot
        logs = await until(
            pilot, lambda: isinstance(replay.screen, LogsScreen) and replay.screen.query_one(LogView), "the logs"
        )
        await until(pilot, lambda: "container limit 1024 MiB" in logs.text, "the previous container's last lines")
        assert "--- " not in logs.text, "no error line"


async def test_the_replays_keys_pause_change_speed_jump_and_refuse_to_act(outage: Outage) -> None:
    replay = ReplayApp(load_session(outage.folder), load_settings({}, {}, None))
    async with replay.run_test(size=(160, 45)) as pilot:
        start = replay.playback.position
        bar = shown(replay, TimeBar)
        await until(pilot, lambda: replay.playback.position > start, "the replay playing from its start")
        await until(pilot, lambda: shown(replay, TimeBar) != bar, "the time bar following it")
        assert "▶ 1x" in shown(replay, TimeBar)
        await pilot.press("space")
        assert replay.paused
        paused_at = replay.playback.position
        await pilot.pause(0.3)
        assert replay.playback.position == paused_at, "paused: the position stays"
        await pilot.press("plus")
        assert replay.speed == 2.0 and "2x" in shown(replay, TimeBar)
        await pilot.press("minus", "minus")
        assert replay.speed == 0.5

        marks = replay.playback.marks
        assert {"finding", "diagnosis", "action", "recovery"} <= {m.kind for m in marks}
        following = next(m for m in marks if m.at > replay.playback.position)
        await jump(pilot, replay, "right_square_bracket")
        assert replay.playback.position == following.at, "] jumps to the next journal event"
        action = next(m for m in marks if m.kind == "action")
        key = "right_square_bracket" if replay.playback.position < action.at else "left_square_bracket"
        for _ in marks:
            if replay.playback.position == action.at:
                break
            await jump(pilot, replay, key)
        assert replay.playback.position == action.at, "[ and ] stop at each event: the fix's too"
        await jump(pilot, replay, "left_square_bracket")
        assert replay.playback.position < action.at, "[ goes back"

        keys = (
            ("f", "fix", ActionScreen),
            ("s", "remedy", ActionScreen),
            ("n", "note", NoteScreen),
            (SHELL_KEY, "shell", ShellScreen),
        )
        for key, action_name, screen in keys:
            count = len(notices(replay))
            await pilot.press(key)  # an action key: disabled, nothing opens, it says why
            await until(pilot, lambda count=count: len(notices(replay)) > count, f"{key} answered")
            assert notices(replay)[-1].startswith("REPLAY: a replay"), notices(replay)[-1]
            assert not isinstance(replay.screen, screen)
            assert replay.screen.check_action(action_name, ()) is None or replay.check_action(action_name, ()) is None
        assert replay.runtime.client.sent_mutations == 0


async def test_a_replay_of_a_session_without_snapshots_says_why_it_shows_no_logs(
    outage: Outage, tmp_path: Path
) -> None:
    for name in ("flight.jsonl.gz", "journal.jsonl"):
        (tmp_path / name).write_bytes((outage.folder / name).read_bytes())
    replay = ReplayApp(load_session(tmp_path), load_settings({}, {}, None))
    async with replay.run_test(size=(80, 24)) as pilot:
        await pilot.press("space")
        await until(pilot, lambda: api_statuses(replay), "nimify-api's rows")
        assert replay.screen.check_action("logs", ()) is None, "shown disabled"
        await pilot.press("l")
        await until(pilot, lambda: notices(replay), "l answered")
        assert notices(replay)[-1] == f"REPLAY: {NO_SNAPSHOTS}."
        assert not isinstance(replay.screen, LogsScreen)
