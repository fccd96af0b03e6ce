"""The real ``kubectl exec`` (WebSocket, v5.channel.k8s.io) against the simulator: the runbook's in-pod commands
answered by the simulated world, and exec refused where a cluster refuses it."""

from __future__ import annotations

import fcntl
import json
import os
import pty
import re
import select
import signal
import struct
import subprocess
import termios
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pytest

from nimify_tui.sim.scenarios import health_problems
from nimify_tui.sim.server import SimThread

from ..waiting import wait_for

if TYPE_CHECKING:
    from tests.sim.conftest import Kubectl

pytestmark = pytest.mark.kubectl
NS = "nimify-system"
PSQL = ["psql", "-h", "postgres", "-U", "nimify", "-c", "SELECT 1;"]
SELECT_ONE = " ?column? \n----------\n        1\n(1 row)\n\n"
HELPER_POD = """\
apiVersion: v1
kind: Pod
metadata:
  name: cache-cleanup
  namespace: nimify-system
spec:
  restartPolicy: Never
  containers:
  - name: shell
    image: docker.io/library/busybox:1.36
    command: ["sleep", "3600"]
    volumeMounts:
    - name: cache
      mountPath: /cache
  volumes:
  - name: cache
    persistentVolumeClaim:
      claimName: model-storage
"""


def _with_input(kubectl: Kubectl, text: str, *args: str) -> subprocess.CompletedProcess[str]:
    """kubectl with ``text`` on its stdin."""
    return subprocess.run(
        [kubectl.binary, *args], input=text, capture_output=True, text=True, timeout=30, env=kubectl.env(), check=False
    )


def _pod(kubectl: Kubectl, app: str, namespace: str = NS) -> str:
    out = kubectl.run("get", "pods", "-n", namespace, "-l", f"app={app}", "-o", "json").stdout
    return str(sorted(pod["metadata"]["name"] for pod in json.loads(out)["items"])[0])


def _claim_row(df_output: str, mounted_on: str) -> list[str]:
    rows = [line.split() for line in df_output.splitlines()[1:]]
    return next(row for row in rows if row[-1] == mounted_on)


def test_df_shows_the_claims_real_fill(healthy_sim: SimThread, kubectl_for: Callable[[Any], Kubectl]) -> None:
    kubectl = kubectl_for(healthy_sim)
    api = _pod(kubectl, "nimify-api")
    done = kubectl.run("exec", api, "-n", NS, "--", "df", "-h")
    assert done.stdout.splitlines()[0].split() == ["Filesystem", "Size", "Used", "Avail", "Use%", "Mounted", "on"]
    assert _claim_row(done.stdout, "/models")[1:5] == ["100G", "61G", "39G", "61%"]
    assert _claim_row(done.stdout, "/")[0] == "overlay"
    used, capacity = healthy_sim.call(lambda world: world.volume_usage(NS, "model-storage"))
    assert (used, capacity) == (61 * 2**30, 100 * 2**30)
    one = kubectl.run("exec", api, "-n", NS, "--", "df", "-h", "/models/cache").stdout.splitlines()
    assert len(one) == 2 and one[1].split()[-1] == "/models"
    blocks = kubectl.run("exec", api, "-n", NS, "--", "df", "/models").stdout.splitlines()
    assert blocks[0].split()[1] == "1K-blocks" and blocks[1].split()[2] == str(61 * 2**20)


def test_psql_answers_select_one(healthy_sim: SimThread, kubectl_for: Callable[[Any], Kubectl]) -> None:
    kubectl = kubectl_for(healthy_sim)
    done = kubectl.run("exec", _pod(kubectl, "nimify-api"), "-n", NS, "--", *PSQL)
    assert done.stdout == SELECT_ONE and done.stderr == ""


def test_psql_fails_while_the_database_is_down_and_answers_after_recovery(
    sim_factory: Callable[..., SimThread], kubectl_for: Callable[[Any], Kubectl]
) -> None:
    sim = sim_factory(scenario="database-down")
    kubectl = kubectl_for(sim)
    api = _pod(kubectl, "nimify-api")
    address = kubectl.run("get", "svc", "postgres", "-n", NS, "-o", "jsonpath={.spec.clusterIP}").stdout
    down = kubectl.run("exec", api, "-n", NS, "--", *PSQL, check=False)
    assert down.returncode == 2
    assert down.stdout == ""
    assert down.stderr.startswith(
        f'psql: error: connection to server at "postgres" ({address}), port 5432 failed: Connection refused\n'
        "\tIs the server running on that host and accepting TCP/IP connections?\n"
    )
    assert "command terminated with exit code 2" in down.stderr
    kubectl.run("scale", "deployment", "postgres", "-n", NS, "--replicas=1")

    def answered() -> bool:
        return kubectl.run("exec", api, "-n", NS, "--", *PSQL, check=False).stdout == SELECT_ONE

    wait_for(answered, "psql to answer once postgres is back", timeout_s=40)


def test_ls_models_and_curl_in_triton(healthy_sim: SimThread, kubectl_for: Callable[[Any], Kubectl]) -> None:
    kubectl = kubectl_for(healthy_sim)
    triton = _pod(kubectl, "triton-server", "triton-system")
    listing = kubectl.run("exec", triton, "-n", "triton-system", "--", "ls", "-la", "/models/").stdout.splitlines()
    assert re.fullmatch(r"total \d+", listing[0])
    names = [line.split()[-1] for line in listing[1:]]
    assert names == [".", "..", "nimify-embedder", "nimify-model", "nimify-reranker"]
    assert all(line.startswith("drwxr-xr-x") for line in listing[1:])
    files = kubectl.run("exec", triton, "-n", "triton-system", "--", "ls", "/models/nimify-model/1").stdout
    assert files == "model.onnx\n"
    ready = kubectl.run("exec", triton, "-n", "triton-system", "--", "curl", "localhost:8000/v2/health/ready")
    assert ready.stdout == "" and ready.stderr == ""
    code = ["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "localhost:8000/v2/health/ready"]
    assert kubectl.run("exec", triton, "-n", "triton-system", "--", *code).stdout == "200"
    refused = kubectl.run("exec", triton, "-n", "triton-system", "--", "curl", "localhost:9999/", check=False)
    assert refused.returncode == 7 and "Failed to connect to localhost port 9999" in refused.stderr


def test_nslookup_answers_with_the_services_cluster_ip(
    healthy_sim: SimThread, kubectl_for: Callable[[Any], Kubectl]
) -> None:
    kubectl = kubectl_for(healthy_sim)
    api = _pod(kubectl, "nimify-api")
    address = kubectl.run("get", "svc", "nimify-api", "-n", NS, "-o", "jsonpath={.spec.clusterIP}").stdout
    name = "nimify-api.nimify-system.svc.cluster.local"
    found = kubectl.run("exec", api, "-n", NS, "--", "nslookup", name).stdout
    assert f"Name:\t{name}\nAddress: {address}\n" in found
    short = kubectl.run("exec", api, "-n", NS, "--", "nslookup", "nimify-api").stdout
    assert f"Address: {address}\n" in short
    unknown = kubectl.run("exec", api, "-n", NS, "--", "nslookup", "nimify-apj.nimify-system", check=False)
    assert unknown.returncode == 1
    assert "** server can't find nimify-apj.nimify-system: NXDOMAIN" in unknown.stdout


def test_an_unknown_command_is_not_found_with_127(
    healthy_sim: SimThread, kubectl_for: Callable[[Any], Kubectl]
) -> None:
    kubectl = kubectl_for(healthy_sim)
    api = _pod(kubectl, "nimify-api")
    done = kubectl.run("exec", api, "-n", NS, "--", "kubectl", "get", "pods", check=False)
    assert done.returncode == 127
    assert done.stderr == "sh: 1: kubectl: not found\ncommand terminated with exit code 127\n"
    through_sh = kubectl.run("exec", api, "-n", NS, "--", "sh", "-c", "true && vim /x", check=False)
    assert through_sh.returncode == 127 and through_sh.stderr.startswith("sh: 1: vim: not found\n")


def test_exec_where_the_container_does_not_run_fails_like_the_api_server(
    sim_factory: Callable[..., SimThread], kubectl_for: Callable[[Any], Kubectl]
) -> None:
    sim = sim_factory(scenario="storage-full")
    kubectl = kubectl_for(sim)
    api = _pod(kubectl, "nimify-api")

    def refused() -> Any:
        done = kubectl.run("exec", api, "-n", NS, "--", "df", "-h", check=False)
        return done if done.returncode == 1 else None

    done = wait_for(refused, "the crash-looping container to be between two runs", timeout_s=30)
    assert done.stderr == 'error: unable to upgrade connection: container not found ("nimify-api")\n'
    unknown = kubectl.run("exec", api, "-n", NS, "-c", "sidecar", "--", "df", check=False)
    assert unknown.stderr == f"Error from server (BadRequest): container sidecar is not valid for pod {api}\n"
    missing = kubectl.run("exec", "nimify-api-0", "-n", NS, "--", "df", check=False)
    assert missing.stderr == 'Error from server (NotFound): pods "nimify-api-0" not found\n'
    exec_answers = {r.status for r in sim.request_log if r.path.endswith(f"/pods/{api}/exec")}
    assert {500, 400} <= exec_answers  # (a try that met the container between two crashes ran: 101)


def test_exec_on_a_node_whose_kubelet_stopped_cannot_dial_it(
    sim_factory: Callable[..., SimThread], kubectl_for: Callable[[Any], Kubectl]
) -> None:
    sim = sim_factory(scenario="node-not-ready")
    kubectl = kubectl_for(sim)
    pod, host = sim.call(
        lambda world: next((r.name, r.host_ip) for r in world.kubelet.runs.values() if r.node in world.kubelet.stopped)
    )
    namespace = sim.call(lambda world: next(r.namespace for r in world.kubelet.runs.values() if r.name == pod))
    done = kubectl.run("exec", pod, "-n", namespace, "--", "df", check=False)
    assert done.stderr == f"Error from server: error dialing backend: dial tcp {host}:10250: i/o timeout\n"


def test_storage_full_is_fixed_by_deleting_the_stale_cache_and_a_restart(
    sim_factory: Callable[..., SimThread], kubectl_for: Callable[[Any], Kubectl]
) -> None:
    sim = sim_factory(scenario="storage-full")
    kubectl = kubectl_for(sim)
    assert _with_input(kubectl, HELPER_POD, "apply", "-f", "-").returncode == 0

    def helper_runs() -> bool:
        phase = kubectl.run("get", "pod", "cache-cleanup", "-n", NS, "-o", "jsonpath={.status.phase}").stdout
        return phase == "Running"

    wait_for(helper_runs, "the helper pod to run", timeout_s=30)
    full = kubectl.run("exec", "cache-cleanup", "-n", NS, "--", "df", "-h", "/cache").stdout
    assert _claim_row(full, "/cache")[1:5] == ["100G", "100G", "0", "100%"]
    stale = kubectl.run("exec", "cache-cleanup", "-n", NS, "--", "find", "/cache", "-type", "f", "-mtime", "+7")
    assert stale.stdout and all(line.startswith("/cache/cache/") for line in stale.stdout.splitlines())
    kubectl.run("exec", "cache-cleanup", "-n", NS, "--", "find", "/cache", "-type", "f", "-mtime", "+7", "-delete")
    after = kubectl.run("exec", "cache-cleanup", "-n", NS, "--", "df", "-h", "/cache").stdout
    percent = int(_claim_row(after, "/cache")[4].rstrip("%"))
    assert percent < 95
    left = kubectl.run("exec", "cache-cleanup", "-n", NS, "--", "find", "/cache", "-type", "f", "-mtime", "+7")
    assert left.stdout == ""
    used, capacity = sim.call(lambda world: world.volume_usage(NS, "model-storage"))
    assert used * 100 // capacity == percent - 1 or used * 100 // capacity == percent
    kubectl.run("delete", "pod", "-n", NS, "-l", "app=nimify-api", "--wait=false")

    def serving() -> bool:
        ready = kubectl.run("get", "deployment", "nimify-api", "-n", NS, "-o", "jsonpath={.status.readyReplicas}")
        return ready.stdout == "3"

    wait_for(serving, "nimify-api to serve again", timeout_s=60)
    problems = sim.call(health_problems)
    assert not [p for p in problems if "model-storage" in p or "nimify-api" in p], problems


def test_an_interactive_sh_reads_its_commands_from_stdin(
    healthy_sim: SimThread, kubectl_for: Callable[[Any], Kubectl]
) -> None:
    kubectl = kubectl_for(healthy_sim)
    api = _pod(kubectl, "nimify-api")
    script = 'df -h /models\npsql -h postgres -U nimify -c "SELECT 1;"\nnope\nexit 3\necho never\n'
    done = _with_input(kubectl, script, "exec", "-i", api, "-n", NS, "--", "sh")
    assert done.returncode == 3
    assert _claim_row(done.stdout.split(" ?column?")[0], "/models")[4] == "61%"
    assert SELECT_ONE in done.stdout and "never" not in done.stdout
    assert done.stderr == "sh: 1: nope: not found\ncommand terminated with exit code 3\n"
    ended = _with_input(kubectl, "cd /models\npwd\nfalse", "exec", "-i", api, "-n", NS, "--", "sh")
    assert (ended.returncode, ended.stdout) == (1, "/models\n")


def test_a_command_reads_all_of_stdin_and_sees_the_containers_env(
    healthy_sim: SimThread, kubectl_for: Callable[[Any], Kubectl]
) -> None:
    kubectl = kubectl_for(healthy_sim)
    api = _pod(kubectl, "nimify-api")
    counted = _with_input(kubectl, "a shard\nno\nshard b\n", "exec", "-i", api, "-n", NS, "--", "grep", "-c", "shard")
    assert (counted.returncode, counted.stdout) == (0, "2\n")
    host = kubectl.run("exec", api, "-n", NS, "--", "printenv", "DATABASE_HOST").stdout
    assert host == "postgres.nimify-system.svc.cluster.local\n"
    named = kubectl.run("exec", api, "-n", NS, "--", "sh", "-c", 'printenv HOSTNAME | grep -c "^nimify-api-"').stdout
    assert named == "1\n"


def test_read_only_users_cannot_exec(healthy_sim: SimThread, kubectl_for: Callable[[Any], Kubectl]) -> None:
    kubectl = kubectl_for(healthy_sim)
    api = _pod(kubectl, "nimify-api")
    done = kubectl.run("--context", "sim-readonly", "exec", api, "-n", NS, "--", "df", check=False)
    assert done.returncode == 1
    assert (
        f'pods "{api}" is forbidden: User "sim-readonly" cannot create resource "pods/exec" in API group "" '
        'in the namespace "nimify-system"'
    ) in done.stderr
    refused = [r for r in healthy_sim.request_log if r.user == "sim-readonly" and r.path.endswith("/exec")]
    assert refused and {r.status for r in refused} == {403}


class Terminal:
    """A pseudo-terminal for kubectl exec -it: what the program wrote, and keys typed into it."""

    def __init__(self, rows: int, columns: int) -> None:
        self.master, self.slave = pty.openpty()
        self.resize(rows, columns)
        self.screen = b""

    def resize(self, rows: int, columns: int) -> None:
        fcntl.ioctl(self.master, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))

    def type(self, keys: bytes) -> None:
        os.write(self.master, keys)

    def read(self) -> bool:
        """Read what is there within a moment; False once the program closed the terminal."""
        ready, _, _ = select.select([self.master], [], [], 0.1)
        if ready:
            try:
                self.screen += os.read(self.master, 4096)
            except OSError:
                return False
        return True

    def shows(self, text: str) -> bool:
        self.read()
        return text.encode() in self.screen


def test_an_interactive_bash_on_a_terminal_with_resize_and_ctrl_d(
    healthy_sim: SimThread, kubectl_for: Callable[[Any], Kubectl]
) -> None:
    kubectl = kubectl_for(healthy_sim)
    postgres = _pod(kubectl, "postgres")
    terminal = Terminal(37, 101)
    proc = subprocess.Popen(
        [kubectl.binary, "exec", "-it", postgres, "-n", NS, "--", "bash"],
        stdin=terminal.slave,
        stdout=terminal.slave,
        stderr=terminal.slave,
        env=kubectl.env({"TERM": "xterm"}),
        start_new_session=True,
    )
    os.close(terminal.slave)
    try:
        prompt = f"root@{postgres}:/# "
        wait_for(lambda: terminal.shows(prompt), "the prompt")
        terminal.type(b"stty size\r")
        wait_for(lambda: terminal.shows("stty size\r\n37 101\r\n"), "the terminal's first size")
        terminal.resize(50, 160)
        proc.send_signal(signal.SIGWINCH)

        def new_size_shown() -> bool:  # kubectl sends the new size on its own: ask until the shell has it
            mark = len(terminal.screen)
            terminal.type(b"stty size\r")
            wait_for(lambda: terminal.shows(prompt) and prompt.encode() in terminal.screen[mark:], "an answer")
            return b"\r\n50 160\r\n" in terminal.screen[mark:]

        wait_for(new_size_shown, "the new size")
        terminal.type(b'psql -h postgres -U nimify -c "SELECT 1;"\r')
        wait_for(lambda: terminal.shows(SELECT_ONE.replace("\n", "\r\n") + prompt), "psql's answer")
        terminal.type(b"\x04")
        assert proc.wait(timeout=20) == 0
        while terminal.read():
            if terminal.screen.endswith(b"exit\r\n"):
                break
        assert terminal.screen.endswith(prompt.encode() + b"exit\r\n")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(terminal.master)
