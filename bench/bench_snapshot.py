"""Benchmark: ``nimify-tui snapshot`` side by side with the kubectl commands that write the same files.

The simulated cluster runs in its own process (``nimify-tui sim``), in crashloop-oom, once as it is and once with
a 5,000-pod main namespace (``--pods 5000``: load-gen deployments in nimify-system). On each:

  snapshot     ``nimify-tui snapshot --out DIR`` as a fresh process, spawn to exit, triage.json included (its
               triage runs meanwhile in a child forked once the kubeconfig is loaded, and waits for the second poll
               of Triton and the metrics as ``nimify-tui triage`` does: it is written last)
  files        spawn to the moment every file but triage.json is written (the process's start, imports and
               kubeconfig loading, then ``cluster_s`` of its manifest): what kubectl's commands are compared with,
               as no kubectl command writes triage.json
  kubectl      the runbook's commands, one after the other as a person or a script runs them, for the same
               files: ``get all -o wide`` per watched namespace, nodes, PVCs, PVs and ingresses, ``describe pods``
               of the main namespace and of each unhealthy pod elsewhere, ``get events`` sorted by last seen,
               ``logs --tail`` (and ``--previous``) of each container whose logs the snapshot took, and
               ``get --raw`` for each metrics scrape and Triton answer it took (the repository index, a POST,
               is left out: kubectl cannot send it read-only), with a warm discovery cache

Goals: the snapshot's files in under a fifth of kubectl's time, and under 3 s for 5,000 pods. Medians of ``--runs``,
after one unmeasured snapshot that fills a bytecode cache in a temporary folder (``PYTHONPYCACHEPREFIX``): an
installed package has its modules compiled, as kubectl is. The 1-minute load average is printed with each case,
and the CPU time of the snapshot (its triage's included) and of kubectl's commands: on a machine shared with other
work, the wall times follow its load, the CPU times much less.

Usage: python bench/bench_snapshot.py [--runs 3] [--pods 5000] [--scenario crashloop-oom] [--cases scenario,big]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from nimify_tui.config import DEFAULT_WATCHED_NAMESPACES  # noqa: E402
from nimify_tui.sim.process import SimProcess  # noqa: E402

MAIN = "nimify-system"


def environment(kubeconfig: Path, cache: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NIMIFY_TUI_", "KUBECONFIG"))}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(cache / "bytecode")
    env["KUBECONFIG"] = str(kubeconfig)
    env["KUBECACHEDIR"] = str(cache)
    env["XDG_CONFIG_HOME"] = str(cache / "config")  # no user's settings
    return env


def children_cpu() -> float:
    """CPU seconds (user and system) of this process's children that have ended."""
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


def take(env: dict[str, str], out: Path) -> tuple[float, float, float, dict[str, float]]:
    """One snapshot as a fresh process: its wall time, the time from spawn until its cluster files were
    written, its CPU time (its triage's included), and its phases: ``start`` (spawn to the snapshot's first
    request: the interpreter, the imports, the kubeconfig, the first contact, the triage's fork), ``cluster``
    (the files but triage.json), ``triage`` (then waiting for the triage's report), ``exit``."""
    cpu = children_cpu()
    spawned = time.time()
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "nimify_tui", "snapshot", "--out", str(out)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    wall = time.perf_counter() - started
    cpu = children_cpu() - cpu
    if done.returncode != 0:
        raise RuntimeError(f"snapshot failed: {done.stderr}")
    manifest = json.loads((out / "manifest.json").read_text())
    took, cluster = float(manifest["took_s"]), float(manifest["cluster_s"])
    begun = datetime.fromisoformat(str(manifest["time"]).replace("Z", "+00:00")).timestamp() - spawned
    phases = {"start": begun, "cluster": cluster, "triage": took - cluster, "exit": wall - begun - took}
    return wall, wall - took + cluster, cpu, phases


def kubectl_commands(snapshot: Path) -> list[list[str]]:
    """The kubectl commands that write what ``snapshot`` holds."""
    commands: list[list[str]] = []
    namespaces = json.loads((snapshot / "manifest.json").read_text())["namespaces"]
    for ns in namespaces:
        commands.append(["get", "all", "-o", "wide", "-n", ns])
    commands.append(["get", "nodes", "-o", "wide"])
    commands += [["get", "pvc", "-o", "wide", "-n", ns] for ns in namespaces]
    commands.append(["get", "pv", "-o", "wide"])
    commands += [["get", "ingress", "-o", "wide", "-n", ns] for ns in namespaces]
    commands.append(["describe", "pods", "-n", MAIN])
    described: list[tuple[str, str]] = []
    name = ""
    for line in (snapshot / "pods-describe.txt").read_text().splitlines():
        if line.startswith("Name:"):
            name = line.split()[1]
        elif line.startswith("Namespace:") and line.split()[1] != MAIN:
            described.append((line.split()[1], name))
    commands += [["describe", "pod", pod, "-n", ns] for ns, pod in described]
    commands += [["get", "events", "-n", ns, "--sort-by=.lastTimestamp"] for ns in namespaces]
    for log in sorted((snapshot / "logs").rglob("*.log")):
        ns, pod = log.parent.parent.name, log.parent.name
        container = log.name.removesuffix(".log").removesuffix(".previous")
        command = ["logs", pod, "-n", ns, "-c", container, "--tail", "5000", "--timestamps"]
        commands.append([*command, "--previous"] if log.name.endswith(".previous.log") else command)
    ports = {"nimify-api": 9090, "triton": 8002, "dcgm": 9400}
    for scrape in sorted((snapshot / "metrics").rglob("*.prom")):
        label, ns, pod = scrape.parent.parent.name, scrape.parent.name, scrape.name.removesuffix(".prom")
        commands.append(["get", "--raw", f"/api/v1/namespaces/{ns}/pods/{pod}:{ports[label]}/proxy/metrics"])
    for server in json.loads((snapshot / "triton.json").read_text())["servers"]:
        base = f"/api/v1/namespaces/triton-system/pods/{server}:8000/proxy/v2"
        commands += [["get", "--raw", base], ["get", "--raw", f"{base}/models/stats"]]
    return commands


def run_kubectl(binary: str, env: dict[str, str], commands: list[list[str]]) -> tuple[float, float]:
    """The commands one after the other: their wall time and CPU time."""
    cpu = children_cpu()
    started = time.perf_counter()
    for command in commands:
        subprocess.run([binary, *command], env=env, capture_output=True, check=False)
    return time.perf_counter() - started, children_cpu() - cpu


def bench(scenario: str, pods: int, runs: int, binary: str | None) -> dict[str, object]:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        with SimProcess(folder, scenario=scenario, pods=pods) as sim:
            kubeconfig = sim.wait_ready()
            env = environment(kubeconfig, folder / "cache")
            walls, fetches, kubectls, cpus, kubectl_cpus = [], [], [], [], []
            phases: dict[str, list[float]] = {}
            commands: list[list[str]] = []
            take(env, folder / "warm-up")  # the bytecode cache, the simulator's first answers
            for run in range(runs):
                out = folder / f"snap-{run}"
                wall, fetch, cpu, phase = take(env, out)
                for name, seconds in phase.items():
                    phases.setdefault(name, []).append(seconds)
                walls.append(wall)
                fetches.append(fetch)
                cpus.append(cpu)
                if binary is not None:
                    commands = kubectl_commands(out)
                    if run == 0:
                        run_kubectl(binary, env, commands[:1])  # the discovery cache, warm for every run
                    kubectl_wall, kubectl_cpu = run_kubectl(binary, env, commands)
                    kubectls.append(kubectl_wall)
                    kubectl_cpus.append(kubectl_cpu)
    result: dict[str, object] = {
        "case": f"{scenario}, {pods} extra pods",
        "load": os.getloadavg()[0],
        "snapshot_s": statistics.median(walls),
        "files_s": statistics.median(fetches),
        "snapshot_cpu_s": statistics.median(cpus),
        "phases_s": {name: statistics.median(values) for name, values in phases.items()},
        "runs": {"snapshot": walls, "files": fetches, "kubectl": kubectls, "cpu": cpus, "kubectl_cpu": kubectl_cpus},
    }
    if kubectls:
        result["kubectl_s"] = statistics.median(kubectls)
        result["kubectl_cpu_s"] = statistics.median(kubectl_cpus)
        result["kubectl_commands"] = len(commands)
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--pods", type=int, default=5000)
    parser.add_argument("--scenario", default="crashloop-oom")
    parser.add_argument("--cases", default="scenario,big", help="scenario (as it is), big (with --pods), or both")
    args = parser.parse_args()
    binary = shutil.which("kubectl")
    if binary is None:
        print("kubectl is not installed: the snapshot alone is measured")
    print(f"watched namespaces: {', '.join(DEFAULT_WATCHED_NAMESPACES)}")
    cases = {"scenario": 0, "big": args.pods}
    for pods in [cases[name] for name in args.cases.split(",")]:
        result = bench(args.scenario, pods, args.runs, binary)
        line = f"{result['case']} (load {result['load']:.2f}): snapshot {result['snapshot_s']:.2f} s"
        line += f", files {result['files_s']:.2f} s"
        if "kubectl_s" in result:
            kubectl_s = float(result["kubectl_s"])  # type: ignore[arg-type]
            ratio = float(result["files_s"]) / kubectl_s  # type: ignore[arg-type]
            line += f", kubectl {kubectl_s:.2f} s ({result['kubectl_commands']} commands): {ratio:.2f} of it"
            line += " (goal under 0.20: " + ("met)" if ratio < 0.2 else "NOT met)")
        if pods:
            met = float(result["snapshot_s"]) < 3  # type: ignore[arg-type]
            line += " (goal under 3 s, triage.json included: " + ("met)" if met else "NOT met)")
        print(line)
        cpu = f"  CPU: snapshot {result['snapshot_cpu_s']:.2f} s (its triage's included)"
        if "kubectl_cpu_s" in result:
            cpu += f", kubectl {result['kubectl_cpu_s']:.2f} s"
        print(cpu + " (less moved by other work on the machine than the wall times)")
        phases = result["phases_s"]
        assert isinstance(phases, dict)
        print("  phases (medians): " + ", ".join(f"{name} {seconds:.2f} s" for name, seconds in phases.items()))
        print("  runs:", json.dumps(result["runs"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
