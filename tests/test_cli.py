"""The commands: --help everywhere, one-line errors with exit status 2, the scenario list, fast imports."""

from __future__ import annotations

import subprocess
import sys

import pytest

from nimify_tui.cli import main


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "nimify_tui", *args], capture_output=True, text=True, timeout=60, check=False
    )


@pytest.mark.parametrize("command", [[], ["demo"], ["sim"], ["scenarios"], ["rules"]])
def test_every_command_has_help(command: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main([*command, "--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: nimify-tui")


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--bogus"], "unrecognized arguments: --bogus"),
        (["sim", "--port", "70000"], "invalid port 70000"),
        (["sim", "--port", "http"], "invalid port 'http'"),
        (["sim", "--scenario", "no-such"], "unknown scenario 'no-such'"),
        (["demo", "--scenario", "no-such"], "unknown scenario 'no-such'"),
        (["sim", "--pods", "-3"], "invalid count -3"),
        (["sim", "--event-rate", "fast"], "invalid rate 'fast'"),
        (["frobnicate"], "invalid choice: 'frobnicate'"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(args: list[str], expected: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(args)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert expected in err
    assert err.count("\n") == 1, err


def test_scenarios_lists_each_with_what_breaks_and_the_fix(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["scenarios"]) == 0
    lines = capsys.readouterr().out.splitlines()
    names = [line.split(":", 1)[0] for line in lines]
    for name in (
        "healthy",
        "crashloop-oom",
        "bad-rollout",
        "resource-exhaustion",
        "storage-full",
        "ingress-broken",
        "triton-down",
        "gpu-xid",
        "latency-spike",
    ):
        assert name in names
    oom = next(line for line in lines if line.startswith("crashloop-oom"))
    assert "Scenario 1" in oom and '"memory":"2Gi"' in oom


def test_bad_kubeconfig_is_a_clear_message(tmp_path: pytest.TempPathFactory) -> None:
    broken = tmp_path / "kubeconfig"  # type: ignore[operator]
    broken.write_text("this: [is not: a kubeconfig")
    result = run_cli("--kubeconfig", str(broken))
    assert result.returncode == 2
    assert "kubeconfig" in result.stderr and str(broken) in result.stderr
    assert "Traceback" not in result.stderr


def test_missing_context_names_the_contexts(tmp_path: pytest.TempPathFactory) -> None:
    config = tmp_path / "kubeconfig"  # type: ignore[operator]
    config.write_text(
        "apiVersion: v1\nkind: Config\ncurrent-context: a\n"
        "clusters: [{name: c, cluster: {server: 'http://127.0.0.1:1'}}]\n"
        "users: [{name: u, user: {token: t}}]\n"
        "contexts: [{name: a, context: {cluster: c, user: u}}]\n"
    )
    result = run_cli("--kubeconfig", str(config), "--context", "prod")
    assert result.returncode == 2
    assert "context 'prod' is not in the kubeconfig (contexts: a)" in result.stderr


def test_importing_the_cli_does_not_load_textual_or_the_kubernetes_client() -> None:
    code = (
        "import sys, nimify_tui.cli; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('textual', 'kubernetes', 'rich')))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert result.stdout.strip() == "[]"


def test_the_app_and_the_triage_load_no_heavy_client_until_used() -> None:
    """aiohttp (the exec client's WebSocket) and tritonclient cost the start 0.2-0.35 s each: imported when used."""
    code = (
        "import sys, nimify_tui.ui.app, nimify_tui.triage.checks, nimify_tui.snapshot.take; "
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'aiohttp', 'tritonclient'}))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert result.stdout.strip() == "[]"


def test_rules_prints_the_runbook_rules_with_the_corrected_error_rate(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["rules"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("# NimifyHighErrorRate is corrected: the runbook divides each 5xx series by itself")
    assert (
        '# The runbook writes: rate(http_requests_total{status=~"5.."}[5m]) / rate(http_requests_total[5m]) > 0.01\n'
        in out
    )
    assert (
        "  - alert: NimifyHighErrorRate\n"
        '    expr: sum(rate(http_requests_total{status=~"5.."}[5m])) / sum(rate(http_requests_total[5m])) > 0.01\n'
        "    for: 2m\n"
    ) in out
    assert '  - alert: NimifyAPIDown\n    expr: up{job="nimify-api"} == 0\n    for: 30s\n' in out
