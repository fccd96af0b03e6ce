"""Bad kubeconfigs, an unknown context, refused credentials and an untrusted server certificate, tried on purpose:
the TUI launch, ``triage`` and ``snapshot`` each answer with one line naming the problem and exit status 2, never a
traceback. Every case runs the real command in a child process (the TUI never starts: each case fails before it)."""

from __future__ import annotations

import base64
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from nimify_tui.sim.k8s.kubeconfig import kubeconfig
from nimify_tui.sim.k8s.tls import make_certificates
from nimify_tui.sim.server import SimThread

COMMANDS = {
    "tui": ([], "nimify-tui: "),
    "triage": (["triage"], "nimify-tui triage: "),
    "snapshot": (["snapshot"], "nimify-tui snapshot: "),
}


def run(command: str, kubeconfig_path: Path, *extra: str, home: Path) -> subprocess.CompletedProcess[str]:
    args, _prefix = COMMANDS[command]
    out = ["--out", str(home / "snapshot")] if command == "snapshot" else []
    kept = {name: value for name, value in os.environ.items() if not name.startswith(("NIMIFY_TUI_", "KUBECONFIG"))}
    return subprocess.run(
        [sys.executable, "-m", "nimify_tui", *args, "--kubeconfig", str(kubeconfig_path), *extra, *out],
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
        stdin=subprocess.DEVNULL,
        env={**kept, "XDG_CONFIG_HOME": str(home / "config"), "TERM": "dumb"},
    )


def assert_one_line_exit_2(result: subprocess.CompletedProcess[str], command: str, *names: str) -> None:
    prefix = COMMANDS[command][1]
    assert result.returncode == 2, (result.returncode, result.stderr)
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith(prefix) and result.stderr.count("\n") == 1, result.stderr
    for name in names:
        assert name in result.stderr, result.stderr


def write(path: Path, config: Any) -> Path:
    path.write_text(config if isinstance(config, str) else yaml.safe_dump(config))
    return path


LOCAL = {
    "apiVersion": "v1",
    "kind": "Config",
    "current-context": "a",
    "clusters": [{"name": "c", "cluster": {"server": "http://127.0.0.1:1"}}],
    "users": [{"name": "u", "user": {"token": "t"}}],
    "contexts": [{"name": "a", "context": {"cluster": "c", "user": "u"}}],
}

BROKEN_FILES: dict[str, tuple[Any, tuple[str, ...]]] = {
    "garbage YAML": ("this: [is not: a kubeconfig", ("is not valid",)),
    "not a mapping": ("- just\n- a list\n", ("is not valid",)),
    "no contexts": ({"apiVersion": "v1", "kind": "Config", "clusters": [], "users": []}, ("context",)),
    "a context's cluster missing": (
        {**LOCAL, "clusters": [{"name": "elsewhere", "cluster": {"server": "http://127.0.0.1:1"}}]},
        ("clusters",),
    ),
    "a context's user missing": ({**LOCAL, "users": []}, ("its user 'u' is not in the kubeconfig's users",)),
    "a failing exec plugin": (
        {
            **LOCAL,
            "users": [
                {
                    "name": "u",
                    "user": {
                        "exec": {
                            "apiVersion": "client.authentication.k8s.io/v1beta1",
                            "command": "false",
                            "interactiveMode": "Never",
                        }
                    },
                }
            ],
        },
        ("'a' cannot be loaded", "exec: process returned 1"),
    ),
}


@pytest.mark.parametrize("command", sorted(COMMANDS))
@pytest.mark.parametrize("case", sorted(BROKEN_FILES))
def test_a_kubeconfig_that_cannot_be_used(case: str, command: str, tmp_path: Path) -> None:
    config, names = BROKEN_FILES[case]
    path = write(tmp_path / "kubeconfig", config)
    assert_one_line_exit_2(run(command, path, home=tmp_path), command, *names)


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_a_missing_or_unreadable_kubeconfig(command: str, tmp_path: Path) -> None:
    missing = tmp_path / "no-such-kubeconfig"
    assert_one_line_exit_2(run(command, missing, home=tmp_path), command, str(missing))
    folder = tmp_path / "a-folder"  # read as a file, it cannot be
    folder.mkdir()
    assert_one_line_exit_2(run(command, folder, home=tmp_path), command, str(folder))


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_an_unknown_context_names_the_known_ones(command: str, tmp_path: Path) -> None:
    path = write(tmp_path / "kubeconfig", LOCAL)
    result = run(command, path, "--context", "nope", home=tmp_path)
    assert_one_line_exit_2(result, command, "context 'nope' is not in the kubeconfig (contexts: a)")


@pytest.fixture(scope="module")
def sim() -> Iterator[SimThread]:
    with SimThread(scenario="healthy") as served:
        yield served


@pytest.fixture
def sim_kubeconfig(sim: SimThread, tmp_path: Path) -> Callable[..., Path]:
    """A kubeconfig of the simulator, changed by ``change(config)``."""

    def make(change: Callable[[dict[str, Any]], None]) -> Path:
        config = kubeconfig(sim)
        change(config)
        return write(tmp_path / "kubeconfig", config)

    return make


def _expired_token(config: dict[str, Any]) -> None:
    config["users"] = [{**user, "user": {"token": "expired-" + user["user"]["token"]}} for user in config["users"]]


def _another_authority(config: dict[str, Any]) -> None:
    stranger = base64.b64encode(make_certificates().ca_pem).decode()
    config["clusters"][0]["cluster"]["certificate-authority-data"] = stranger


def _no_authority(config: dict[str, Any]) -> None:
    del config["clusters"][0]["cluster"]["certificate-authority-data"]  # the system's authorities: self-signed


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_refused_credentials(command: str, sim_kubeconfig: Callable[..., Path], tmp_path: Path) -> None:
    result = run(command, sim_kubeconfig(_expired_token), home=tmp_path)
    assert_one_line_exit_2(result, command, "401")
    assert not (tmp_path / "snapshot").exists()


@pytest.mark.parametrize("change", [_another_authority, _no_authority])
@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_a_server_certificate_not_signed_by_the_kubeconfig_s_authority(
    command: str, change: Callable[[dict[str, Any]], None], sim_kubeconfig: Callable[..., Path], tmp_path: Path
) -> None:
    result = run(command, sim_kubeconfig(change), home=tmp_path)
    assert_one_line_exit_2(result, command, "certificate")
    assert not (tmp_path / "snapshot").exists()
