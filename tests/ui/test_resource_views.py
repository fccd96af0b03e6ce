"""The `:svc :ep :ing :pvc :pv :netpol` and `:config` views against the simulated cluster: each one's table is what
the real kubectl prints on the same cluster, and its describe says what the outage is about."""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from textual.pilot import Pilot

from nimify_tui.kube.client import KubeClient
from nimify_tui.live.keys import PVC_USAGE
from nimify_tui.live.runtime import RuntimeOptions
from nimify_tui.sim.k8s.kubeconfig import write_kubeconfig
from nimify_tui.sim.server import SimThread
from nimify_tui.ui.app import NimifyApp
from nimify_tui.ui.screens.main import MainScreen
from nimify_tui.ui.screens.resource_text import VOLUMES_PATH, config_map_text, volume_tabs
from nimify_tui.ui.screens.resources import ConfigMapScreen, ResourceScreen
from nimify_tui.ui.widgets.log_view import LogView

from ..sim.conftest import Kubectl
from .conftest import FAST, until

SIZE = (160, 45)
NS = "nimify-system"
MUTATING = {"POST", "PUT", "PATCH", "DELETE"}
WATCHED_KINDS = ("pods", "services", "endpoints", "ingresses", "pvcs", "networkpolicies")


@pytest.fixture(scope="module")
def selector_sim() -> Iterator[SimThread]:
    """Service nimify-api selects none of nimify-api's pods (a label changed by the last rollout)."""
    with SimThread(scenario="service-selector") as sim:
        yield sim


@pytest.fixture
def kubectl(tmp_path: Path) -> Callable[[SimThread], Kubectl]:
    binary = shutil.which("kubectl")
    if binary is None:
        pytest.skip("kubectl is not installed")

    def on(sim: SimThread) -> Kubectl:
        folder = tmp_path / "kubectl"
        return Kubectl(binary, write_kubeconfig(sim, folder / "config"), folder / "cache")

    return on


async def jump(pilot: Pilot[Any], app: NimifyApp, word: str, tab: str = "table") -> str:
    """Open ``:word``'s view from the main screen and return the text of its ``tab`` once loaded."""
    assert isinstance(app.screen, MainScreen)
    await pilot.press("colon", *word, "enter")
    return await shown(pilot, app, tab)


async def shown(pilot: Pilot[Any], app: NimifyApp, tab: str) -> str:
    """The text of the open view's ``tab`` once loaded."""
    area = app.screen.query_one(f"#text-{tab}", LogView)
    return str(await until(pilot, lambda: area.text != "loading…" and area.text, f"the {tab} tab"))


def cells(text: str, header: str) -> list[list[str]]:
    """A kubectl table's rows cut at the columns of ``header`` (cells may be empty, so never split on spaces)."""
    lines = text.splitlines()
    assert lines[0] == header, f"{lines[0]!r} is not kubectl's header"
    starts = [match.start() for match in re.finditer(r"(?:^|(?<=  ))\S", header)]
    return [[line[a:b].strip() for a, b in zip(starts, [*starts[1:], None], strict=True)] for line in lines[1:]]


async def test_each_word_shows_kubectls_table_and_the_outage_in_its_describe(
    selector_sim: SimThread, app_factory: Callable[..., NimifyApp], kubectl: Callable[[SimThread], Kubectl]
) -> None:
    real = kubectl(selector_sim)
    app = app_factory(selector_sim)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.runtime.store.have_loaded(WATCHED_KINDS), "the watches' first lists")
        for word, args in (
            ("svc", ("get", "svc", "-o", "wide")),
            ("ep", ("get", "endpoints")),
            ("pvc", ("get", "pvc")),
        ):
            table = await jump(pilot, app, word)
            assert isinstance(app.screen, ResourceScreen)
            assert table == real.run(*args, "-n", NS).stdout.rstrip("\n"), f":{word} differs from kubectl {args}"
            await pilot.press("escape")

        # the simulator's tables for ingresses, volumes and policies hold NAME and AGE only: the other columns are
        # compared with what kubectl reads from the same objects
        ingress_header = "NAME             CLASS   HOSTS                    ADDRESS            PORTS     AGE"
        (ingress,) = cells(await jump(pilot, app, "ing"), ingress_header)
        await pilot.press("escape")
        (kubectl_ingress,) = [line.split() for line in real.run("get", "ingress", "-n", NS).stdout.splitlines()[1:]]
        assert [ingress[0], ingress[5]] == kubectl_ingress
        spec = real.run(
            "get", "ingress", "-n", NS, "-o", "custom-columns=C:.spec.ingressClassName,H:.spec.rules[*].host,"
            "A:.status.loadBalancer.ingress[*].hostname,T:.spec.tls[*].secretName", "--no-headers",
        ).stdout.split()  # fmt: skip
        assert ingress[1:3] == spec[:2]
        assert ingress[3] == spec[2][:13] + "...", "a hostname over 16 characters is cut as kubectl cuts it"
        assert ingress[4] == "80, 443" and spec[3] != "<none>", "TLS: 443 too"

        pv_header = (
            "NAME                                       CAPACITY   ACCESS MODES   RECLAIM POLICY   STATUS   CLAIM"
            "                         STORAGECLASS   VOLUMEATTRIBUTESCLASS   REASON   AGE"
        )
        (volume,) = cells(await jump(pilot, app, "pv"), pv_header)
        assert "Claim:                  nimify-system/model-storage" in await shown(pilot, app, "describe")
        await pilot.press("escape")
        (kubectl_volume,) = [line.split() for line in real.run("get", "pv").stdout.splitlines()[1:]]
        assert [volume[0], volume[9]] == kubectl_volume
        columns = ".spec.capacity.storage,.spec.persistentVolumeReclaimPolicy,.status.phase,.spec.claimRef.namespace,"
        columns += ".spec.claimRef.name,.spec.storageClassName,.spec.accessModes[*]"
        capacity, policy, phase, claim_ns, claim, storage_class, modes = real.run(
            "get",
            "pv",
            "--no-headers",
            "-o",
            "custom-columns=" + ",".join(f"C{i}:{c}" for i, c in enumerate(columns.split(","))),
        ).stdout.split()
        assert volume[1:9] == [capacity, "RWX", policy, phase, f"{claim_ns}/{claim}", storage_class, "<unset>", ""]
        assert modes == "ReadWriteMany"

        policies = cells(await jump(pilot, app, "netpol"), "NAME                 POD-SELECTOR     AGE")
        kubectl_policies = [line.split() for line in real.run("get", "networkpolicy", "-n", NS).stdout.splitlines()[1:]]
        assert [[row[0], row[2]] for row in policies] == kubectl_policies
        assert policies[0][1] == "app=nimify-api"
        policy = await shown(pilot, app, "describe")
        assert re.search(r"nimify-api pods: +selects 3 of 3\n", policy), policy
        await pilot.press("escape")

        # the outage: the service's selector matches none of the pods, which carry the new label
        service = await jump(pilot, app, "svc", "describe")
        nimify_api = service.split("\n\n")[0]
        assert "Endpoints:              <none>" in nimify_api
        assert "Its selector matches no pod in nimify-system" in nimify_api
        assert len(re.findall(r"nimify-api-\S+  has tier=(?!frontend)\S+", nimify_api)) == 3, nimify_api
        await pilot.press("escape")

        # every watched namespace: kubectl's -A, with its NAMESPACE column
        await pilot.press("colon", *"ns all", "enter")
        assert await jump(pilot, app, "svc") == real.run("get", "svc", "-o", "wide", "-A").stdout.rstrip("\n")
        await pilot.press("escape")
        assert await jump(pilot, app, "endpoints") == real.run("get", "endpoints", "-A").stdout.rstrip("\n")


async def test_the_full_claim_shows_its_volume_use(
    sim_factory: Callable[..., SimThread],
    app_factory: Callable[..., NimifyApp],
    kubectl: Callable[[SimThread], Kubectl],
) -> None:
    sim = sim_factory(scenario="storage-full")
    app = app_factory(sim, options=RuntimeOptions(**{**FAST.__dict__, "pvc_usage_interval": 1.0}))
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.runtime.store.value(PVC_USAGE), "the kubelets' volume stats")
        assert await jump(pilot, app, "pvc") == kubectl(sim).run("get", "pvc", "-n", NS).stdout.rstrip("\n")
        describe = await shown(pilot, app, "describe")
        used = re.search(r"Volume use: +(\d+\.\d)% used: \S+ of 100\.0Gi", describe)
        assert used is not None and float(used.group(1)) >= 99.0, describe
        assert "Measured by:            the kubelet of " in describe


async def test_config_in_a_readonly_session_reads_it_and_sends_nothing_else(
    healthy_sim: SimThread, app_factory: Callable[..., NimifyApp]
) -> None:
    app = app_factory(healthy_sim, cli={"readonly": True})
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.runtime.store.have_loaded(("pods",)), "the pods")
        before = len(healthy_sim.request_log)
        data = await jump(pilot, app, "config", "data")
        assert isinstance(app.screen, ConfigMapScreen)
        assert "read-only session" in data
        assert "data:\n  config.yaml: |\n    server:\n      port: 8000\n" in data
        await pilot.press("e")
        assert isinstance(app.screen, ConfigMapScreen), "no edit dialog in a read-only session"
        assert any(n.message.startswith("Not available: ") for n in app._notifications)
        sent = healthy_sim.request_log[before:]
    assert [r for r in sent if r.path == f"/api/v1/namespaces/{NS}/configmaps/nimify-config"], "one GET"
    assert [f"{r.method} {r.path}" for r in sent if r.method in MUTATING and "accessreview" not in r.path] == []


async def test_an_unknown_word_says_so_and_names_the_words(
    healthy_sim: SimThread, app_factory: Callable[..., NimifyApp]
) -> None:
    app = app_factory(healthy_sim)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("colon", *"svcs", "enter")
        assert isinstance(app.screen, MainScreen)
        (notice,) = [n.message for n in app._notifications]
        assert notice.startswith("Unknown jump 'svcs'") and ":svc :ep :ing :pvc :pv :netpol :config" in notice


def test_volumes_and_config_said_forbidden_or_missing(sim_factory: Callable[..., SimThread], tmp_path: Path) -> None:
    """A user the API server knows but grants nothing gets 403s; a deleted ConfigMap, a 404: each said in words."""
    sim = sim_factory(scenario="healthy")
    sim.server.api.tokens["no-rights-token"] = "sim-nobody"
    nobody = KubeClient.from_kubeconfig(str(token_kubeconfig(sim, "no-rights-token", tmp_path / "nobody")), "nobody")
    tabs, shared = volume_tabs(nobody)
    for _label, load in tabs.values():
        text = load()
        assert text.startswith("These credentials may not list PersistentVolumes"), text
        assert 'User "sim-nobody" cannot list resource "persistentvolumes"' in text
    assert len([r for r in sim.request_log if r.path == VOLUMES_PATH]) == 1, "the two tabs share one GET"
    (read,) = shared
    read.forget()  # what R does
    tabs["table"][1]()
    assert len([r for r in sim.request_log if r.path == VOLUMES_PATH]) == 2, "a reload asks again"
    assert config_map_text(nobody, NS, readonly=False).startswith(
        "These credentials may not read ConfigMap nimify-config in namespace nimify-system (get configmaps)."
    )
    admin = KubeClient.from_kubeconfig(str(write_kubeconfig(sim, tmp_path / "admin")), "sim-admin")
    admin.request("DELETE", f"/api/v1/namespaces/{NS}/configmaps/nimify-config")
    assert config_map_text(admin, NS, readonly=False).startswith(
        "ConfigMap nimify-config does not exist in namespace nimify-system."
    )


def token_kubeconfig(sim: SimThread, token: str, path: Path) -> Path:
    """A kubeconfig whose context "nobody" reaches ``sim`` over plain HTTP with ``token``."""
    document = {
        "apiVersion": "v1",
        "kind": "Config",
        "current-context": "nobody",
        "clusters": [{"name": "sim", "cluster": {"server": sim.url}}],
        "users": [{"name": "nobody", "user": {"token": token}}],
        "contexts": [{"name": "nobody", "context": {"cluster": "sim", "user": "nobody"}}],
    }
    path.write_text(yaml.safe_dump(document))
    return path
