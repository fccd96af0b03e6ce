"""`nimify-tui snapshot`: the runbook's documentation of an outage, taken from the simulator by the command itself
and checked from outside (the files, their manifest, the real kubectl's columns, and no credential anywhere)."""

from __future__ import annotations

import base64
import hashlib
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import pytest
import yaml

from nimify_tui.sim.k8s.kubeconfig import kubeconfig, write_kubeconfig
from nimify_tui.sim.server import SimThread
from tests.test_triage_command import command_env, mutations

NS = "nimify-system"
CANARY = "canary-9f3c2e1d7b5a"


def run_snapshot(*args: str, config_home: Path, timeout_s: float = 90) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "nimify_tui", *args],
        capture_output=True,
        text=True,
        timeout=timeout_s,
        check=False,
        env=command_env(config_home),
    )


def wait_for_crash_loop(sim: SimThread, wait_for: Callable[..., Any]) -> None:
    """Until every nimify-api pod has restarted once (so that a previous container's log exists)."""

    def restarted(world: Any) -> bool:
        pods = [p for p in world.store.list("pods") if p["metadata"]["name"].startswith("nimify-api-")]
        counts = [s.get("restartCount", 0) for p in pods for s in p.get("status", {}).get("containerStatuses", [])]
        return bool(counts) and all(counts)

    wait_for(lambda: sim.call(restarted), "every nimify-api container to have restarted")


def section(state: str, command: str) -> list[str]:
    """The lines of one ``# command`` section of state.txt."""
    lines = state.splitlines()
    start = lines.index(f"# {command}") + 1
    end = next((i for i in range(start, len(lines)) if lines[i].startswith("# ")), len(lines))
    return lines[start:end]


def table(lines: list[str], prefix: str) -> tuple[list[str], list[list[str]]]:
    """The block whose names start with ``prefix/``: header and rows split on runs of 2+ spaces, names bare."""
    blocks: list[list[str]] = [[]]
    for line in lines:
        if line:
            blocks[-1].append(line)
        else:
            blocks.append([])
    block = next(b for b in blocks if len(b) > 1 and b[1].startswith(prefix + "/"))
    header = re.split(r"\s{2,}", block[0].strip())
    rows = [re.split(r"\s{2,}", line.strip()) for line in block[1:]]
    return header, [[row[0].removeprefix(prefix + "/"), *row[1:]] for row in rows]


def test_a_crash_loop_is_documented_read_only(
    sim_factory: Callable[..., SimThread], tmp_path: Path, wait_for: Callable[..., Any]
) -> None:
    sim = sim_factory(scenario="crashloop-oom")
    wait_for_crash_loop(sim, wait_for)
    path = write_kubeconfig(sim, tmp_path / "kubeconfig")
    out = tmp_path / "snap"
    result = run_snapshot("snapshot", "--kubeconfig", str(path), "--out", str(out), config_home=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"{out}: "), result.stdout
    for name in ("state.txt", "pods-describe.txt", "events.txt", "triton.json", "triage.json", "manifest.json"):
        assert (out / name).is_file(), name
    describe = (out / "pods-describe.txt").read_text()
    assert describe.count("Reason:             OOMKilled") >= 3, "each nimify-api pod's last termination"
    previous = sorted((out / "logs" / NS).glob("nimify-api-*/nimify-api.previous.log"))
    assert len(previous) == 3
    assert all(p.read_text().strip() for p in previous), "the previous containers' lines"
    assert (out / "triage.json").read_bytes() and orjson.loads((out / "triage.json").read_bytes())["state"] == "DOWN"
    triton = orjson.loads((out / "triton.json").read_bytes())
    assert triton["servers"] and all(s["stats"]["model_stats"] for s in triton["servers"].values())
    assert list((out / "metrics" / "triton" / "triton-system").glob("triton-server-*.prom")), "Triton's scrape"
    events = (out / "events.txt").read_text().splitlines()
    assert events[0].split() == ["NAMESPACE", "LAST", "SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"]
    manifest = orjson.loads((out / "manifest.json").read_bytes())
    assert manifest["context"] == "sim-admin"
    listed = {entry["path"]: entry for entry in manifest["files"]}
    on_disk = {str(p.relative_to(out)) for p in out.rglob("*") if p.is_file()} - {"manifest.json"}
    assert set(listed) == on_disk
    for name, entry in listed.items():
        data = (out / name).read_bytes()
        assert entry["size"] == len(data) and entry["sha256"] == hashlib.sha256(data).hexdigest(), name
    assert mutations(sim) == [], "a snapshot changes nothing"


@pytest.mark.kubectl
def test_state_has_the_real_kubectls_columns(
    sim_factory: Callable[..., SimThread], tmp_path: Path, kubectl_for: Callable[[Any], Any]
) -> None:
    sim = sim_factory(scenario="crashloop-oom")
    path = write_kubeconfig(sim, tmp_path / "kubeconfig")
    out = tmp_path / "snap"
    result = run_snapshot("snapshot", "--kubeconfig", str(path), "--out", str(out), config_home=tmp_path)
    assert result.returncode == 0, result.stderr
    kubectl = kubectl_for(sim)
    state = (out / "state.txt").read_text()
    wanted = [
        (f"kubectl get all -o wide -n {NS}", "pod", ("get", "pods", "-o", "wide", "-n", NS)),
        (f"kubectl get all -o wide -n {NS}", "deployment.apps", ("get", "deployments", "-o", "wide", "-n", NS)),
        (f"kubectl get all -o wide -n {NS}", "service", ("get", "services", "-o", "wide", "-n", NS)),
        ("kubectl get nodes -o wide", "node", ("get", "nodes", "-o", "wide")),
    ]
    for command, prefix, args in wanted:
        ours_header, ours = table(section(state, command), prefix) if prefix != "node" else _plain(state, command)
        lines = kubectl.run(*args).stdout.splitlines()
        theirs_header = re.split(r"\s{2,}", lines[0].strip())
        theirs = [re.split(r"\s{2,}", line.strip()) for line in lines[1:]]
        assert ours_header == theirs_header, prefix
        assert [row[0] for row in ours] == [row[0] for row in theirs], prefix
        age = theirs_header.index("AGE")
        for mine, real in zip(ours, theirs, strict=True):
            # the restarts' "(12s ago)" and the ages move with the seconds between the two
            keep = [i for i, name in enumerate(theirs_header) if i != age and name != "RESTARTS"]
            assert [mine[i] for i in keep] == [real[i] for i in keep], (prefix, mine, real)


def _plain(state: str, command: str) -> tuple[list[str], list[list[str]]]:
    lines = [line for line in section(state, command) if line]
    return re.split(r"\s{2,}", lines[0].strip()), [re.split(r"\s{2,}", line.strip()) for line in lines[1:]]


def test_no_credential_reaches_a_snapshot_file(
    sim_factory: Callable[..., SimThread], tmp_path: Path, wait_for: Callable[..., Any]
) -> None:
    sim = sim_factory(scenario="crashloop-oom")

    def plant(world: Any) -> None:
        encoded = base64.b64encode(CANARY.encode()).decode()
        world.store.put(
            "secrets",
            {
                "apiVersion": "v1",
                "kind": "Secret",
                "metadata": {"name": "canary", "namespace": NS},
                "type": "Opaque",
                "data": {"token": encoded},
            },
        )
        pod = next(p for p in world.store.list("pods") if p["metadata"]["name"].startswith("nimify-worker-"))
        from_secret = {"name": "HF_AUTH", "valueFrom": {"secretKeyRef": {"name": "canary", "key": "token"}}}
        containers = [
            {**c, "env": [*c.get("env", []), {"name": "API_TOKEN", "value": CANARY}, from_secret]}
            for c in pod["spec"]["containers"]
        ]
        world.store.put("pods", {**pod, "spec": {**pod["spec"], "containers": containers}})

    sim.call(plant)
    config = kubeconfig(sim)
    config["users"].append({"name": "spare", "user": {"token": CANARY + "-kube"}})
    path = tmp_path / "kubeconfig"
    path.write_text(yaml.safe_dump(config))
    real_token = next(u["user"]["token"] for u in config["users"] if u["user"].get("token") and u["name"] != "spare")
    out = tmp_path / "snap"
    result = run_snapshot("snapshot", "--kubeconfig", str(path), "--out", str(out), config_home=tmp_path)
    assert result.returncode == 0, result.stderr
    describe = (out / "pods-describe.txt").read_text()
    assert "API_TOKEN: <redacted>" in describe, "the planted variable is described, its value not"
    assert "HF_AUTH:" in describe and "<set to the key 'token' in secret 'canary'>" in describe, "as a reference"
    files = [p for p in out.rglob("*") if p.is_file()]
    assert len(files) > 8
    for file in files:
        data = file.read_bytes()
        for secret in (CANARY, real_token):
            assert secret.encode() not in data, f"{secret} in {file}"
            assert base64.b64encode(secret.encode()) not in data, f"{secret} (base64) in {file}"


def test_logs_are_bounded_per_container_and_the_default_folder_is_an_incident_one(
    sim_factory: Callable[..., SimThread], tmp_path: Path, wait_for: Callable[..., Any]
) -> None:
    sim = sim_factory(scenario="crashloop-oom")
    wait_for_crash_loop(sim, wait_for)
    path = write_kubeconfig(sim, tmp_path / "kubeconfig")
    result = subprocess.run(
        [sys.executable, "-m", "nimify_tui", "snapshot", "--kubeconfig", str(path), "--log-lines", "2"],
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
        env=command_env(tmp_path),
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    (folder,) = tmp_path.glob("incident-*")
    assert re.fullmatch(r"incident-\d{8}-\d{4}", folder.name), folder.name
    logs = list((folder / "logs").rglob("*.log"))
    assert logs and any(log.name.endswith(".previous.log") for log in logs)
    assert all(0 < len(log.read_text().splitlines()) <= 2 for log in logs), [log.read_text() for log in logs]
    assert orjson.loads((folder / "manifest.json").read_bytes())["log_lines"] == 2


def test_a_missing_kubeconfig_exits_2_with_one_line_and_writes_nothing(tmp_path: Path) -> None:
    missing = tmp_path / "missing"
    result = run_snapshot(
        "snapshot", "--kubeconfig", str(missing), "--out", str(tmp_path / "snap"), config_home=tmp_path
    )
    assert result.returncode == 2, result
    assert result.stderr.startswith("nimify-tui snapshot: ") and result.stderr.count("\n") == 1, result.stderr
    assert not (tmp_path / "snap").exists()


def test_the_client_certificate_files_written_for_the_command_are_gone_when_it_ends(
    sim_factory: Callable[..., SimThread], tmp_path: Path
) -> None:
    """The command ends without the interpreter's teardown, but its exit functions still run: the certificate and
    key written from the kubeconfig's ``-data`` fields (readable by their owner only) are removed."""
    from nimify_tui.sim.k8s.tls import make_certificates

    sim = sim_factory(scenario="healthy")
    pair = make_certificates()  # a valid certificate and key: the simulator does not ask for one, TLS still loads it
    config = kubeconfig(sim)
    user = config["users"][0]["user"]
    user["client-certificate-data"] = base64.b64encode(pair.cert_pem).decode()
    user["client-key-data"] = base64.b64encode(pair.key_pem).decode()
    path = tmp_path / "kubeconfig"
    path.write_text(yaml.safe_dump(config))
    temporary = tmp_path / "tmp"
    temporary.mkdir()
    out = tmp_path / "snap"
    result = subprocess.run(
        [sys.executable, "-m", "nimify_tui", "snapshot", "--kubeconfig", str(path), "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
        env={**command_env(tmp_path), "TMPDIR": str(temporary)},
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"{out}: ") and "files in" in result.stdout, "its line, flushed before the end"
    assert (out / "manifest.json").is_file() and (out / "state.txt").is_file()
    assert list(temporary.iterdir()) == [], "no certificate or key file left behind"
