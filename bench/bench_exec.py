"""Benchmark: one in-pod step through the exec client, side by side with ``kubectl exec`` of the same command.

The simulated cluster runs in its own process (``nimify-tui sim``, scenario healthy). Each case runs the runbook's
database check (``psql -h postgres -U nimify -c "SELECT 1;"``) in a nimify-api pod:

  client     ``ExecClient.run`` as the TUI's step does it: a fresh TLS connection, the WebSocket upgrade
             (v5.channel.k8s.io), the command's output and its final Status (one ``asyncio.run`` per call)
  kubectl    ``kubectl exec POD -c nimify-api -- psql ...`` as a fresh process, as a person runs it
  big        ``ExecClient.run`` of ``find /models`` in nimify-api (every file of model-storage) with a 1 KiB output
             limit: the output is cut and the exit code still read from the Status

Medians and the slowest of ``--runs``, after one unmeasured run each; the 1-minute load average is printed with them.

Usage: python bench/bench_exec.py [--runs 20]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from nimify_tui.kube.client import KubeClient  # noqa: E402
from nimify_tui.kube.exec import ExecClient, ExecTarget  # noqa: E402
from nimify_tui.sim.process import SimProcess  # noqa: E402

NS = "nimify-system"
PSQL = ("psql", "-h", "postgres", "-U", "nimify", "-c", "SELECT 1;")


def ready_pod(client: KubeClient, namespace: str, app: str) -> str:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        pods = client.get_json(f"/api/v1/namespaces/{namespace}/pods", {"labelSelector": f"app={app}"})["items"]
        for pod in pods:
            statuses = pod.get("status", {}).get("containerStatuses") or []
            if statuses and all(s.get("ready") for s in statuses):
                return str(pod["metadata"]["name"])
        time.sleep(0.2)
    raise SystemExit(f"no ready {app} pod")


def timed(runs: int, call: Callable[[], object]) -> list[float]:
    call()  # unmeasured: connections, caches
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        call()
        times.append(time.perf_counter() - started)
    return times


def show(name: str, times: list[float]) -> None:
    load = os.getloadavg()[0]
    median, slowest = statistics.median(times) * 1000, max(times) * 1000
    print(f"{name:8} median {median:7.1f} ms  slowest {slowest:7.1f} ms  load {load:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as temp, SimProcess(Path(temp), scenario="healthy") as sim:
        kubeconfig = sim.wait_ready()
        client = KubeClient.from_kubeconfig(str(kubeconfig), "sim-admin")
        api = ready_pod(client, NS, "nimify-api")
        exec_client = ExecClient(client)

        def step() -> None:
            result = exec_client.run(ExecTarget(NS, api, "nimify-api"), PSQL)
            assert result.exit_code == 0 and "(1 row)" in result.stdout, result

        show("client", timed(args.runs, step))
        kubectl = shutil.which("kubectl")
        if kubectl is None:
            print("kubectl  not installed: skipped")
        else:
            env = {**os.environ, "KUBECONFIG": str(kubeconfig), "KUBECACHEDIR": str(Path(temp) / "cache")}
            command = [kubectl, "exec", api, "-n", NS, "-c", "nimify-api", "--", *PSQL]

            def by_kubectl() -> None:
                done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
                assert done.returncode == 0 and "(1 row)" in done.stdout, done.stderr

            show("kubectl", timed(args.runs, by_kubectl))

        def big() -> None:
            result = exec_client.run(ExecTarget(NS, api, "nimify-api"), ("find", "/models"), output_limit=1024)
            assert result.exit_code == 0 and result.truncated, result

        show("big", timed(args.runs, big))


if __name__ == "__main__":
    main()
