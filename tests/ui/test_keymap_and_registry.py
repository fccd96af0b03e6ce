"""The remedy table as the keys of the real app on the simulated cluster: the bindings and the help made from it,
a [keymap] that rebinds a remedy, and permissions asked per namespace of the object acted on."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console
from textual.binding import Binding, BindingType
from textual.widgets import Static

from nimify_tui.actions.registry import REMEDIES, remedies_for
from nimify_tui.sim.k8s import auth
from nimify_tui.sim.server import SimThread
from nimify_tui.triton.client import TRITON_NAMESPACE
from nimify_tui.ui.app import NimifyApp
from nimify_tui.ui.screens.deployment import DeploymentScreen
from nimify_tui.ui.screens.help import HelpScreen, key_label
from nimify_tui.ui.screens.main import MainScreen
from nimify_tui.ui.screens.pod import PodScreen
from nimify_tui.ui.widgets.key_footer import KeyFooter

from .conftest import controllers_loaded, drawn, until
from .test_actions_ui import SIZE, open_action, select_pod

NS = "nimify-system"
Obj = dict[str, Any]


def remedy_keys(bindings: list[BindingType]) -> list[tuple[str, str, str, str | None]]:
    return [
        (b.key, b.action, b.description, b.id)
        for b in bindings
        if isinstance(b, Binding) and b.action.startswith("remedy(")
    ]


def expected(*targets: str) -> list[tuple[str, str, str, str | None]]:
    return [(r.key, f"remedy('{r.id}')", r.title, r.id) for r in remedies_for(*targets)]  # type: ignore[arg-type]


def help_lines(app: NimifyApp) -> list[str]:
    console = Console(width=120, record=True, file=io.StringIO())
    for static in app.screen.query(Static):
        console.print(static.content)
    return [line.strip() for line in console.export_text().splitlines()]


def shows(lines: list[str], key: str, title: str, binding_id: str) -> bool:
    """Whether the help has the row: key, title, binding id."""
    row = rf"{re.escape(key_label(key))}\s+{re.escape(title)}\s+{re.escape(binding_id)}"
    return any(re.fullmatch(row, line) for line in lines)


def notices(app: NimifyApp, start: str) -> list[str]:
    return [notification.message for notification in app._notifications if notification.message.startswith(start)]


def test_the_screens_bind_the_remedies_of_the_table() -> None:
    assert remedy_keys(MainScreen.BINDINGS) == expected()
    assert remedy_keys(DeploymentScreen.BINDINGS) == expected("deployment")
    assert remedy_keys(PodScreen.BINDINGS) == expected("pod", "deployment")


def test_the_readme_key_table_names_every_remedy_with_its_default_key() -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    table = readme.split("### Keys", 1)[1].split("\n\n")[1]
    rows = [row for row in table.splitlines() if row.startswith("| `")]
    for remedy in REMEDIES:
        assert any(f"`{remedy.key}`" in row.split("|")[1] for row in rows), f"{remedy.id}: `{remedy.key}` not listed"


async def test_help_lists_every_remedy_with_its_key(
    healthy_sim: SimThread, app_factory: Callable[..., NimifyApp]
) -> None:
    app = app_factory(healthy_sim)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        lines = help_lines(app)
    for remedy in REMEDIES:
        assert shows(lines, remedy.key, remedy.title, remedy.id), f"{remedy.id} is not in the help with its key"


async def test_a_keymap_rebinds_scale_and_help_in_the_keys_the_footer_the_palette_and_the_help(
    healthy_sim: SimThread, app_factory: Callable[..., NimifyApp]
) -> None:
    app = app_factory(healthy_sim, config_toml='[keymap]\nscale = "a"\nhelp = "f1"\n')
    async with app.run_test(size=SIZE) as pilot:
        await controllers_loaded(pilot, app)
        await until(pilot, lambda: app.permissions_known(NS), "the permissions in nimify-system")
        await select_pod(pilot, app, "nimify-worker-")
        bindings = app.screen.active_bindings
        assert bindings["a"].binding.id == "scale" and "s" not in bindings
        await pilot.press("s")
        assert isinstance(app.screen, MainScreen), "the default key no longer scales"
        footer = app.screen.query_one(KeyFooter)
        assert [(k.key, k.description) for k in footer.keys if k.description == "Scale"] == [("a", "Scale")]
        assert drawn(footer)[0].rstrip().endswith("f1 Help  ^p palette"), "help stays at the right on its new key"
        commands = {command.title: command.help for command in app.get_system_commands(app.screen)}
        assert commands["Scale"] == "key a"
        screen = await open_action(pilot, app, "a")
        assert screen.title_text == f"Scale deployment {NS}/nimify-worker"
        await pilot.press("escape")
        await pilot.press("f1")
        assert isinstance(app.screen, HelpScreen)
        lines = help_lines(app)
    assert shows(lines, "a", "Scale", "scale") and not shows(lines, "s", "Scale", "scale")
    assert shows(lines, "f1", "Help", "help")


def test_an_unknown_binding_id_in_the_keymap_stops_the_start_with_one_line(tmp_path: Path) -> None:
    config = tmp_path / "nimify-tui" / "config.toml"
    config.parent.mkdir()
    config.write_text('[keymap]\nlogs = "ctrl+l"\nscal = "S"\n')
    env = {**os.environ, "XDG_CONFIG_HOME": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, "-m", "nimify_tui", "--kubeconfig", str(tmp_path / "no-kubeconfig")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env=env,
    )
    assert done.returncode == 2
    assert done.stderr == f"nimify-tui: {config}: unknown key 'keymap.scal'; did you mean 'keymap.scale'?\n"


@pytest.fixture
def deployments_patched_only_in_nimify_system(monkeypatch: pytest.MonkeyPatch) -> list[Obj]:
    """The simulator's admin may patch deployments in nimify-system only, as a RoleBinding there (and no
    ClusterRoleBinding) would allow; the list fills with the attributes of every access review it answers."""
    allowed, access_review = auth.allowed, auth.access_review
    reviews: list[Obj] = []

    def restricted(user: str, request: auth.Request) -> bool:
        if request.verb == "patch" and request.resource == "deployments" and request.namespace != NS:
            return False
        return allowed(user, request)

    def recorded(user: str, body: Obj) -> Obj:
        reviews.append(dict(body["spec"]["resourceAttributes"]))
        return access_review(user, body)

    monkeypatch.setattr(auth, "allowed", restricted)
    monkeypatch.setattr(auth, "access_review", recorded)
    return reviews


async def test_a_remedy_refused_in_one_namespace_is_refused_there_only(
    healthy_sim: SimThread,
    app_factory: Callable[..., NimifyApp],
    deployments_patched_only_in_nimify_system: list[Obj],
) -> None:
    reviews = deployments_patched_only_in_nimify_system
    app = app_factory(healthy_sim)
    watched = app.settings.watched_namespaces
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: all(app.permissions_known(ns) for ns in watched), "the answers for each namespace")
        asked = [tuple(sorted(review.items())) for review in reviews]
        assert len(asked) == len(set(asked)), "each question asked once"
        assert {review["namespace"] for review in reviews if review["resource"] == "deployments"} == set(watched)
        refused = {remedy.id for remedy in REMEDIES if app.remedy_refusal(remedy.id, TRITON_NAMESPACE)}
        assert refused == {remedy.id for remedy in remedies_for("deployment")}
        assert all(app.remedy_refusal(remedy.id, NS) is None for remedy in REMEDIES)
        assert not app.screen.footer_dimmed("remedy('scale')"), "allowed somewhere: not dimmed"

        await pilot.press("colon", *"ns all", "enter")  # the pods of every namespace, as NAMESPACE/NAME
        await controllers_loaded(pilot, app, TRITON_NAMESPACE)
        await select_pod(pilot, app, f"{TRITON_NAMESPACE}/triton-server-")
        await pilot.press("s")
        refusal = "Not available: not allowed: patch deployments.apps/scale in triton-system: no RBAC rule allows it"
        await until(pilot, lambda: notices(app, "Not available"), "the refusal")
        assert notices(app, "Not available") == [refusal]
        assert isinstance(app.screen, MainScreen)
        await select_pod(pilot, app, f"{NS}/nimify-api-")
        screen = await open_action(pilot, app, "s")
        assert screen.title_text == f"Scale deployment {NS}/nimify-api"


async def test_a_namespace_not_watched_is_asked_when_a_remedy_is_pressed(
    healthy_sim: SimThread,
    app_factory: Callable[..., NimifyApp],
    deployments_patched_only_in_nimify_system: list[Obj],
) -> None:
    reviews = deployments_patched_only_in_nimify_system
    app = app_factory(healthy_sim, cli={"namespace": TRITON_NAMESPACE, "watched_namespaces": [TRITON_NAMESPACE]})
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.permissions_known(TRITON_NAMESPACE), "the answers for triton-system")
        assert not app.permissions_known(NS) and not [r for r in reviews if r.get("namespace") == NS]
        app.open_deployment(NS, "nimify-worker")
        await until(pilot, lambda: isinstance(app.screen, DeploymentScreen), "the deployment screen")
        screen = await open_action(pilot, app, "s")
        assert screen.title_text == f"Scale deployment {NS}/nimify-worker"
        assert app.permissions_known(NS) and [r for r in reviews if r.get("namespace") == NS]
        await pilot.press("escape")

        app.open_deployment("ingress-nginx", "nginx-ingress-controller")
        await until(
            pilot,
            lambda: isinstance(app.screen, DeploymentScreen) and app.screen.namespace == "ingress-nginx",
            "the deployment screen of ingress-nginx",
        )
        await pilot.press("s")
        await until(pilot, lambda: notices(app, "Not available"), "the refusal")
        assert notices(app, "Not available") == [
            "Not available: not allowed: patch deployments.apps/scale in ingress-nginx: no RBAC rule allows it"
        ]
        assert isinstance(app.screen, DeploymentScreen)
