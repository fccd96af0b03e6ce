"""`f` on the main screen: the top diagnosis's fix in the guarded dialog, its parameters filled in and its dry run
done, so that `f`, `y` apply it. On each outage of the simulator whose fix has a key, the request the simulator
receives is the fix; read-only sessions are refused with the reason, and a healthy cluster has nothing to fix."""

from __future__ import annotations

import base64
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import Input, Static

from nimify_tui.sim.k8s.api import RequestRecord
from nimify_tui.sim.k8s.layout import API_HOST, TLS_SECRET
from nimify_tui.sim.k8s.tls import expiry, self_signed
from nimify_tui.sim.server import SimThread
from nimify_tui.triage.diagnosis import Fix
from nimify_tui.ui.app import NimifyApp
from nimify_tui.ui.panes.runbook import RunbookPane
from nimify_tui.ui.screens.action import ActionScreen
from nimify_tui.ui.screens.main import MainScreen

from .conftest import drawn, until

SIZE = (160, 45)
MUTATING = {"POST", "PUT", "PATCH", "DELETE"}
SPEED = 10.0  # simulated seconds per second: rollouts and recoveries within a few seconds


@dataclass(frozen=True)
class Outage:
    """A scenario, the fix its top diagnosis offers (in the words the runbook pane shows it), the dialog's fields
    that hold its parameters, the request that applies it, what the simulated cluster holds once it arrived, and
    the fixes still offered once it recovered."""

    scenario: str
    fix: str  # "<action> <namespace>/<kind>/<name>", the parameters after it
    fields: Mapping[str, str | None]  # the dialog's fields holding the fix's values (None: measured, not known)
    method: str
    path: str
    applied: Callable[[Any], bool]  # the world, once the request arrived
    left: tuple[str, ...] = ()  # (): every diagnosis clears


def deployment(world: Any, namespace: str, name: str) -> Any:
    return world.store.get("deployments.apps", namespace, name)


def memory_limit(world: Any) -> str:
    containers = deployment(world, "nimify-system", "nimify-api")["spec"]["template"]["spec"]["containers"]
    api = next(c for c in containers if c["name"] == "nimify-api")
    return str(api["resources"]["limits"]["memory"])


def replicas(world: Any, namespace: str, name: str) -> int:
    return int(deployment(world, namespace, name)["spec"]["replicas"])


def api_image(world: Any) -> str:
    return str(deployment(world, "nimify-system", "nimify-api")["spec"]["template"]["spec"]["containers"][0]["image"])


def api_pod_labels(world: Any) -> dict[str, str]:
    return dict(deployment(world, "nimify-system", "nimify-api")["spec"]["template"]["metadata"]["labels"])


def restarted(world: Any) -> bool:
    template = deployment(world, "ingress-nginx", "nginx-ingress-controller")["spec"]["template"]
    return "kubectl.kubernetes.io/restartedAt" in (template["metadata"].get("annotations") or {})


def config_fixed(world: Any) -> bool:
    """The unknown key taken out of nimify-config, and nimify-api restarted to read it."""
    config = world.store.get("configmaps", "nimify-system", "nimify-config")["data"]["config.yaml"]
    template = deployment(world, "nimify-system", "nimify-api")["spec"]["template"]
    stamped = "kubectl.kubernetes.io/restartedAt" in (template["metadata"].get("annotations") or {})
    return "max_batch_sise" not in config and "  timeout_s: 5\n" in config and stamped


def claim_size(world: Any) -> str:
    claim = world.store.get("persistentvolumeclaims", "nimify-system", "model-storage")
    return str(claim["spec"]["resources"]["requests"]["storage"])


APPS = "/apis/apps/v1/namespaces"
OUTAGES = (
    Outage(
        "crashloop-oom",
        "set-resources nimify-system/deployment/nimify-api container=nimify-api limits.memory=2Gi",
        {"container": "nimify-api", "limits.memory": "2Gi"},
        "PATCH",
        f"{APPS}/nimify-system/deployments/nimify-api",
        lambda world: memory_limit(world) == "2Gi",
    ),
    Outage(
        "bad-rollout",
        "rollout-undo nimify-system/deployment/nimify-api revision=3",
        {"to_revision": "3"},
        "PATCH",
        f"{APPS}/nimify-system/deployments/nimify-api",
        lambda world: not api_image(world).endswith(":1.9.0"),
    ),
    Outage(
        "resource-exhaustion",
        "scale nimify-system/deployment/nimify-worker replicas=1",
        {"replicas": "1"},
        "PATCH",
        f"{APPS}/nimify-system/deployments/nimify-worker/scale",
        lambda world: replicas(world, "nimify-system", "nimify-worker") == 1,
    ),
    Outage(
        "storage-full",
        "expand-pvc nimify-system/persistentvolumeclaim/model-storage storage=200Gi",
        {"storage": "200Gi"},
        "PATCH",
        "/api/v1/namespaces/nimify-system/persistentvolumeclaims/model-storage",
        lambda world: claim_size(world) == "200Gi",
    ),
    Outage(
        "ingress-broken",
        "rollout-restart ingress-nginx/deployment/nginx-ingress-controller",
        {},
        "PATCH",
        f"{APPS}/ingress-nginx/deployments/nginx-ingress-controller",
        restarted,
    ),
    Outage(
        "triton-down",
        "load-model triton-system/model/nimify-model",
        {"model": "nimify-model"},
        "POST",
        "/proxy/v2/repository/models/nimify-model/load",
        lambda world: world.triton.is_ready(),
    ),
    Outage(
        "gpu-xid",
        "scale triton-system/deployment/triton-server replicas=7",
        {"replicas": "7"},
        "PATCH",
        f"{APPS}/triton-system/deployments/triton-server/scale",
        lambda world: replicas(world, "triton-system", "triton-server") == 7,
        left=("cordon node/gpu-node-2",),  # the GPU is still lost: the node is to be cordoned (C) and drained
    ),
    Outage(
        "latency-spike",
        "scale triton-system/deployment/triton-server replicas=",
        {"replicas": None},
        "PATCH",
        f"{APPS}/triton-system/deployments/triton-server/scale",
        lambda world: replicas(world, "triton-system", "triton-server") > 2,
    ),
    Outage(
        "image-pull",
        "rollout-undo nimify-system/deployment/nimify-api revision=3",
        {"to_revision": "3"},
        "PATCH",
        f"{APPS}/nimify-system/deployments/nimify-api",
        lambda world: not api_image(world).endswith(":1.9.1"),
    ),
    Outage(
        "database-down",
        "scale nimify-system/deployment/postgres replicas=1",
        {"replicas": "1"},
        "PATCH",
        f"{APPS}/nimify-system/deployments/postgres/scale",
        lambda world: replicas(world, "nimify-system", "postgres") == 1,
    ),
    Outage(
        "service-selector",
        "rollout-undo nimify-system/deployment/nimify-api revision=3",
        {"to_revision": "3"},
        "PATCH",
        f"{APPS}/nimify-system/deployments/nimify-api",
        lambda world: api_pod_labels(world).get("tier") == "frontend",
    ),
    Outage(
        "config-error",
        "edit-config nimify-system/configmap/nimify-config remove-key=triton.max_batch_sise restart=nimify-api",
        {},
        "PUT",
        "/api/v1/namespaces/nimify-system/configmaps/nimify-config",
        config_fixed,
    ),
    Outage(
        "node-not-ready",
        "cordon node/cpu-node-2",
        {},
        "PATCH",
        "/api/v1/nodes/cpu-node-2",
        lambda world: bool(world.store.get("nodes", "", "cpu-node-2")["spec"].get("unschedulable")),
        # the node is cordoned but still lost: the diagnosis stays, with no fix a key applies (drain it)
        left=("",),
    ),
)


def pane_text(app: NimifyApp) -> str:
    return "\n".join(drawn(app.screen.query_one(RunbookPane)))


def fix_words(fix: Fix | None) -> str:
    if fix is None:
        return ""
    return " ".join([fix.action, fix.target, *(f"{k}={v}" for k, v in fix.parameters.items())])


def sent(records: list[RequestRecord], outage: Outage) -> list[RequestRecord]:
    """The real calls (not dry runs) of the outage's method to its path."""
    return [
        r
        for r in records
        if r.method == outage.method and r.path.endswith(outage.path) and r.query.get("dryRun") != "All"
    ]


async def open_fix(pilot: Pilot[Any], app: NimifyApp, key: str = "f") -> ActionScreen:
    """Press the fix's key and wait for the dialog's dry-run diff."""
    await pilot.press(key)
    screen: ActionScreen = await until(pilot, lambda: isinstance(app.screen, ActionScreen) and app.screen, "dialog")
    await until(pilot, lambda: screen.state in ("confirming", "refused"), "the dry run's diff", timeout_s=15)
    return screen


@pytest.mark.parametrize("outage", OUTAGES, ids=[o.scenario for o in OUTAGES])
async def test_f_then_y_applies_the_top_diagnosis_fix(
    outage: Outage, sim_factory: Callable[..., SimThread], app_factory: Callable[..., NimifyApp]
) -> None:
    sim = sim_factory(scenario=outage.scenario, speed=SPEED)
    app = app_factory(sim)
    async with app.run_test(size=SIZE) as pilot:
        shown = await until(
            pilot,
            lambda: f"f: {outage.fix}" in pane_text(app) and pane_text(app),
            f"the runbook pane offering {outage.fix}",
        )
        top = app.diagnoses[0]
        assert f"▶ {top.cause}"[:60] in shown, "the top diagnosis first"
        assert fix_words(top.fix).startswith(outage.fix)
        screen = await open_fix(pilot, app)
        assert screen.state == "confirming", "dry run done at open"
        fields = dict(screen._fields)
        for name, wanted in outage.fields.items():
            shown = getattr(fields[name], "value", None)
            assert shown == wanted if wanted is not None else str(shown).isdigit(), (name, shown)
        assert "(no change)" not in str(screen.query_one("#action-diff-text", Static).content)
        if outage.method == "PATCH":  # Triton has no dry run
            assert [r for r in sim.request_log if r.path.endswith(outage.path) and r.query.get("dryRun") == "All"]
        assert not sent(sim.request_log, outage), "nothing applied before y"
        await pilot.press("y")
        await until(pilot, lambda: screen.state == "done", "the real call", timeout_s=15)
        (request,) = sent(sim.request_log, outage)
        assert request.status < 300
        assert sim.call(outage.applied), "the simulated cluster holds the fix"
        await pilot.press("escape")
        assert isinstance(app.screen, MainScreen)
        await until(
            pilot,
            lambda: tuple(fix_words(d.fix) for d in app.diagnoses) == outage.left,
            "the diagnosis cleared",
            timeout_s=30,
        )


async def test_readonly_f_says_why_and_sends_nothing(
    sim_factory: Callable[..., SimThread], app_factory: Callable[..., NimifyApp]
) -> None:
    sim = sim_factory(scenario="crashloop-oom", speed=SPEED)
    app = app_factory(sim, cli={"readonly": True})
    before = len(sim.request_log)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: "fix (not here: read-only): set-resources" in pane_text(app), "the diagnosis")
        await pilot.press("f")
        assert isinstance(app.screen, MainScreen), "no dialog"
        notices = [n.message for n in app._notifications]
        assert any(m.startswith("Not available: ") and "read-only" in m for m in notices), notices
    assert [r for r in sim.request_log[before:] if r.method in MUTATING] == []


async def test_f_on_a_healthy_cluster_says_there_is_nothing_to_fix(
    healthy_sim: SimThread, app_factory: Callable[..., NimifyApp]
) -> None:
    app = app_factory(healthy_sim)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: "runbook checks pass" in pane_text(app), "the checks")
        assert app.diagnoses == ()
        await pilot.press("f")
        assert isinstance(app.screen, MainScreen)
        assert [n.message for n in app._notifications] == ["Nothing to fix: there is no diagnosis."]


async def test_the_keymap_rebinds_f_and_the_pane_names_the_key_in_effect(
    sim_factory: Callable[..., SimThread], app_factory: Callable[..., NimifyApp]
) -> None:
    sim = sim_factory(scenario="crashloop-oom", speed=SPEED)
    app = app_factory(sim, config_toml='[keymap]\nfix = "F"\n')
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: "F: set-resources" in pane_text(app), "the fix named with its key")
        await pilot.press("f")
        assert isinstance(app.screen, MainScreen), "f is no longer the key"
        screen = await open_fix(pilot, app, "F")
        assert screen.state == "confirming"
        await pilot.press("escape")
    crashloop = next(outage for outage in OUTAGES if outage.scenario == "crashloop-oom")
    assert not sent(sim.request_log, crashloop), "cancelled: nothing applied"


def break_the_config_yaml(world: Any) -> None:
    """nimify-config's file made unparseable (no key to take out: the person edits it), and nimify-api's pods
    deleted so that they read it."""
    configmap = world.store.get("configmaps", "nimify-system", "nimify-config")
    text = configmap["data"]["config.yaml"].replace("triton:\n", "triton:\n  url: [unclosed\n", 1)
    world.store.put("configmaps", {**configmap, "data": {**configmap["data"], "config.yaml": text}})
    for run in world.kubelet.app_runs("nimify-system", "nimify-api"):
        world.delete_pod(run.namespace, run.name, None)


async def test_f_on_a_config_that_does_not_parse_opens_it_to_edit_by_hand(
    sim_factory: Callable[..., SimThread], app_factory: Callable[..., NimifyApp]
) -> None:
    sim = sim_factory(speed=SPEED)
    sim.call(break_the_config_yaml)
    app = app_factory(sim)
    async with app.run_test(size=SIZE) as pilot:
        fix = "f: edit-config nimify-system/configmap/nimify-config"
        await until(pilot, lambda: fix in pane_text(app) and "not valid YAML" in pane_text(app), "the config named")
        assert "remove-key" not in pane_text(app), "nothing to take out: the value is wrong"
        await pilot.press("f")
        screen: ActionScreen = await until(pilot, lambda: isinstance(app.screen, ActionScreen) and app.screen, "dialog")
        await until(pilot, lambda: screen.state == "editing", "the config's data to edit", timeout_s=15)
        assert [name for name, _field in screen._fields] == ["data"]
        assert "url: [unclosed" in getattr(dict(screen._fields)["data"], "text", "")
        notices = [n.message for n in app._notifications]
        assert "Edit nimify-system/configmap/nimify-config, then ctrl+r for the dry run." in notices, notices
        await pilot.press("escape")
    assert not [r for r in sim.request_log if r.method in MUTATING and r.path.endswith("/configmaps/nimify-config")]


def deny_all_ingress(world: Any) -> None:
    """The network policy in front of nimify-api emptied: it selects the pods and lets nothing in."""
    policy = world.store.get("networkpolicies.networking.k8s.io", "nimify-system", "nimify-api-ingress")
    world.store.put("networkpolicies.networking.k8s.io", {**policy, "spec": {**policy["spec"], "ingress": []}})


async def test_f_says_why_when_the_diagnosis_has_no_fix_to_apply(
    sim_factory: Callable[..., SimThread], app_factory: Callable[..., NimifyApp]
) -> None:
    sim = sim_factory(speed=SPEED)
    sim.call(deny_all_ingress)
    app = app_factory(sim)
    async with app.run_test(size=SIZE) as pilot:
        line = "no fix offered: the cause is not certain, or no key here applies it"
        await until(pilot, lambda: line in pane_text(app), f"the pane saying {line!r}")
        await pilot.press("f")
        assert isinstance(app.screen, MainScreen), "no dialog"
        notice = (
            "No fix offered (the cause is not certain, or no key here applies it): network policy nimify-api-ingress"
        )
        assert [n.message for n in app._notifications if n.message.startswith(notice)]


def renewed_certificate(folder: Path, host: str = API_HOST, days: float = 90.0) -> tuple[Path, Path]:
    """A certificate for ``host`` valid from a minute ago for ``days``, and its key, written as PEM files."""
    now = time.time()
    cert, key = self_signed(host, now - 60, now + days * 86400)
    (folder / "tls.crt").write_bytes(cert)
    (folder / "tls.key").write_bytes(key)
    return folder / "tls.crt", folder / "tls.key"


def serves_until(world: Any) -> float | None:
    secret = world.store.get("secrets", "nimify-system", TLS_SECRET)
    return expiry(base64.b64decode(secret["data"]["tls.crt"]))


async def test_f_on_an_expired_certificate_asks_for_the_renewed_files_then_y_puts_them_in_the_secret(
    sim_factory: Callable[..., SimThread], app_factory: Callable[..., NimifyApp], tmp_path: Path
) -> None:
    sim = sim_factory(scenario="tls-expired", speed=SPEED)
    app = app_factory(sim)
    cert, key = renewed_certificate(tmp_path)
    (tmp_path / "other").mkdir()
    _, other_key = renewed_certificate(tmp_path / "other")
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: f"f: replace-tls nimify-system/secret/{TLS_SECRET}" in pane_text(app), "the fix")
        await pilot.press("f")
        screen: ActionScreen = await until(pilot, lambda: isinstance(app.screen, ActionScreen) and app.screen, "dialog")
        await until(pilot, lambda: screen.state == "editing", "the files to name", timeout_s=15)
        fields = dict(screen._fields)
        assert list(fields) == ["cert", "key"]
        notices = [n.message for n in app._notifications]
        assert "Give the renewed certificate's files (cert, key), then ctrl+r for the dry run." in notices
        # a key that is not the certificate's is refused before anything is sent
        fields["cert"].value, fields["key"].value = str(cert), str(other_key)  # type: ignore[attr-defined]
        await pilot.press("ctrl+r")
        await until(pilot, lambda: "the key does not belong to the certificate" in screen_text(screen), "refusal")
        assert not patched(sim)
        fields["key"].value = str(key)  # type: ignore[attr-defined]
        await pilot.press("ctrl+r")
        await until(pilot, lambda: screen.state == "confirming", "the dry run", timeout_s=15)
        diff = str(screen.query_one("#action-diff-text", Static).content)
        assert "tls.key: (not shown) -> (replaced, not shown)" in diff, diff
        assert "BEGIN" not in diff and "PRIVATE" not in diff
        await pilot.press("y")
        await until(pilot, lambda: screen.state == "done", "the real call", timeout_s=15)
        assert len(patched(sim)) == 1
        assert sim.call(serves_until) > time.time() + 80 * 86400
        await pilot.press("escape")
        await until(pilot, lambda: app.diagnoses == (), "the diagnosis cleared", timeout_s=30)


def patched(sim: SimThread) -> list[RequestRecord]:
    return [
        r
        for r in sim.request_log
        if r.method == "PATCH" and r.path.endswith(f"/secrets/{TLS_SECRET}") and r.query.get("dryRun") != "All"
    ]


def screen_text(screen: ActionScreen) -> str:
    return str(screen.query_one("#action-status", Static).content)


async def test_on_a_production_context_f_still_asks_for_the_name(
    sim_factory: Callable[..., SimThread], app_factory: Callable[..., NimifyApp]
) -> None:
    outage = next(outage for outage in OUTAGES if outage.scenario == "resource-exhaustion")
    sim = sim_factory(scenario=outage.scenario, speed=SPEED)
    app = app_factory(sim, config_toml='[contexts."sim-admin"]\nproduction = true\n')
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: f"f: {outage.fix}" in pane_text(app), "the fix")
        screen = await open_fix(pilot, app)
        assert screen.query_one("#action-typed", Input).has_class("-shown")
        await pilot.press("y")  # typed into the name field: not a confirmation here
        assert screen.state == "confirming" and not sent(sim.request_log, outage)
        await pilot.press("backspace", *"nimify-worker", "enter")
        await until(pilot, lambda: screen.state == "done", "the real call", timeout_s=15)
        assert len(sent(sim.request_log, outage)) == 1


async def test_with_the_renewed_files_where_kubectl_reads_them_f_y_replaces_the_certificate(
    sim_factory: Callable[..., SimThread],
    app_factory: Callable[..., NimifyApp],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sim = sim_factory(scenario="tls-expired", speed=SPEED)
    app = app_factory(sim)
    renewed_certificate(tmp_path)  # tls.crt and tls.key, the names `kubectl create secret tls` is given
    monkeypatch.chdir(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: f"f: replace-tls nimify-system/secret/{TLS_SECRET}" in pane_text(app), "the fix")
        screen = await open_fix(pilot, app)
        assert screen.state == "confirming", "the files found and checked: the dry run done at open"
        assert dict(screen._fields)["cert"].value == str(tmp_path / "tls.crt")  # type: ignore[attr-defined]
        await pilot.press("y")
        await until(pilot, lambda: screen.state == "done", "the real call", timeout_s=15)
        assert len(patched(sim)) == 1
        assert sim.call(serves_until) > time.time() + 80 * 86400
