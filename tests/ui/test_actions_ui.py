"""The guarded actions from the keyboard, against the simulator: dry run, diff, confirmation, the real call, the
journal; and read-only sessions that cannot send a mutating request whatever is pressed."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from textual.pilot import Pilot
from textual.widgets import Input, Static

from nimify_tui.actions.registry import REMEDIES, PlanExtras
from nimify_tui.journal.journal import read_journal
from nimify_tui.live.keys import DEPLOYMENTS, PODS
from nimify_tui.sim.scenarios import health_problems
from nimify_tui.sim.server import SimThread
from nimify_tui.ui.app import NimifyApp
from nimify_tui.ui.screens.action import ActionScreen
from nimify_tui.ui.screens.main import MainScreen
from nimify_tui.ui.widgets.record_table import RecordTable

from .conftest import controllers_loaded, until

SIZE = (160, 45)
MUTATING = {"POST", "PUT", "PATCH", "DELETE"}


def is_change(path: str) -> bool:
    """Permission reviews and POSTs through the proxies to Triton's read-only repository index are requests,
    not changes to Kubernetes objects."""
    return not path.endswith("selfsubjectaccessreviews") and "/proxy/" not in path


def mutations(sim: SimThread) -> list[str]:
    return [f"{r.method} {r.path}" for r in sim.request_log if r.method in MUTATING and is_change(r.path)]


async def select_pod(pilot: Pilot[Any], app: NimifyApp, prefix: str) -> str:
    """Put the pods pane's cursor on the first pod named ``prefix``... (``namespace/prefix``... where the pane
    shows every namespace: a NAMESPACE column first), once the pane shows one."""
    table = app.screen.query_one("#pods-table", RecordTable)

    def name_at(index: int) -> str:
        row = table.get_row_at(index)
        return f"{row[0]}/{row[1]}" if "/" in prefix else str(row[0])

    def shown() -> int | None:
        names = [name_at(index) for index in range(table.row_count)]
        return next((index + 1 for index, name in enumerate(names) if name.startswith(prefix)), None)

    index = await until(pilot, shown, f"a pod {prefix!r} in the pods pane") - 1
    table.focus()  # the pane the action keys act on, as a person would be on it (not left to the start's focus)
    table.move_cursor(row=index)
    await until(pilot, lambda: app.focused is table and name_at(table.cursor_row).startswith(prefix), "the pod chosen")
    return name_at(table.cursor_row)


async def open_action(pilot: Pilot[Any], app: NimifyApp, key: str) -> ActionScreen:
    """Press ``key`` and wait until its action's modal asks for the parameters."""
    await pilot.press(key)
    screen: ActionScreen = await until(pilot, lambda: isinstance(app.screen, ActionScreen) and app.screen, "the modal")
    await until(pilot, lambda: screen.state == "editing", "parameters", timeout_s=15)
    return screen


def status_text(screen: ActionScreen) -> str:
    return str(screen.query_one("#action-status", Static).content)


def journal_entries(folder: Path) -> list[dict[str, object]]:
    return [entry for path in folder.rglob("journal.jsonl") for entry in read_journal(path)]


async def test_patch_memory_fixes_the_crash_loop_and_is_journaled(
    sim_factory: Callable[..., SimThread], app_factory: Callable[..., NimifyApp], tmp_path: Path
) -> None:
    sim = sim_factory(scenario="crashloop-oom", speed=20.0)
    app = app_factory(sim, record=True)
    async with app.run_test(size=SIZE) as pilot:
        await until(
            pilot, lambda: any(r for r in app.runtime.store.items(PODS) if r.status == "CrashLoopBackOff"), "crash"
        )
        await controllers_loaded(pilot, app)
        await select_pod(pilot, app, "nimify-api-")
        screen = await open_action(pilot, app, "m")
        memory = dict(screen._fields)["limits.memory"]
        assert isinstance(memory, Input) and memory.value == "1Gi"
        memory.value = "2Gi"
        start = len(sim.request_log)
        await pilot.press("ctrl+r")
        await until(pilot, lambda: screen.state == "confirming", "the dry run's diff", timeout_s=15)
        diff = str(screen.query_one("#action-diff-text", Static).content)
        assert "1Gi" in diff and "2Gi" in diff and "memory" in diff
        changes = [r for r in sim.request_log[start:] if r.method in MUTATING and is_change(r.path)]
        assert changes and all(r.query.get("dryRun") == "All" for r in changes), "the dry run changes nothing"
        await pilot.press("y")
        await until(pilot, lambda: screen.state == "done", "the real call", timeout_s=15)
        await until(pilot, lambda: "successfully rolled out" in status_text(screen), "rollout followed", timeout_s=30)
        await until(pilot, lambda: not health_problems(sim.world), "the world healthy again", timeout_s=30)
        await pilot.press("escape")
        assert isinstance(app.screen, MainScreen)
    actions = [e for e in journal_entries(tmp_path) if e["kind"] == "action"]
    assert actions and actions[-1]["result"] == "ok" and actions[-1]["target"]["name"] == "nimify-api"  # type: ignore[index]
    request = actions[-1]["request"]
    assert request["method"] == "PATCH" and "2Gi" in str(request["body"])  # type: ignore[index]
    assert "1Gi" in str(actions[-1]["dry_run_diff"])


async def test_delete_needs_the_typed_name_and_cancel_is_journaled(
    sim_factory: Callable[..., SimThread], app_factory: Callable[..., NimifyApp], tmp_path: Path
) -> None:
    sim = sim_factory(scenario="healthy")
    app = app_factory(sim, record=True)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.screen.query_one("#pods-table", RecordTable).row_count, "pods")
        victim = await select_pod(pilot, app, "nimify-worker-")
        screen = await open_action(pilot, app, "ctrl+d")
        await pilot.press("ctrl+r")
        await until(pilot, lambda: screen.state == "confirming", "dry run", timeout_s=15)
        typed = screen.query_one("#action-typed", Input)
        assert typed.has_class("-shown") and typed.has_focus
        before = mutations(sim)
        await pilot.press(*"wrong-name", "enter")
        assert screen.state == "confirming"
        assert status_text(screen) == f"That is not {victim}; nothing sent."
        assert mutations(sim) == before, "a wrong name sends nothing"
        await pilot.press("escape")  # cancel: journaled, nothing sent
        assert isinstance(app.screen, MainScreen)
        await until(
            pilot, lambda: any(e.get("result") == "cancelled" for e in journal_entries(tmp_path)), "cancel journaled"
        )
        assert mutations(sim) == before
        await select_pod(pilot, app, victim)
        screen = await open_action(pilot, app, "ctrl+d")
        await pilot.press("ctrl+r")
        await until(pilot, lambda: screen.state == "confirming", "dry run", timeout_s=15)
        await pilot.press(*victim, "enter")
        await until(pilot, lambda: screen.state == "done", "deleted", timeout_s=15)
        assert any(m.startswith("DELETE") and m.endswith(f"/pods/{victim}") for m in mutations(sim))


async def test_readonly_flag_sends_no_mutating_request_whatever_is_pressed(
    healthy_sim: SimThread, app_factory: Callable[..., NimifyApp]
) -> None:
    app = app_factory(healthy_sim, cli={"readonly": True})
    before = len(healthy_sim.request_log)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.screen.query_one("#pods-table", RecordTable).row_count, "pods")
        await select_pod(pilot, app, "nimify-api-")
        for pane in ("1", "4", "1"):
            await pilot.press(pane)
            for remedy in REMEDIES:
                await pilot.press(remedy.key)
                assert isinstance(app.screen, MainScreen), f"{remedy.key} opened nothing"
        assert app.screen.footer_dimmed("remedy('scale')"), "shown dimmed"
    sent = [r for r in healthy_sim.request_log[before:] if r.method in MUTATING]
    assert sent == [], "not even a permission review leaves a read-only session"


async def test_sim_readonly_context_disables_the_keys_with_the_reason(
    healthy_sim: SimThread, app_factory: Callable[..., NimifyApp]
) -> None:
    app = app_factory(healthy_sim, context="sim-readonly")
    before = len(healthy_sim.request_log)
    async with app.run_test(size=SIZE) as pilot:
        watched = app.settings.watched_namespaces
        await until(pilot, lambda: all(app.permissions_known(ns) for ns in watched), "the API server's answers")
        client, extras = app.runtime.client, PlanExtras()
        for remedy in REMEDIES:
            for namespace in watched:
                question = remedy.questions(client, namespace, extras)[0]  # in the models' namespace for a model
                refusal = f"not allowed: {question}: no RBAC rule allows it"
                assert app.remedy_refusal(remedy.id, namespace) == refusal
        await until(pilot, lambda: app.screen.query_one("#pods-table", RecordTable).row_count, "pods")
        await select_pod(pilot, app, "nimify-api-")
        for remedy in REMEDIES:
            await pilot.press(remedy.key)
            assert isinstance(app.screen, MainScreen)
    sent = [f"{r.method} {r.path}" for r in healthy_sim.request_log[before:] if r.method in MUTATING]
    assert sent and all(s.endswith("/selfsubjectaccessreviews") for s in sent)


async def test_note_and_screenshot_go_to_the_journal_without_the_token(
    healthy_sim: SimThread, app_factory: Callable[..., NimifyApp], tmp_path: Path
) -> None:
    app = app_factory(healthy_sim, record=True)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.session.folder is not None, "recording")
        await pilot.press("n")
        await pilot.press(*f"suspect the config change {healthy_sim.admin_token}", "enter")
        await pilot.press("S")
        await until(pilot, lambda: list(tmp_path.rglob("screenshot-*.svg")), "the screenshot file")
    entries = journal_entries(tmp_path)
    kinds = [e["kind"] for e in entries]
    assert kinds[0] == "session_start" and kinds[-1] == "session_end"
    assert "note" in kinds and "screenshot" in kinds
    text = "".join(path.read_text() for path in tmp_path.rglob("journal.jsonl"))
    assert healthy_sim.admin_token not in text, "the kubeconfig's token never reaches the journal"
    note = next(e for e in entries if e["kind"] == "note")
    assert "suspect the config change" in str(note["text"])


async def test_scale_the_worker_down_from_the_deployment_screen(
    sim_factory: Callable[..., SimThread], app_factory: Callable[..., NimifyApp]
) -> None:
    sim = sim_factory(scenario="resource-exhaustion", speed=20.0)
    app = app_factory(sim)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.runtime.store.get(DEPLOYMENTS, ("nimify-system", "nimify-worker")), "worker")
        await pilot.press("colon", *"deploy nimify-worker", "enter")
        screen = await open_action(pilot, app, "s")
        replicas = dict(screen._fields)["replicas"]
        assert isinstance(replicas, Input) and int(replicas.value) > 1
        replicas.value = "1"
        await pilot.press("ctrl+r")
        await until(pilot, lambda: screen.state == "confirming", "dry run", timeout_s=15)
        assert "replicas" in str(screen.query_one("#action-diff-text", Static).content)
        await pilot.press("y")
        await until(pilot, lambda: screen.state == "done", "scaled", timeout_s=15)
        await until(pilot, lambda: not health_problems(sim.world), "healthy again", timeout_s=40)


async def test_a_production_context_asks_for_the_name_even_to_scale(
    healthy_sim: SimThread, app_factory: Callable[..., NimifyApp]
) -> None:
    app = app_factory(healthy_sim, config_toml='[contexts."sim-admin"]\nproduction = true\n')
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.screen.query_one("#pods-table", RecordTable).row_count, "pods")
        await controllers_loaded(pilot, app)
        await select_pod(pilot, app, "nimify-worker-")
        screen = await open_action(pilot, app, "s")
        replicas = dict(screen._fields)["replicas"]
        assert isinstance(replicas, Input)
        replicas.value = str(int(replicas.value) + 1)
        await pilot.press("ctrl+r")
        await until(pilot, lambda: screen.state == "confirming", "dry run", timeout_s=15)
        assert screen.query_one("#action-typed", Input).has_class("-shown")
        assert "production context" in status_text(screen)
        before = mutations(healthy_sim)
        await pilot.press("y")  # a plain yes is not enough here: it is typed into the name field
        assert screen.state == "confirming" and mutations(healthy_sim) == before
        await pilot.press("escape")
