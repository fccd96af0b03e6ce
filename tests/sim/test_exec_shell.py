"""The simulated containers' shell on its own, over a simulated world: the line's grammar (joiners, pipes,
redirections, ``$?``, globs, subshells), the file commands' GNU formats, and the world it reads and changes."""

from __future__ import annotations

import asyncio
import re

import pytest

from nimify_tui.sim.k8s.shell import Shell, ShellSession
from nimify_tui.sim.k8s.shell_result import Result, human
from nimify_tui.sim.k8s.world import World
from nimify_tui.sim.scenarios import build_world

NS = "nimify-system"


def _shell(world: World, app: str = "nimify-api", namespace: str = NS) -> Shell:
    running = [r for r in world.kubelet.app_runs(namespace, app) if r.containers[0].state == "running"]
    run = sorted(running, key=lambda r: r.name)[0]
    pod = world.store.get("pods", *run.key)
    assert pod is not None
    return Shell(world, pod, run, run.containers[0].name)


def _line(shell: Shell, line: str) -> Result:
    return asyncio.run(shell.run_line(line))


@pytest.fixture(scope="module")
def healthy() -> World:
    return build_world("healthy")


def test_joiners_status_and_variables(healthy: World) -> None:
    shell = _shell(healthy)
    assert _line(shell, "false && echo no || echo yes; echo $?") == Result("yes\n0\n", "", 0)
    assert _line(shell, "ls /nope > /dev/null 2>&1; echo $?").out == "2\n"
    assert _line(shell, "ls /nope 2>&1 >/dev/null | wc -l") == Result("1\n", "", 0)
    assert _line(shell, "echo $HOSTNAME ${DATABASE_HOST}").out == (
        f"{shell.run.name} postgres.nimify-system.svc.cluster.local\n"
    )
    assert _line(shell, "df -h > /tmp/x") == Result("", "sh: 1: cannot create /tmp/x: Operation not supported\n", 2)
    assert _line(shell, "echo 'unterminated").code == 2


def test_subshells_keep_their_exit_and_cd_to_themselves(healthy: World) -> None:
    shell = _shell(healthy)
    assert _line(shell, 'sh -c "cd /models; pwd; exit 4"; echo $?; pwd') == Result("/models\n4\n/\n", "", 0)
    assert _line(shell, 'echo "ls /models | wc -l" | sh').out == "4\n"
    assert _line(shell, 'bash -c "nope"') == Result("", "bash: line 1: nope: command not found\n", 127)
    assert shell.exit_code is None


def test_globs_and_filters(healthy: World) -> None:
    shell = _shell(healthy)
    sizes = _line(shell, "du -sh /models/*").out.splitlines()
    assert [line.split("\t")[1] for line in sizes] == [f"/models/{n}" for n in ("cache", "nimify-embedder")] + [
        "/models/nimify-model",
        "/models/nimify-reranker",
    ]
    assert _line(shell, "grep -c '^  port' /etc/nimify/config.yaml").out == "2\n"
    assert _line(shell, "cat /etc/nimify/config.yaml | grep -E 'url|host' | head -n 1").out == (
        "  url: http://triton-server.triton-system.svc.cluster.local:8000\n"
    )
    assert _line(shell, "grep nothing-like-this /etc/hostname").code == 1


def test_ls_and_df_formats(healthy: World) -> None:
    shell = _shell(healthy)
    listing = _line(shell, "ls -la /models").out.splitlines()
    assert listing[0] == "total 24"
    cache = next(line for line in listing if line.endswith(" cache"))
    assert re.fullmatch(r"drwxr-xr-x +\d+ root root +\d+ [A-Z][a-z]{2} [ \d]\d \d\d:\d\d cache", cache)
    assert _line(shell, "ls -d /models /nope") == Result(
        "/models\n", "ls: cannot access '/nope': No such file or directory\n", 2
    )
    df = _line(shell, "df -h /models /etc/nimify").out.splitlines()
    assert [row.split()[-1] for row in df[1:]] == ["/models", "/etc/nimify"]
    assert [human(n) for n in (0, 1023, 1024, 10 * 2**30 - 1, 61 * 2**30, 100 * 2**30)] == [
        "0",
        "1023",
        "1.0K",
        "10G",
        "61G",
        "100G",
    ]


def test_find_delete_frees_the_claims_space_in_the_world() -> None:
    world = build_world("storage-full")
    assert world.volume_usage(NS, "model-storage") == (100 * 2**30, 100 * 2**30)
    shell = _shell(world, "postgres")  # any running pod: the claim is reached through a mount
    assert _line(shell, "find /models -type f").code == 1
    pod = next(p for p in world.store.list("pods", NS) if p["metadata"]["labels"].get("app") == "nimify-api")
    run = world.kubelet.runs[(NS, pod["metadata"]["name"])]
    cleaner = Shell(world, pod, run, "nimify-api")
    stale = _line(cleaner, "find /models/cache -type f -mtime +7").out.splitlines()
    assert stale and all(path.startswith("/models/cache/") for path in stale)
    assert _line(cleaner, "find /models/cache -type f -mtime +7 -delete") == Result()
    used, capacity = world.volume_usage(NS, "model-storage")
    assert used < 0.95 * capacity
    assert _line(cleaner, "find /models/cache -type f -mtime +7").out == ""
    assert "stale\n" in _line(cleaner, "ls /models/cache/embeddings").out  # its folder stays, empty
    assert _line(cleaner, "ls -A /models/cache/embeddings/stale") == Result()
    assert _line(cleaner, "find /models/cache/embeddings/stale -delete") == Result()
    assert "stale" not in _line(cleaner, "ls /models/cache/embeddings").out
    assert _line(cleaner, "find /models -maxdepth 1 -name nimify-model -delete").err == (
        "find: cannot delete '/models/nimify-model': Directory not empty\n"
    )


def test_psql_curl_and_nslookup_read_the_cluster(healthy: World) -> None:
    shell = _shell(healthy)
    assert _line(shell, 'psql -h postgres -U nimify -tA -c "select 1"').out == "1\n"
    tuples = _line(shell, "psql -h postgres.nimify-system.svc -U nimify -t -c 'SELECT 7'").out
    assert tuples == "        7\n\n"  # as wide as the header it leaves out
    unknown = _line(shell, "psql -h postgress -U nimify -c 'SELECT 1'")
    assert unknown.code == 2 and 'could not translate host name "postgress"' in unknown.err
    health = _line(shell, "curl -s -w ' %{http_code}' http://nimify-api:8000/health").out
    assert health.endswith(" 200") and '"healthy"' in health
    assert _line(shell, "curl -sS http://nowhere:8000/").err == "curl: (6) Could not resolve host: nowhere\n"
    triton = _shell(healthy, "triton-server", "triton-system")
    assert _line(triton, "curl -s -o /dev/null -w '%{http_code}' localhost:8000/v2/health/ready").out == "200"
    dns = _line(shell, "nslookup triton-server.triton-system").out
    address = healthy.store.get("services", "triton-system", "triton-server")["spec"]["clusterIP"]  # type: ignore[index]
    assert "Name:\ttriton-server.triton-system.svc.cluster.local\nAddress: " + address in dns


def test_curl_fails_on_a_service_without_ready_endpoints() -> None:
    world = build_world("database-down")
    shell = _shell(world)
    refused = _line(shell, "curl -sS postgres:5432/")
    assert refused.code == 7
    assert refused.err == "curl: (7) Failed to connect to postgres port 5432 after 0 ms: Couldn't connect to server\n"


def test_a_terminal_session_prompts_and_leaves_on_exit(healthy: World) -> None:
    session = ShellSession(_shell(healthy), ["bash"], tty=True)
    name = session.shell.run.name
    assert session.start() == [(1, f"root@{name}:/# ")]
    replies = asyncio.run(session.feed(b"cd /models\rexit 5\r"))
    screen = "".join(text for _, text in replies)
    assert screen == f"cd /models\r\nroot@{name}:/models# exit 5\r\n"
    assert session.exit_code == 5


def test_nvidia_smi_shows_the_pods_gpus_as_the_world_has_them() -> None:
    world = build_world("healthy")
    triton = _shell(world, "triton-server", "triton-system")
    gpu = triton.run.gpus[0]
    fields = "index,pci.bus_id,memory.used,memory.total,utilization.gpu"
    csv = _line(triton, f"nvidia-smi --query-gpu={fields} --format=csv,noheader")
    expected = f"0, {gpu.pci_bus_id}, {round(gpu.memory_used_mib)} MiB, {gpu.memory_total_mib} MiB"
    assert csv == Result(f"{expected}, {round(gpu.utilization_pct)} %\n")
    table = _line(triton, "nvidia-smi").out.splitlines()
    assert {len(line) for line in table[1:]} == {91}
    assert f"{round(gpu.memory_used_mib)}MiB / {gpu.memory_total_mib:>6}MiB" in table[9]
    assert _line(_shell(world), "nvidia-smi") == Result("", "sh: 1: nvidia-smi: not found\n", 127)
    world.fail_gpu(gpu, 79)
    lost = _line(triton, "nvidia-smi")
    assert lost.code == 15 and f"GPU{gpu.pci_bus_id}: GPU is lost" in lost.err
