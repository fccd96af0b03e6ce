"""The real TUI against a simulated cluster, driven with Textual's Pilot."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from textual.geometry import Region
from textual.pilot import Pilot
from textual.widget import Widget

from nimify_tui.config import load_settings
from nimify_tui.kube.client import KubeClient
from nimify_tui.live.keys import DEPLOYMENTS, REPLICASETS
from nimify_tui.live.runtime import RuntimeOptions
from nimify_tui.sim.k8s.kubeconfig import write_kubeconfig
from nimify_tui.sim.server import SimThread
from nimify_tui.ui.app import NimifyApp

FAST = RuntimeOptions(probe_interval=0.5, triton_interval=0.5, scrape_interval=0.5, metrics_api_interval=1.0)


def make_app(
    sim: SimThread,
    folder: Path,
    *,
    context: str = "sim-admin",
    record: bool = False,
    cli: dict[str, object] | None = None,
    options: RuntimeOptions | None = None,
    config_toml: str | None = None,
) -> NimifyApp:
    kubeconfig = folder / "kubeconfig"
    if not kubeconfig.exists():
        write_kubeconfig(sim, kubeconfig)
    config_path = None
    if config_toml is not None:
        config_path = folder / "config.toml"
        config_path.write_text(config_toml)
    settings = load_settings({"record_dir": folder / "journal", **(cli or {})}, {}, config_path)
    policy = settings.context_policy(context)
    client = KubeClient.from_kubeconfig(str(kubeconfig), context, readonly=policy.readonly)
    return NimifyApp(
        client,
        settings,
        policy=policy,
        scenario=None,
        runtime_options=options or RuntimeOptions(**{**FAST.__dict__}),
        record_journal=record,
    )


def drawn(widget: Widget) -> list[str]:
    """The lines the widget draws now, as text (border and padding included)."""
    width, height = widget.region.size
    return [strip.text for strip in widget.render_lines(Region(0, 0, width, height))]


async def until(pilot: Pilot[Any], condition: Callable[[], Any], what: str, timeout_s: float = 20.0) -> Any:
    """Let the app run until ``condition()`` is truthy; fail naming ``what`` after the deadline."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"still waiting for {what} after {timeout_s:g}s (last: {value!r})")
        await pilot.pause(0.1)


async def controllers_loaded(pilot: Pilot[Any], app: NimifyApp, namespace: str = "nimify-system") -> None:
    """The namespace's ReplicaSets and Deployments are in (each list arrives whole): a pod's deployment is found
    (pod -> ReplicaSet -> Deployment), so a deployment's key on a selected pod opens its dialog."""
    store = app.runtime.store
    await until(
        pilot,
        lambda: (
            any(r.namespace == namespace for r in store.items(REPLICASETS))
            and any(d.namespace == namespace for d in store.items(DEPLOYMENTS))
        ),
        f"{namespace}'s replicasets and deployments (pod -> deployment)",
    )


@pytest.fixture
def app_factory(tmp_path: Path) -> Callable[..., NimifyApp]:
    def build(sim: SimThread, **options: Any) -> NimifyApp:
        return make_app(sim, tmp_path, **options)

    return build
