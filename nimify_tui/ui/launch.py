"""From parsed command-line arguments to a running TUI (on a real cluster or on the embedded simulator)."""

from __future__ import annotations

import argparse
import gc
import os
import sys
import tempfile
from contextlib import ExitStack
from pathlib import Path

from nimify_tui.kube.client import KubeClient, KubeConfigError


def preload_while_waiting() -> None:
    """Import the app (most of a cold start) while the simulated cluster starts; its kubeconfig is a static one,
    read without the Kubernetes client's loader."""
    import nimify_tui.ui.app  # noqa: F401


def run_tui(args: argparse.Namespace, *, demo: bool) -> int:
    # The cyclic garbage collector runs again and again while hundreds of modules are imported and the first
    # lists decoded (about 0.3 s of a 1.5 s start); the main screen freezes what is there and enables it again
    # once its first data is in (MainScreen._stop_first_loads).
    gc.disable()
    from nimify_tui.config import ConfigError, load_settings

    cli: dict[str, object] = {
        "kubeconfig": args.kubeconfig,
        "context": args.context,
        "namespace": args.namespace,
        "readonly": True if args.readonly else None,
        "record_dir": args.record,
        "prometheus_url": args.prometheus_url,
        "triton_url": args.triton_url,
    }
    try:
        settings = load_settings(cli, os.environ, None)
        if settings.keymap.keys:
            from nimify_tui.ui.screens.help import binding_ids

            settings.keymap.check_ids(binding_ids())
    except ConfigError as exc:
        print(f"nimify-tui: {exc}", file=sys.stderr)
        return 2
    with ExitStack() as stack:
        kubeconfig = str(settings.kubeconfig) if settings.kubeconfig else None
        context = settings.context
        if demo:
            from nimify_tui.sim.process import SimProcess, SimStartError

            folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="nimify-demo-")))
            sim = stack.enter_context(
                SimProcess(
                    folder,
                    scenario=args.scenario,
                    pods=args.pods,
                    event_rate=args.event_rate,
                    namespaces=args.namespaces,
                    log_rate=args.log_rate,
                )
            )
            preload_while_waiting()
            try:
                kubeconfig = str(sim.wait_ready())
            except SimStartError as exc:
                print(f"nimify-tui demo: the simulated cluster did not start: {exc}", file=sys.stderr)
                return 1
            context = "sim-admin"
        policy = settings.context_policy(context or "")
        try:
            client = KubeClient.from_kubeconfig(
                kubeconfig, context, namespace=settings.namespace, readonly=policy.readonly
            )
        except KubeConfigError as exc:
            print(f"nimify-tui: {exc}", file=sys.stderr)
            return 2
        if not demo:
            from nimify_tui.kube.first_contact import refusal

            refused = refusal(client)  # credentials or certificate: said before the screen is taken
            if refused is not None:
                print(f"nimify-tui: {refused}", file=sys.stderr)
                return 2
        policy = settings.context_policy(client.identity.context)
        client.readonly = policy.readonly
        from nimify_tui.ui.app import NimifyApp

        app = NimifyApp(client, settings, policy=policy, scenario=args.scenario if demo else None)
        app.run()
        return app.return_code or 0
