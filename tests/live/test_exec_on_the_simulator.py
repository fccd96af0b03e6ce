"""The exec client and the runbook's in-pod steps against the simulated cluster's exec over WebSocket: the world's
answers, the exit codes from the final Status, bounded output, the v4 fallback, the API server's refusal of a
container that is not running, an interactive shell on a pty, and a read-only session that sends nothing."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from nimify_tui.actions import ActionRunner
from nimify_tui.actions.exec_steps import (
    STEP_BY_ID,
    CleanupAction,
    HelperPodAction,
    Place,
    database_verdict,
    disk_usage,
    locate,
    run_step,
)
from nimify_tui.actions.kube_actions import plan_delete_pod, plan_scale
from nimify_tui.kube.client import KubeClient, ReadOnlyViolation
from nimify_tui.kube.exec import PROTOCOLS, ExecClient, ExecTarget, ShellSession, Terminal
from nimify_tui.sim.k8s.kubeconfig import write_kubeconfig
from nimify_tui.sim.server import SimThread

from ..conftest import refused_kubeconfig
from ..waiting import wait_for

NS = "nimify-system"
SPEED = 10.0


@pytest.fixture
def connect(tmp_path: Path) -> Iterator[Callable[..., tuple[SimThread, KubeClient]]]:
    sims: list[SimThread] = []

    def start(scenario: str, *, context: str = "sim-admin", readonly: bool = False) -> tuple[SimThread, KubeClient]:
        sim = SimThread(scenario=scenario, speed=SPEED).start()
        sims.append(sim)
        kubeconfig = tmp_path / f"kubeconfig-{len(sims)}"
        write_kubeconfig(sim, kubeconfig)
        return sim, KubeClient.from_kubeconfig(str(kubeconfig), context, readonly=readonly)

    yield start
    for sim in sims:
        sim.stop()


def running_pod(client: KubeClient, namespace: str, app: str) -> str:
    def ready() -> str:
        pods = client.get_json(f"/api/v1/namespaces/{namespace}/pods", {"labelSelector": f"app={app}"})["items"]
        for pod in pods:
            statuses = pod.get("status", {}).get("containerStatuses") or []
            if statuses and all(s.get("ready") for s in statuses):
                return str(pod["metadata"]["name"])
        return ""

    return wait_for(ready, f"a ready {app} pod")


def exec_requests(sim: SimThread) -> list[Any]:
    return [r for r in sim.request_log if r.path.endswith("/exec")]


def test_psql_from_nimify_api_returns_a_row_over_v5_and_the_same_over_v4(connect: Callable[..., Any]) -> None:
    _, client = connect("healthy")
    target = ExecTarget(NS, running_pod(client, NS, "nimify-api"), "nimify-api")
    command = STEP_BY_ID["step-database"].command
    result = ExecClient(client).run(target, command)
    assert result.protocol == "v5.channel.k8s.io"
    assert result.exit_code == 0 and "(1 row)" in result.stdout, result
    assert database_verdict(result).state == "pass"
    older = ExecClient(client, protocols=PROTOCOLS[1:]).run(target, command)
    assert older.protocol == "v4.channel.k8s.io"
    assert older.exit_code == 0 and "(1 row)" in older.stdout, older


def test_an_unknown_command_exits_127_and_long_output_is_cut_at_the_limit(connect: Callable[..., Any]) -> None:
    _, client = connect("healthy")
    target = ExecTarget("triton-system", running_pod(client, "triton-system", "triton-server"), "triton-server")
    unknown = ExecClient(client).run(target, ("no-such-tool", "--now"))
    assert unknown.exit_code == 127, unknown
    assert "no-such-tool" in unknown.stderr and "not found" in unknown.stderr
    full = ExecClient(client).run(target, ("ls", "-la", "/models/"))
    assert full.exit_code == 0 and not full.truncated
    cut = ExecClient(client).run(target, ("ls", "-la", "/models/"), output_limit=40)
    assert cut.truncated and cut.stdout == full.stdout[:40]
    assert cut.exit_code == 0  # the exit code still comes from the final Status


def test_database_down_fails_with_psqls_error_and_passes_once_postgres_is_back(connect: Callable[..., Any]) -> None:
    _, client = connect("database-down")
    step = STEP_BY_ID["step-database"]
    exec_client = ExecClient(client)
    down = run_step(exec_client, step, locate(client, step))
    assert down.result.exit_code not in (0, None), down.result
    assert down.verdict.state == "fail"
    assert down.verdict.line.startswith("psql: error:"), down.verdict  # psql's own words
    assert down.verdict.line in down.result.stderr
    ActionRunner(client, None).run(plan_scale(client, NS, "postgres").with_values({"replicas": "1"}), lambda p: True)
    running_pod(client, NS, "postgres")
    back = wait_for(
        lambda: (done := run_step(exec_client, step, locate(client, step))).verdict.state == "pass" and done,
        "psql to get its row",
    )
    assert back.verdict.line == "SELECT 1 returned 1 row"


def test_exec_into_a_crash_looping_container_fails_with_the_api_servers_error(connect: Callable[..., Any]) -> None:
    _, client = connect("storage-full")

    def crash_looping() -> str:
        pods = client.get_json(f"/api/v1/namespaces/{NS}/pods", {"labelSelector": "app=nimify-api"})["items"]
        for pod in pods:
            for status in pod.get("status", {}).get("containerStatuses") or []:
                if "running" not in status.get("state", {}):
                    return str(pod["metadata"]["name"])
        return ""

    pod = wait_for(crash_looping, "a nimify-api container that is not running")
    result = ExecClient(client).run(ExecTarget(NS, pod, "nimify-api"), ("df", "-h"))
    assert result.exit_code is None
    assert "unable to upgrade connection: container not found" in result.error, result


def test_storage_full_df_in_a_helper_pod_then_the_cleanup_frees_the_volume(connect: Callable[..., Any]) -> None:
    sim, client = connect("storage-full")
    runner = ActionRunner(client, None)
    exec_client = ExecClient(client)
    disk, cleaning = STEP_BY_ID["step-disk"], STEP_BY_ID["step-cleanup"]
    place = wait_for(lambda: (found := locate(client, cleaning)).helper is not None and found, "every api pod down")
    assert "no running pod mounts model-storage at /cache" in place.why
    assert place.helper is not None and place.mount_path == "/models"
    created = runner.run(HelperPodAction(client, place.helper, cleaning.shell_text()), lambda prepared: True)
    assert created is not None and "running" in created.message
    helper = sim.call(lambda world: world.store.get("pods", NS, place.target.pod))
    mounts = helper["spec"]["containers"][0]["volumeMounts"]
    # where nimify-api mounts the volume, and where the runbook's find expects it
    assert mounts == [{"name": "data", "mountPath": "/models"}, {"name": "data", "mountPath": "/cache"}]
    full = run_step(exec_client, disk, place)
    assert full.verdict.state == "fail" and (disk_usage(full.result.stdout, "/models") or 0) > 95, full.verdict
    cleanup = runner.prepare(CleanupAction(exec_client, place))
    listed = cleanup.preview.yaml_diff.splitlines()[1:]
    assert listed and all(line.startswith("/cache/cache/") for line in listed), listed
    assert cleanup.preview.text == f"{len(listed)} file(s) would be deleted"
    runner.execute(cleanup)
    freed = run_step(exec_client, disk, place)
    assert freed.verdict.state == "pass", freed.verdict
    runner.run(plan_delete_pod(client, NS, place.target.pod, force=True), lambda p: p.confirmation.typed_name)
    wait_for(lambda: sim.call(lambda world: world.store.get("pods", NS, place.target.pod)) is None, "helper gone")


def test_an_interactive_shell_on_a_pty_runs_psql_and_ends_at_ctrl_d(connect: Callable[..., Any]) -> None:
    _, client = connect("healthy")
    target = ExecTarget(NS, running_pod(client, NS, "postgres"), "postgres")
    controller, terminal = os.openpty()
    seen = bytearray()
    read_all = threading.Event()

    def person() -> None:
        def screen_shows(text: bytes) -> bool:
            while text not in seen:
                chunk = os.read(controller, 4096)
                if not chunk:
                    return False
                seen.extend(chunk)
            return True

        if screen_shows(b"# "):
            os.write(controller, b'psql -h postgres -U nimify -c "SELECT 1;"\r')
            if screen_shows(b"(1 row)"):
                os.write(controller, b"\x04")
        read_all.set()

    driver = threading.Thread(target=person, daemon=True)
    driver.start()
    try:
        result = ShellSession(ExecClient(client), target, ("sh",), Terminal(terminal, terminal)).run()
    finally:
        read_all.wait(10)
        os.close(terminal)
        os.close(controller)
    assert b"(1 row)" in seen, bytes(seen)
    assert result.exit_code == 0, result
    assert result.protocol == "v5.channel.k8s.io"


def test_a_read_only_client_sends_no_exec(connect: Callable[..., Any]) -> None:
    sim, client = connect("healthy", readonly=True)
    target = ExecTarget(NS, running_pod(client, NS, "nimify-api"), "nimify-api")
    with pytest.raises(ReadOnlyViolation):
        ExecClient(client).run(target, ("df", "-h"))
    with pytest.raises(ReadOnlyViolation):
        ShellSession(ExecClient(client), target, ("sh",), Terminal()).run()
    assert exec_requests(sim) == []


def test_a_cleanup_whose_dry_run_fails_journals_the_find_it_ran_not_a_request_never_sent(
    connect: Callable[..., Any], tmp_path: Path
) -> None:
    """The cleanup's dry run is the same ``find`` without ``-delete``, run in the pod: when it fails, the journal's
    request is that exec, never the real command with ``dryRun=All`` (nothing like it was sent)."""
    from nimify_tui.actions import ActionError
    from nimify_tui.journal.journal import Journal, read_journal

    _, client = connect("healthy")
    journal = Journal.open(tmp_path / "session")
    runner = ActionRunner(client, journal)
    place = Place(ExecTarget(NS, "no-such-pod", "nimify-api"), "named by the test")
    with pytest.raises(ActionError, match="dry run failed"):
        runner.prepare(CleanupAction(ExecClient(client), place))
    journal.close()
    [entry] = [e for e in read_journal(journal.path) if e["kind"] == "action"]
    assert entry["result"] == "error"
    path = entry["request"]["path"]
    assert "/pods/no-such-pod/exec?" in path and "command=find" in path and "command=-mtime" in path
    assert "-delete" not in path and "dryRun" not in path, path


def test_an_exec_to_a_server_that_is_down_says_so_as_every_other_request_does(tmp_path: Path) -> None:
    client = KubeClient.from_kubeconfig(str(refused_kubeconfig(tmp_path / "kubeconfig")))
    result = ExecClient(client).run(ExecTarget(NS, "nimify-api-0", "nimify-api"), ("df", "-h"))
    assert result.exit_code is None
    assert result.error == (
        f"GET /api/v1/namespaces/{NS}/pods/nimify-api-0/exec: "
        "the API server at http://127.0.0.1:9 refused the connection (is it up?)"
    ), result.error
