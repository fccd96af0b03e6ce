"""A real session on a real client: no credential of its kubeconfig reaches the journal.

The kubeconfig's current user gets its token from an exec plugin (a script that prints an ExecCredential) and
presents a client certificate from ``client-*-data``; its other users hold a token, a password, an auth-provider
block, and files named for a key, a certificate and a token. Each credential is a canary that no text rule of the
redactor recognises, so only the session's registration can keep it out of the journal. The client sends no
request to open a session, so no API server is needed: the server named here is never contacted.
"""

from __future__ import annotations

import base64
import json
import secrets
import sys
from pathlib import Path

import yaml

from nimify_tui.config import load_settings
from nimify_tui.journal.journal import JOURNAL_FILE_NAME, read_journal
from nimify_tui.journal.redact import REDACTED
from nimify_tui.kube.client import KubeClient
from nimify_tui.session import Session
from nimify_tui.triage.checks import Finding

EXEC_API_VERSION = "client.authentication.k8s.io/v1beta1"
SERVER = "https://api.prod.example:6443"


def canary(label: str) -> str:
    return f"canary-{label}-{secrets.token_hex(8)}"


def encoded(value: str) -> str:
    return base64.b64encode(value.encode()).decode()


def write_exec_plugin(folder: Path, credential: str) -> Path:
    script = folder / "credential_plugin.py"
    output = {"apiVersion": EXEC_API_VERSION, "kind": "ExecCredential", "status": {"token": credential}}
    script.write_text(f"print({json.dumps(json.dumps(output))})\n")
    return script


def test_no_kubeconfig_credential_reaches_the_journal_of_a_real_session(tmp_path: Path) -> None:
    exec_output, exec_env = canary("exec-output"), canary("exec-env")
    key_data, cert_data = canary("key-data"), canary("cert-data")
    static, basic = canary("static"), canary("basic")
    id_jwt, refresh, access, client_sec = canary("id"), canary("refresh"), canary("access"), canary("client")
    key_file, cert_file, token_file = canary("key-file"), canary("cert-file"), canary("token-file")
    (tmp_path / "files").mkdir()
    (tmp_path / "files" / "client.key").write_text(key_file + "\n")
    (tmp_path / "files" / "client.crt").write_text(cert_file + "\n")
    (tmp_path / "files" / "token").write_text(token_file + "\n")
    plugin = write_exec_plugin(tmp_path, exec_output)
    oncall = {
        "exec": {
            "apiVersion": EXEC_API_VERSION,
            "command": sys.executable,
            "args": [str(plugin)],
            "env": [{"name": "AWS_SECRET_ACCESS_KEY", "value": exec_env}],
            "interactiveMode": "Never",
        },
        "client-key-data": encoded(key_data),
        "client-certificate-data": encoded(cert_data),
    }
    sso = {
        "auth-provider": {
            "name": "oidc",
            "config": {
                "client-id": "nimify",
                "idp-issuer-url": "https://sso.example",
                "id-token": id_jwt,
                "refresh-token": refresh,
                "access-token": access,
                "client-secret": client_sec,
            },
        }
    }
    kubeconfig = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "prod", "cluster": {"server": SERVER}}],
        "contexts": [{"name": "prod", "context": {"cluster": "prod", "user": "oncall"}}],
        "current-context": "prod",
        "users": [
            {"name": "oncall", "user": oncall},
            {"name": "static", "user": {"token": static}},
            {"name": "basic", "user": {"username": "admin", "password": basic}},
            {"name": "sso", "user": sso},
            {
                "name": "files",
                "user": {
                    "client-key": "files/client.key",
                    "client-certificate": "files/client.crt",
                    "tokenFile": "files/token",
                },
            },
        ],
    }
    path = tmp_path / "kubeconfig"
    path.write_text(yaml.safe_dump(kubeconfig))
    client = KubeClient.from_kubeconfig(str(path))
    assert client.auth_headers() == {"Authorization": f"Bearer {exec_output}"}, "the exec plugin gave the token"
    credentials = [exec_output, exec_env, key_data, cert_data, static, basic, id_jwt, refresh, access, client_sec]
    credentials += [key_file, cert_file, token_file, encoded(key_data), encoded(cert_data), encoded(f"admin:{basic}")]
    pasted = " ".join(credentials)

    session = Session(client, load_settings({"record_dir": tmp_path / "journal"}, {}, None))
    session.open()
    assert session.journal is not None, session.problem
    session.note(f"pasted from a chat: {pasted}")
    session.note("kubeconfig as seen:\n" + yaml.safe_dump(kubeconfig))
    session.note(f"odd placement: user={static[3:]}{static[:3]} x-{static}-y; Authorization: Bearer {exec_output}")
    finding = Finding(check="api-auth", title="API auth", state="fail", evidence=f"401 for {pasted}", runbook="")
    session.finding(finding, None)
    session.journal.action(
        who="oncall",
        verb="annotate",
        target_kind="Deployment",
        target_namespace="nimify-system",
        target_name="nimify-api",
        parameters={"reason": pasted},
        dry_run_diff=None,
        result="ok",
        error=None,
        duration_ms=1.0,
        request_method="PATCH",
        request_path="/apis/apps/v1/namespaces/nimify-system/deployments/nimify-api",
        request_body={"metadata": {"annotations": {"nimify.io/last-operator-note": pasted}}},
    )
    session.close("done")

    assert session.folder is not None
    journal_file = session.folder / JOURNAL_FILE_NAME
    raw = journal_file.read_text()
    leaked = [credential for credential in credentials if credential in raw]
    assert not leaked, f"credentials in the journal: {leaked}"
    entries = read_journal(journal_file)
    assert [entry["kind"] for entry in entries] == [
        "session_start",
        "note",
        "note",
        "note",
        "finding",
        "action",
        "session_end",
    ]
    assert entries[1]["text"] == "pasted from a chat: " + " ".join([REDACTED] * len(credentials))
    assert entries[4]["evidence"] == "401 for " + " ".join([REDACTED] * len(credentials))
    assert entries[5]["request"]["body"] == {
        "metadata": {"annotations": {"nimify.io/last-operator-note": " ".join([REDACTED] * len(credentials))}}
    }
    assert SERVER in raw and "admin" in raw, "the server and the user name are no secrets"
