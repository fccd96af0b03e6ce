"""Exec from the TUI, driven with Pilot against the simulated cluster's exec over WebSocket: `!` on the postgres pod
opens a shell (driven through a pty as a person would type) that runs psql and comes back to the main screen,
journaled; D's database check fails on database-down with psql's own error and passes once postgres is back; on
storage-full, K's cleanup in a helper pod (created and deleted on the guarded path) and a restart bring nimify-api
back with no expansion of the volume; a read-only session sends no exec at all."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from textual.pilot import Pilot
from textual.widgets import Input, Static

from nimify_tui.journal.journal import read_journal
from nimify_tui.kube.exec import Terminal
from nimify_tui.sim.server import SimThread
from nimify_tui.ui.app import NimifyApp
from nimify_tui.ui.exec_shell import ShellScreen
from nimify_tui.ui.panes.runbook import RunbookPane
from nimify_tui.ui.screens.action import ActionScreen
from nimify_tui.ui.screens.main import MainScreen
from nimify_tui.ui.screens.pod import PodScreen
from nimify_tui.ui.screens.step import StepScreen
from nimify_tui.ui.widgets.record_table import RecordTable

from .conftest import drawn, until

SIZE = (160, 45)
SPEED = 10.0
NS = "nimify-system"


def pane_text(app: NimifyApp) -> str:
    return "\n".join(drawn(app.screen.query_one(RunbookPane)))


def finding(app: NimifyApp, check: str) -> Any:
    return next((f for f in app.findings if f.check == check), None)


def journal(app: NimifyApp) -> list[dict[str, Any]]:
    assert app.session.folder is not None
    return read_journal(Path(app.session.folder) / "journal.jsonl")


def exec_requests(sim: SimThread) -> list[Any]:
    return [r for r in sim.request_log if r.path.endswith("/exec")]


def step_output(screen: StepScreen) -> str:
    return str(screen.query_one("#step-output-text", Static).content)


async def select_pod(pilot: Pilot[Any], app: NimifyApp, prefix: str) -> str:
    """The first pod whose name starts with ``prefix`` selected in the pods pane, as the arrows would."""
    await pilot.press("1")
    records = app.screen.query_one("#pods-table", RecordTable)

    def found() -> str | None:
        keys = [records.row_at(index).key for index in range(records.row_count)]
        return next((key for key in keys if key.startswith(f"{NS}/{prefix}")), None)

    key = await until(pilot, found, f"a {prefix} pod in the pods pane")
    records.move_cursor(row=records.get_row_index(key))
    await until(pilot, lambda: records.selected_key == key, f"{key} selected")
    return str(key).split("/", 1)[1]


async def open_step(pilot: Pilot[Any], app: NimifyApp, key: str) -> StepScreen:
    await pilot.press(key)
    return await until(pilot, lambda: isinstance(app.screen, StepScreen) and app.screen, f"{key}'s step")


class Person(threading.Thread):
    """Types into the shell's terminal (a pty) as a person would, and keeps what the terminal showed."""

    def __init__(self, controller: int) -> None:
        super().__init__(daemon=True)
        self.controller = controller
        self.seen = bytearray()

    def wait_for(self, text: bytes) -> bool:
        while text not in self.seen:
            try:
                chunk = os.read(self.controller, 4096)
            except OSError:
                return False
            if not chunk:
                return False
            self.seen.extend(chunk)
        return True

    def run(self) -> None:
        if self.wait_for(b"# "):
            os.write(self.controller, b'psql -h postgres -U nimify -c "SELECT 1;"\r')
            if self.wait_for(b"(1 row)"):
                os.write(self.controller, b"\x04")  # ctrl+d


async def test_a_shell_into_postgres_runs_psql_and_returns_to_the_tui(
    healthy_sim: SimThread, app_factory: Callable[..., NimifyApp]
) -> None:
    app = app_factory(healthy_sim, record=True)
    controller, terminal = os.openpty()
    person = Person(controller)
    app.exec_terminal = Terminal(terminal, terminal)
    try:
        async with app.run_test(size=SIZE) as pilot:
            pod = await select_pod(pilot, app, "postgres")
            await until(pilot, lambda: app.permissions_known(NS), "the permissions asked")
            person.start()
            await pilot.press("exclamation_mark")
            await until(pilot, lambda: not person.is_alive(), "the person done with the shell")
            await until(pilot, lambda: any("Shell in" in n.message for n in app._notifications), "the end of the shell")
            assert isinstance(app.screen, MainScreen), "back where it was"
            assert app.screen.query_one("#pods-table", RecordTable).selected_key == f"{NS}/{pod}"
            ended = [n.message for n in app._notifications if "Shell in" in n.message]
            assert ended and "exit 0" in ended[0], ended
            entries = [e for e in journal(app) if e["kind"] == "action" and e["verb"] == "exec"]
    finally:
        os.close(terminal)
        os.close(controller)
    assert b"(1 row)" in person.seen, bytes(person.seen)
    assert [e["parameters"]["session"] for e in entries] == ["start", "end"]
    for entry in entries:
        assert entry["target"] == {"kind": "Pod", "namespace": NS, "name": pod}
        assert entry["parameters"]["container"] == "postgres"
        assert "SELECT" not in str(entry), "the keystrokes are not journaled"
    assert entries[1]["duration_ms"] > 0 and entries[1]["result"] == "ok"
    assert [r for r in healthy_sim.request_log if r.path == f"/api/v1/namespaces/{NS}/pods/{pod}/exec"]


async def test_the_database_check_fails_with_psqls_error_then_passes_after_recovery(
    sim_factory: Callable[..., SimThread], app_factory: Callable[..., NimifyApp]
) -> None:
    sim = sim_factory(scenario="database-down", speed=SPEED)
    app = app_factory(sim, record=True)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: "D psql -h postgres" in pane_text(app), "the step offered under the diagnosis")
        screen = await open_step(pilot, app, "D")
        await until(pilot, lambda: screen.state == "done", "psql's answer", timeout_s=15)
        assert 'psql -h postgres -U nimify -c "SELECT 1;"' in str(screen.query_one("#step-command").render())
        shown = step_output(screen)
        assert "psql: error:" in shown and "✖" in shown, shown
        failed = await until(pilot, lambda: finding(app, "database"), "the database check")
        assert failed.state == "fail" and "psql: error:" in failed.evidence, failed
        await pilot.press("escape")
        await until(pilot, lambda: "✖ Database answers nimify-api: psql" in pane_text(app), "shown failing")
        await pilot.press("f")  # the diagnosis's fix: postgres scaled back
        fix = await until(pilot, lambda: isinstance(app.screen, ActionScreen) and app.screen, "the fix's dialog")
        await until(pilot, lambda: fix.state == "confirming", "the dry run", timeout_s=15)
        await pilot.press("y")
        await until(pilot, lambda: fix.state == "done", "postgres scaled", timeout_s=15)
        await pilot.press("escape")
        await until(pilot, lambda: finding(app, "api-ready").state == "pass", "nimify-api ready again", timeout_s=60)
        screen = await open_step(pilot, app, "D")
        await until(pilot, lambda: screen.state == "done", "psql's answer", timeout_s=15)
        assert "(1 row)" in step_output(screen)
        await until(pilot, lambda: finding(app, "database").state == "pass", "the database check passing")
        assert "SELECT 1 returned 1 row" in finding(app, "database").evidence
    steps = [e for e in journal(app) if e["kind"] == "action" and e["verb"] == "exec"]
    assert [e["parameters"]["verdict"].split(":")[0] for e in steps] == ["fail", "pass"]
    assert all(e["parameters"]["command"] == 'psql -h postgres -U nimify -c "SELECT 1;"' for e in steps)
    assert "psql: error:" in steps[0]["parameters"]["output"]


async def test_storage_full_is_fixed_by_the_cleanup_step_instead_of_the_expansion(
    sim_factory: Callable[..., SimThread], app_factory: Callable[..., NimifyApp]
) -> None:
    sim = sim_factory(scenario="storage-full", speed=SPEED)
    app = app_factory(sim, record=True)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: "K find /cache" in pane_text(app), "the cleanup offered under the diagnosis")
        assert app.diagnoses[0].component == "storage"
        screen = await open_step(pilot, app, "K")
        await until(pilot, lambda: screen.state == "confirming", "the helper pod's dry run", timeout_s=20)
        where = str(screen.query_one("#step-where").render())
        assert "no running pod mounts model-storage at /cache" in where, where
        helper = screen.place.target.pod if screen.place is not None else ""
        assert helper.startswith("nimify-volume-helper-")
        assert not [r for r in sim.request_log if r.method == "POST" and r.path.endswith("/pods") and not r.query]
        await pilot.press("y")  # create the helper
        await until(pilot, lambda: screen.state == "confirming" and "would be deleted" in step_output(screen), "ls")
        listing = step_output(screen)
        assert "find /cache -type f -mtime +7" in listing and "/cache/cache/" in listing, listing
        await pilot.press("y")  # delete them
        await until(pilot, lambda: screen.state == "done", "the cleanup and df", timeout_s=30)
        assert "✔ model-storage at /models is" in step_output(screen)
        await until(pilot, lambda: sim.call(lambda w: w.store.get("pods", NS, helper)) is None, "helper deleted")
        await pilot.press("r")  # then nimify-api restarted, as the step says
        restart = await until(pilot, lambda: isinstance(app.screen, ActionScreen) and app.screen, "restart dialog")
        await until(pilot, lambda: restart.state == "editing", "the restart planned", timeout_s=15)
        await pilot.press("ctrl+r")
        await until(pilot, lambda: restart.state == "confirming", "its dry run", timeout_s=15)
        await pilot.press("y")
        await until(pilot, lambda: restart.state in ("done",), "the restart", timeout_s=15)
        await pilot.press("escape")
        await until(pilot, lambda: finding(app, "api-ready").state == "pass", "nimify-api back", timeout_s=90)
        await until(pilot, lambda: not any(d.component == "storage" for d in app.diagnoses), "storage cleared")
        attempts = [done.summary for done in app.incident._actions]  # what the escalation counts as attempts
        # the cleanup and the restart; the helper pod's creation and deletion are no attempts at a fix
        assert len(attempts) == 2 and attempts[0].startswith("run `find /cache"), attempts
        assert "restart" in attempts[1], attempts
    assert not [r for r in sim.request_log if "persistentvolumeclaims" in r.path and r.method == "PATCH"]
    actions = [e for e in journal(app) if e["kind"] == "action" and e["result"] == "ok"]
    assert [(e["verb"], e["target"]["name"][:21]) for e in actions[:4]] == [
        ("create", "nimify-volume-helper-"),
        ("exec", "nimify-volume-helper-"),
        ("exec", "nimify-volume-helper-"),
        ("delete", "nimify-volume-helper-"),
    ]


async def test_read_only_sends_no_exec(healthy_sim: SimThread, app_factory: Callable[..., NimifyApp]) -> None:
    app = app_factory(healthy_sim, cli={"readonly": True})
    before = len(healthy_sim.request_log)
    async with app.run_test(size=SIZE) as pilot:
        await select_pod(pilot, app, "postgres")
        for key in ("exclamation_mark", "D", "B", "K"):
            await pilot.press(key)
            assert isinstance(app.screen, MainScreen), f"{key}: no dialog"
        notices = [n.message for n in app._notifications]
        assert len([m for m in notices if m.endswith("not available: read-only session")]) == 4, notices
    sent = healthy_sim.request_log[before:]
    assert [r for r in sent if r.path.endswith("/exec")] == []
    assert [r for r in sent if r.method in ("POST", "PUT", "PATCH", "DELETE")] == []


async def test_on_a_production_context_the_shell_asks_for_the_pods_name_first(
    healthy_sim: SimThread, app_factory: Callable[..., NimifyApp]
) -> None:
    app = app_factory(healthy_sim, config_toml='[contexts."sim-admin"]\nproduction = true\n')
    controller, terminal = os.openpty()
    person = Person(controller)
    app.exec_terminal = Terminal(terminal, terminal)
    try:
        async with app.run_test(size=SIZE) as pilot:
            pod = await select_pod(pilot, app, "postgres")
            await until(pilot, lambda: app.permissions_known(NS), "the permissions asked")
            before = len(exec_requests(healthy_sim))
            await pilot.press("exclamation_mark")
            await until(pilot, lambda: isinstance(app.screen, ShellScreen), "the confirmation")
            for key in "postgres":
                await pilot.press(key)
            await pilot.press("enter")
            assert isinstance(app.screen, ShellScreen), "a wrong name opens nothing"
            assert len(exec_requests(healthy_sim)) == before
            app.screen.query_one("#shell-typed", Input).value = pod
            person.start()
            await pilot.press("enter")
            await until(pilot, lambda: not person.is_alive(), "the person done with the shell")
            await until(pilot, lambda: isinstance(app.screen, MainScreen), "back on the main screen")
            assert len(exec_requests(healthy_sim)) == before + 1
    finally:
        os.close(terminal)
        os.close(controller)
    assert b"(1 row)" in person.seen


async def test_a_user_who_may_not_exec_is_told_why_and_nothing_is_sent(
    healthy_sim: SimThread, app_factory: Callable[..., NimifyApp]
) -> None:
    app = app_factory(healthy_sim, context="sim-readonly")  # not a read-only session: RBAC refuses exec
    before = len(exec_requests(healthy_sim))
    async with app.run_test(size=SIZE) as pilot:
        await select_pod(pilot, app, "postgres")
        await until(pilot, lambda: app.permissions_known(NS), "the permissions asked")
        screen = app.screen
        assert isinstance(screen, MainScreen)
        assert screen.footer_dimmed("shell") and screen.footer_dimmed("in_pod_step('step-database')")
        for key in ("exclamation_mark", "D"):
            await pilot.press(key)
            assert isinstance(app.screen, MainScreen), f"{key}: no dialog"
        notices = [n.message for n in app._notifications if "not available" in n.message]
        assert len(notices) == 2, notices
        assert all(
            m.endswith("not allowed: create pods/exec in nimify-system: no RBAC rule allows it") for m in notices
        )
    assert len(exec_requests(healthy_sim)) == before


async def test_from_the_pod_screen_the_shell_comes_back_to_the_pod_screen(
    healthy_sim: SimThread, app_factory: Callable[..., NimifyApp]
) -> None:
    app = app_factory(healthy_sim)
    controller, terminal = os.openpty()
    person = Person(controller)
    app.exec_terminal = Terminal(terminal, terminal)
    try:
        async with app.run_test(size=SIZE) as pilot:
            pod = await select_pod(pilot, app, "postgres")
            await pilot.press("enter")
            screen = await until(pilot, lambda: isinstance(app.screen, PodScreen) and app.screen, "the pod screen")
            await until(pilot, lambda: app.permissions_known(NS), "the permissions asked")
            person.start()
            await pilot.press("exclamation_mark")
            await until(pilot, lambda: not person.is_alive(), "the person done with the shell")
            await until(pilot, lambda: any("Shell in" in n.message for n in app._notifications), "the shell's end")
            assert app.screen is screen and screen.pod_name == pod, "back on the same pod screen"
    finally:
        os.close(terminal)
        os.close(controller)
    assert b"(1 row)" in person.seen


async def test_a_pod_of_two_containers_asks_which_one_the_shell_runs_in(
    sim_factory: Callable[..., SimThread], app_factory: Callable[..., NimifyApp]
) -> None:
    sim = sim_factory(scenario="healthy")
    app = app_factory(sim)
    two = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "two-containers", "namespace": NS},
        "spec": {
            "containers": [
                {"name": "main", "image": "ghcr.io/nimify/nimify-api:1.8.2", "command": ["sleep", "3600"]},
                {"name": "sidecar", "image": "ghcr.io/nimify/nimify-api:1.8.2", "command": ["sleep", "3600"]},
            ]
        },
    }
    controller, terminal = os.openpty()
    seen = bytearray()

    def person() -> None:  # at the prompt, ctrl+d at once
        while b"#" not in seen:
            chunk = os.read(controller, 4096)
            if not chunk:
                return
            seen.extend(chunk)
        os.write(controller, b"\x04")

    typing = threading.Thread(target=person, daemon=True)
    app.exec_terminal = Terminal(terminal, terminal)
    try:
        async with app.run_test(size=SIZE) as pilot:
            app.runtime.client.send_json("POST", f"/api/v1/namespaces/{NS}/pods", two)
            await select_pod(pilot, app, "two-containers")
            await until(pilot, lambda: app.permissions_known(NS), "the permissions asked")
            await pilot.press("exclamation_mark")
            picker = await until(pilot, lambda: isinstance(app.screen, ShellScreen) and app.screen, "the picker")
            assert picker.containers == ["main", "sidecar"]
            typing.start()
            await pilot.press("down", "enter")
            await until(pilot, lambda: not typing.is_alive(), "the shell's prompt, then ctrl+d")
            await until(pilot, lambda: isinstance(app.screen, MainScreen), "back on the main screen")
    finally:
        os.close(terminal)
        os.close(controller)
    (request,) = [r for r in exec_requests(sim) if "/two-containers/" in r.path]
    assert request.query["container"] == "sidecar"


async def test_closing_the_step_while_its_helper_pod_starts_leaves_no_helper_behind(
    sim_factory: Callable[..., SimThread], app_factory: Callable[..., NimifyApp]
) -> None:
    sim = sim_factory(scenario="storage-full", speed=SPEED)
    app = app_factory(sim, record=True)

    def helpers() -> list[str]:
        pods = sim.call(lambda world: world.store.list("pods"))
        return [p["metadata"]["name"] for p in pods if "nimify-tui/helper" in (p["metadata"].get("labels") or {})]

    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: "K find /cache" in pane_text(app), "the cleanup offered")
        screen = await open_step(pilot, app, "K")
        await until(pilot, lambda: screen.state == "confirming", "the helper pod's dry run", timeout_s=20)
        await pilot.press("y", "escape")  # create it, and close at once
        assert isinstance(app.screen, MainScreen)
        await until(pilot, lambda: [e for e in journal(app) if e.get("verb") == "create"], "the helper created")
        await until(pilot, lambda: not helpers(), "the helper deleted", timeout_s=30)
    verbs = [(e["verb"], e["result"]) for e in journal(app) if e["kind"] == "action"]
    assert verbs == [("create", "ok"), ("exec", "cancelled"), ("delete", "ok")], verbs
