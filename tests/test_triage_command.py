"""`nimify-tui triage`: the headless diagnosis, run as a command against the simulator and checked from outside.

The JSON document, the exit statuses (0 healthy, 1 something wrong, 2 not checked), the human summary, and that
the command never changes the cluster.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
import yaml

from nimify_tui.cli import main
from nimify_tui.kube.quantity import parse_quantity
from nimify_tui.sim.k8s.kubeconfig import kubeconfig, write_kubeconfig
from nimify_tui.sim.server import SimThread

from .waiting import wait_for

DOCUMENT_KEYS = {"state", "checked_at", "context", "diagnoses", "checks"}
DIAGNOSIS_KEYS = {"scenario", "runbook", "component", "cause", "evidence", "objects", "fix"}
FIX_KEYS = {"action", "target", "parameters", "key", "kubectl"}
CHECK_KEYS = {"id", "title", "state", "evidence", "runbook"}
CHECK_STATES = {"pass", "warn", "fail", "unknown"}
MUTATING = {"POST", "PUT", "PATCH", "DELETE"}
# the key of each fix's remedy in the TUI, as the help lists them
DEFAULT_KEYS = {
    "set-resources": "m",
    "rollout-undo": "u",
    "scale": "s",
    "rollout-restart": "r",
    "expand-pvc": "x",
    "load-model": "L",
    "cordon": "C",
}
HOSTILE = "[bold red]pwned[/] \x1b[2J\x1b]0;title\x07 \x1b[31mred"


def run_triage(*args: str, config_home: Path, timeout_s: float = 60) -> subprocess.CompletedProcess[str]:
    """The command in a child process, with its own empty config folder (no user's [keymap] or settings)."""
    return subprocess.run(
        [sys.executable, "-m", "nimify_tui", *args],
        capture_output=True,
        text=True,
        timeout=timeout_s,
        check=False,
        env=command_env(config_home),
    )


def command_env(config_home: Path) -> dict[str, str]:
    kept = {name: value for name, value in os.environ.items() if not name.startswith(("NIMIFY_TUI_", "KUBECONFIG"))}
    return {**kept, "XDG_CONFIG_HOME": str(config_home)}


def document(result: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    assert result.stdout.count("\n") == 1, f"one line of JSON: {result.stdout!r} (stderr {result.stderr!r})"
    loaded: dict[str, Any] = orjson.loads(result.stdout)
    return loaded


def assert_contract(doc: dict[str, Any], context: str) -> None:
    """Every key and value set the contract names, and nothing else."""
    assert set(doc) == DOCUMENT_KEYS
    assert doc["state"] in ("OK", "DEGRADED", "DOWN")
    assert doc["context"] == context
    checked_at = datetime.strptime(doc["checked_at"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
    assert abs(checked_at.timestamp() - datetime.now(timezone.utc).timestamp()) < 120, doc["checked_at"]
    assert doc["checks"], "the runbook's checks are listed"
    for check in doc["checks"]:
        assert set(check) == CHECK_KEYS, check
        assert check["state"] in CHECK_STATES, check
        assert all(isinstance(check[key], str) for key in CHECK_KEYS - {"state"}), check
    for diagnosis in doc["diagnoses"]:
        assert set(diagnosis) == DIAGNOSIS_KEYS, diagnosis
        assert all(isinstance(line, str) for line in diagnosis["evidence"] + diagnosis["objects"]), diagnosis
        fix = diagnosis["fix"]
        if fix is not None:
            assert set(fix) == FIX_KEYS, fix
            assert all(isinstance(value, str) for value in fix["parameters"].values()), fix


def mutations(sim: SimThread) -> list[tuple[str, str]]:
    """Every mutating request, but the access reviews and Triton's repository index (a POST that only reads)."""
    return [
        (r.method, r.path)
        for r in sim.request_log
        if r.method in MUTATING
        and not r.path.endswith("/selfsubjectaccessreviews")
        and not r.path.endswith("/v2/repository/index")
    ]


def index_posts(sim: SimThread) -> list[str]:
    return [r.path for r in sim.request_log if r.method == "POST" and r.path.endswith("/v2/repository/index")]


@pytest.fixture
def sim_kubeconfig(sim_factory: Callable[..., SimThread], tmp_path: Path) -> Callable[[str], tuple[SimThread, Path]]:
    """A simulated cluster in ``scenario`` and a kubeconfig for it (contexts sim-admin and sim-readonly)."""

    def start(scenario: str) -> tuple[SimThread, Path]:
        sim = sim_factory(scenario=scenario)
        return sim, write_kubeconfig(sim, tmp_path / f"{scenario}.kubeconfig")

    return start


def test_healthy_cluster_exits_0_with_no_diagnosis_and_sends_no_mutation(
    sim_kubeconfig: Callable[[str], tuple[SimThread, Path]], tmp_path: Path
) -> None:
    sim, path = sim_kubeconfig("healthy")
    # the admin context may do everything: the command mutates nothing, and asks Triton's repository index (a POST
    # that changes nothing) as the TUI would, since the access review allows it
    result = run_triage("--kubeconfig", str(path), "--context", "sim-admin", "triage", "--json", config_home=tmp_path)
    assert result.returncode == 0, result.stderr
    doc = document(result)
    assert_contract(doc, "sim-admin")
    assert doc["state"] == "OK"
    assert doc["diagnoses"] == []
    assert result.stderr == ""
    assert sim.request_log, "the command read the cluster"
    assert mutations(sim) == []
    assert index_posts(sim), "the TUI's rule allows the index here"


def test_a_context_marked_read_only_sends_no_post_at_all(
    sim_kubeconfig: Callable[[str], tuple[SimThread, Path]], tmp_path: Path
) -> None:
    sim, path = sim_kubeconfig("triton-down")
    config = tmp_path / "nimify-tui" / "config.toml"
    config.parent.mkdir()
    config.write_text('[contexts."sim-admin"]\nreadonly = true\n')
    result = run_triage("triage", "--kubeconfig", str(path), "--context", "sim-admin", "--json", config_home=tmp_path)
    assert result.returncode == 1, result.stderr
    assert mutations(sim) == [] and index_posts(sim) == []
    top = document(result)["diagnoses"][0]
    assert (top["scenario"], top["fix"]["action"], top["fix"]["target"]) == (
        "dependency",
        "load-model",
        "triton-system/model/nimify-model",
    ), "the model is named from /ready's answer when the index may not be asked"


def test_broken_cluster_exits_1_down_with_the_rebound_key(
    sim_kubeconfig: Callable[[str], tuple[SimThread, Path]], tmp_path: Path
) -> None:
    _sim, path = sim_kubeconfig("crashloop-oom")
    config = tmp_path / "nimify-tui" / "config.toml"
    config.parent.mkdir()
    config.write_text('[keymap]\nresources = "M"\n')
    result = run_triage("triage", "--kubeconfig", str(path), "--json", config_home=tmp_path)
    assert result.returncode == 1, result.stderr
    doc = document(result)
    assert_contract(doc, "sim-admin")
    assert doc["state"] == "DOWN"
    assert {"api-health", "pods-crashloop"} <= {c["id"] for c in doc["checks"] if c["state"] == "fail"}
    fixes = [d["fix"] for d in doc["diagnoses"] if d["fix"] and d["fix"]["action"] == "set-resources"]
    assert fixes, doc["diagnoses"]
    assert {fix["key"] for fix in fixes} == {"M"}, "the [keymap] entry of the remedy, not its default"


def _names_node(node: str) -> Callable[[dict[str, Any]], bool]:
    def check(diagnosis: dict[str, Any]) -> bool:
        text = " ".join([diagnosis["cause"], *diagnosis["evidence"], *diagnosis["objects"]])
        return node in text

    return check


def _memory_limit_above(limit: str) -> Callable[[dict[str, Any]], bool]:
    def check(diagnosis: dict[str, Any]) -> bool:
        given = diagnosis["fix"]["parameters"].get("limits.memory")
        return given is not None and parse_quantity(given).value > parse_quantity(limit).value

    return check


def _replicas(test: Callable[[int], bool]) -> Callable[[dict[str, Any]], bool]:
    def check(diagnosis: dict[str, Any]) -> bool:
        fix = diagnosis["fix"]
        return fix["action"] != "scale" or test(int(fix["parameters"]["replicas"]))

    return check


def _anything(diagnosis: dict[str, Any]) -> bool:
    return True


TRITON_REPLICAS = 2  # the simulator's triton-server replicas in latency-spike
# scenario -> the top diagnosis's possible scenarios, its possible (fix action, target), and what else must hold
EXPECTED: dict[str, tuple[set[str], set[tuple[str, str]], Callable[[dict[str, Any]], bool]]] = {
    "crashloop-oom": (
        {"crash-loop"},
        {("set-resources", "nimify-system/deployment/nimify-api")},
        _memory_limit_above("1Gi"),
    ),
    "bad-rollout": ({"crash-loop"}, {("rollout-undo", "nimify-system/deployment/nimify-api")}, _anything),
    "resource-exhaustion": (
        {"resource-exhaustion"},
        {("scale", "nimify-system/deployment/nimify-worker")},
        _replicas(lambda replicas: replicas <= 1),
    ),
    "storage-full": ({"storage"}, {("expand-pvc", "nimify-system/persistentvolumeclaim/model-storage")}, _anything),
    "ingress-broken": (
        {"network"},
        {("rollout-restart", "ingress-nginx/deployment/nginx-ingress-controller")},
        _anything,
    ),
    "triton-down": (
        {"dependency"},
        {
            ("load-model", "triton-system/model/nimify-model"),
            ("rollout-restart", "triton-system/deployment/triton-server"),
        },
        _anything,
    ),
    "gpu-xid": (
        {"dependency", "infrastructure"},
        {("scale", "triton-system/deployment/triton-server"), ("cordon", "node/gpu-node-2")},
        _names_node("gpu-node-2"),
    ),
    "latency-spike": (
        {"latency"},
        {("scale", "triton-system/deployment/triton-server")},
        _replicas(lambda replicas: replicas > TRITON_REPLICAS),
    ),
}


@pytest.mark.parametrize("scenario", list(EXPECTED))
def test_each_scenario_is_diagnosed_with_its_fix(
    scenario: str, sim_kubeconfig: Callable[[str], tuple[SimThread, Path]], tmp_path: Path
) -> None:
    scenarios, fixes, also = EXPECTED[scenario]
    _sim, path = sim_kubeconfig(scenario)
    # what the sources show within 10 s of the start is what is diagnosed
    result = run_triage("triage", "--kubeconfig", str(path), "--json", "--timeout", "10", config_home=tmp_path)
    assert result.returncode == 1, result.stderr
    doc = document(result)
    assert_contract(doc, "sim-admin")
    assert doc["diagnoses"], f"no diagnosis; failing checks: {[c for c in doc['checks'] if c['state'] == 'fail']}"
    top = doc["diagnoses"][0]
    assert top["scenario"] in scenarios, doc["diagnoses"]
    fix = top["fix"]
    assert fix is not None and (fix["action"], fix["target"]) in fixes, doc["diagnoses"]
    assert fix["key"] == DEFAULT_KEYS[fix["action"]], fix
    assert also(top), top


def test_the_summary_names_the_state_and_failing_checks_and_shows_cluster_text_literally(
    sim_factory: Callable[..., SimThread], tmp_path: Path
) -> None:
    sim = sim_factory(scenario="healthy")

    def plant(world: Any) -> None:
        run = next(run for run in world.kubelet.runs.values() if run.name.startswith("nimify-api-"))
        world.record_event(world.store.get("pods", run.namespace, run.name), "Warning", "FailedMount", HOSTILE, "test")

    sim.call(plant)
    path = write_kubeconfig(sim, tmp_path / "kubeconfig")
    result = run_triage("triage", "--kubeconfig", str(path), "--context", "sim-readonly", config_home=tmp_path)
    assert result.returncode == 1, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("DEGRADED (context sim-readonly, checked "), lines
    failing = [line.split() for line in lines if line.startswith("  fail ")]
    assert [words[1] for words in failing] == ["storage"], result.stdout
    assert "[bold red]pwned[/]" in result.stdout, "markup shown as written"
    assert "\x1b" not in result.stdout and "\x07" not in result.stdout, "no escape sequence reaches the terminal"


def interruptible(command: list[str]) -> list[str]:
    """``command`` run with SIGINT at its default action and not blocked, as from a terminal: a test process may
    hand its children SIGINT ignored (started in the background by a shell without job control) or blocked, and
    Python then never raises KeyboardInterrupt."""
    restore = (
        "import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_DFL); "
        "signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT}); os.execv(sys.argv[1], sys.argv[1:])"
    )
    return [sys.executable, "-c", restore, *command]


def start_watch(path: Path, config_home: Path) -> tuple[subprocess.Popen[str], list[str], threading.Thread]:
    """``nimify-tui triage --watch 1 --json`` on ``path``; its reports as a thread reads them, and that thread."""
    command = [sys.executable, "-m", "nimify_tui", "triage", "--kubeconfig", str(path), "--watch", "1", "--json"]
    process = subprocess.Popen(
        interruptible(command), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=command_env(config_home)
    )
    stdout = process.stdout
    assert stdout is not None
    reports: list[str] = []
    reader = threading.Thread(target=lambda: reports.extend(iter(stdout.readline, "")), daemon=True)
    reader.start()
    return process, reports, reader


def signal_masks(pid: int) -> str:
    """The process's signal masks (blocked, ignored, caught), to say why a signal did nothing."""
    try:
        lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    except OSError as exc:
        return f"(no status: {exc})"
    return " ".join(line.replace("\t", " ") for line in lines if line.startswith(("SigBlk", "SigIgn", "SigCgt")))


def test_watch_prints_a_report_per_interval_and_sigint_exits_130_quietly(
    sim_kubeconfig: Callable[[str], tuple[SimThread, Path]], tmp_path: Path
) -> None:
    _sim, path = sim_kubeconfig("healthy")
    process, reports, reader = start_watch(path, tmp_path)
    try:
        wait_for(lambda: len(reports) >= 2 or process.poll() is not None, "two reports", timeout_s=60)
        assert len(reports) >= 2, f"the command ended: {process.poll()}"
        process.send_signal(signal.SIGINT)
        try:
            _out, err = process.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"no exit 30 s after SIGINT; {signal_masks(process.pid)}") from None
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    reader.join(timeout=5)
    assert process.returncode == 130
    assert err == ""
    first, second = (orjson.loads(line) for line in reports[:2])
    assert_contract(first, "sim-admin")
    assert second["checked_at"] > first["checked_at"], "a new check, not the same report twice"


def _kubeconfig_to(server: str, path: Path, token: str = "token") -> Path:
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "current-context": "elsewhere",
        "clusters": [{"name": "elsewhere", "cluster": {"server": server}}],
        "users": [{"name": "user", "user": {"token": token}}],
        "contexts": [{"name": "elsewhere", "context": {"cluster": "elsewhere", "user": "user"}}],
    }
    path.write_text(yaml.safe_dump(config))
    return path


def assert_not_checked(result: subprocess.CompletedProcess[str], *reason: str) -> None:
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert result.stdout == ""
    assert result.stderr.startswith("nimify-tui triage: ") and result.stderr.count("\n") == 1, result.stderr
    for part in reason:
        assert part in result.stderr, result.stderr


def test_an_unreachable_api_server_exits_2_with_a_reason(tmp_path: Path) -> None:
    path = _kubeconfig_to("http://127.0.0.1:1", tmp_path / "kubeconfig")
    result = run_triage("triage", "--kubeconfig", str(path), "--json", config_home=tmp_path)
    assert_not_checked(result, "http://127.0.0.1:1 refused the connection")


def test_refused_credentials_exit_2_with_a_reason(sim_factory: Callable[..., SimThread], tmp_path: Path) -> None:
    sim = sim_factory(scenario="healthy")
    config = kubeconfig(sim)
    config["users"] = [{**user, "user": {"token": "not-a-token"}} for user in config["users"]]
    path = tmp_path / "kubeconfig"
    path.write_text(yaml.safe_dump(config))
    result = run_triage("triage", "--kubeconfig", str(path), config_home=tmp_path)
    assert_not_checked(result, "cannot list the pods of nimify-system", "HTTP 401")


def test_a_missing_kubeconfig_exits_2_with_a_reason(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-kubeconfig"
    result = run_triage("triage", "--kubeconfig", str(missing), config_home=tmp_path)
    assert_not_checked(result, str(missing))


@pytest.fixture
def silent_server() -> Iterator[str]:
    """An address that takes connections and never answers (nothing accepts them past the listen backlog)."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(128)
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"


def test_the_timeout_is_honoured_when_the_api_server_never_answers(silent_server: str, tmp_path: Path) -> None:
    path = _kubeconfig_to(silent_server, tmp_path / "kubeconfig")
    # a request of the API client waits 30 s by itself, and the default --timeout is 15 s: ending within 20 s needs
    # --timeout 3 for the wait and for every request started meanwhile (one left running holds the exit)
    result = run_triage("triage", "--kubeconfig", str(path), "--timeout", "3", config_home=tmp_path, timeout_s=20)
    assert_not_checked(result, f"API server at {silent_server}")


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["triage", "--watch", "0"], "argument --watch: invalid seconds '0': must be more than 0"),
        (["triage", "--timeout", "soon"], "argument --timeout: invalid seconds 'soon': not a number"),
        (["triage", "--once", "--watch", "5"], "argument --watch: not allowed with argument --once"),
    ],
)
def test_bad_options_are_one_line_and_exit_2(
    args: list[str], expected: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(args)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert expected in err and err.count("\n") == 1, err


def test_help_names_the_options_of_the_main_command(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["triage", "--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    for option in ("--kubeconfig", "--context", "--namespace", "--prometheus-url", "--triton-url", "--json"):
        assert option in out


def test_sigint_ends_a_watch_at_once_while_the_api_server_answers_late(
    sim_kubeconfig: Callable[[str], tuple[SimThread, Path]], tmp_path: Path
) -> None:
    """Ctrl-C does not wait for the sources' requests: with the API server 60 s late it took 9 s and more (the
    pollers' stop, then their requests' threads), once longer than the 30 s the test above allows."""
    sim, path = sim_kubeconfig("healthy")
    process, reports, _reader = start_watch(path, tmp_path)
    try:
        wait_for(lambda: len(reports) >= 1 or process.poll() is not None, "a first report", timeout_s=60)
        with httpx.Client(base_url=sim.url, verify=False, timeout=10) as http:
            assert http.post("/sim/faults", content="api-latency=60s").status_code == 200
        slow_since = len(reports)
        # two reports later the sources have been asking the slow server for a second at least
        wait_for(lambda: len(reports) >= slow_since + 2 or process.poll() is not None, "reports", timeout_s=60)
        assert process.poll() is None, "the command ended by itself"
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"no exit 10 s after SIGINT; {signal_masks(process.pid)}") from None
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 130
    assert process.stderr is not None and process.stderr.read() == ""
