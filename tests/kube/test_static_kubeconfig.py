"""A static context read without the Kubernetes client is read as the client reads it; anything else is left to it.

Each kubeconfig below is loaded twice, by :func:`read_static` and by the Kubernetes client's own loader, and the two
must agree on the server, the TLS files' contents, verification, the server name and the Authorization value. Then
the contexts the fast reader must not take (exec plugins, auth providers, basic auth, proxies, merged files, broken
parts) and a client made from a static context talking to the simulator over TLS, without importing the client.
"""

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

from nimify_tui.kube.client import KubeClient
from nimify_tui.kube.kubeconfig import StaticContext, read_static
from nimify_tui.sim.k8s.kubeconfig import write_kubeconfig
from nimify_tui.sim.server import SimThread

CA = b"-----BEGIN CERTIFICATE-----\nMIIBca\n-----END CERTIFICATE-----\n"
CERT = b"-----BEGIN CERTIFICATE-----\nMIIBcert\n-----END CERTIFICATE-----\n"
KEY = b"-----BEGIN PRIVATE KEY-----\nMIIBkey\n-----END PRIVATE KEY-----\n"


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def config(cluster: dict[str, Any], user: dict[str, Any], namespace: str | None = "team-a") -> dict[str, Any]:
    context: dict[str, Any] = {"cluster": "c1", "user": "u1"}
    if namespace is not None:
        context["namespace"] = namespace
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "c1", "cluster": cluster}, {"name": "c2", "cluster": {"server": "https://other:6443"}}],
        "users": [{"name": "u1", "user": user}, {"name": "u2", "user": {"token": "not-this-one"}}],
        "contexts": [
            {"name": "ctx", "context": context},
            {"name": "other", "context": {"cluster": "c2", "user": "u2"}},
        ],
        "current-context": "ctx",
    }


@pytest.fixture
def write(tmp_path: Path) -> Callable[[dict[str, Any]], Path]:
    (tmp_path / "certs").mkdir()
    (tmp_path / "certs" / "ca.crt").write_bytes(CA)
    (tmp_path / "certs" / "client.crt").write_bytes(CERT)
    (tmp_path / "certs" / "client.key").write_bytes(KEY)
    (tmp_path / "token").write_text("file-token")

    def make(document: dict[str, Any]) -> Path:
        path = tmp_path / "kubeconfig"
        path.write_text(yaml.safe_dump(document))
        return path

    return make


STATIC_CASES = {
    "https, CA and client certificate as data": config(
        {"server": "https://10.0.0.1:6443/", "certificate-authority-data": b64(CA)},
        {"client-certificate-data": b64(CERT), "client-key-data": b64(KEY)},
    ),
    "https, files named relative to the kubeconfig": config(
        {"server": "https://api.example:6443", "certificate-authority": "certs/ca.crt"},
        {"client-certificate": "certs/client.crt", "client-key": "certs/client.key"},
    ),
    "https, token, no verification, a server name": config(
        {"server": "https://10.0.0.1:6443", "insecure-skip-tls-verify": True, "tls-server-name": "kubernetes"},
        {"token": "abc.def"},
        namespace=None,
    ),
    "a token file": config(
        {"server": "https://10.0.0.1", "certificate-authority-data": b64(CA)}, {"tokenFile": "token"}
    ),
    "plain http, nothing else": config({"server": "http://127.0.0.1:8080"}, {}),
}


def _by_the_kubernetes_client(path: Path, context: str | None) -> dict[str, Any]:
    from kubernetes import config as kconfig
    from kubernetes.client.configuration import Configuration

    loaded = Configuration()
    kconfig.load_kube_config(config_file=str(path), context=context, client_configuration=loaded)  # type: ignore[no-untyped-call]
    bearer = loaded.auth_settings().get("BearerToken", {}).get("value")
    return _seen(
        loaded.host,
        loaded.ssl_ca_cert,
        loaded.cert_file,
        loaded.key_file,
        loaded.verify_ssl,
        loaded.tls_server_name,
        bearer,
    )


def _by_the_static_reader(found: StaticContext) -> dict[str, Any]:
    return _seen(
        found.server,
        found.ca_file,
        found.cert_file,
        found.key_file,
        found.verify,
        found.tls_server_name,
        found.authorization,
    )


def _seen(
    host: str,
    ca: str | None,
    cert: str | None,
    key: str | None,
    verify: bool,
    name: str | None,
    authorization: str | None,
) -> dict[str, Any]:
    def content(file: str | None) -> bytes | None:
        return Path(file).read_bytes() if file else None

    return {
        "host": host,
        "ca": content(ca),
        "cert": content(cert),
        "key": content(key),
        "verify": verify,
        "server name": name,
        "authorization": authorization,
    }


@pytest.mark.parametrize("case", sorted(STATIC_CASES))
@pytest.mark.parametrize("context", [None, "ctx"])
def test_a_static_context_is_read_as_the_kubernetes_client_reads_it(
    case: str, context: str | None, write: Callable[[dict[str, Any]], Path]
) -> None:
    path = write(STATIC_CASES[case])
    found = read_static(str(path), context)
    assert found is not None
    assert _by_the_static_reader(found) == _by_the_kubernetes_client(path, context)
    assert (found.context, found.cluster, found.user, found.kubeconfig_file) == ("ctx", "c1", "u1", str(path))
    assert found.namespace == STATIC_CASES[case]["contexts"][0]["context"].get("namespace", "")
    for written in (found.ca_file, found.cert_file, found.key_file):  # data written to files only the user reads
        if written and not written.startswith(str(path.parent)):
            assert os.stat(written).st_mode & 0o077 == 0


def test_another_context_by_name(write: Callable[[dict[str, Any]], Path]) -> None:
    path = write(STATIC_CASES["plain http, nothing else"])
    found = read_static(str(path), "other")
    assert found is not None
    assert (found.server, found.user, found.authorization) == ("https://other:6443", "u2", "Bearer not-this-one")


def _with(cluster: dict[str, Any] | None = None, user: dict[str, Any] | None = None) -> dict[str, Any]:
    return config(
        {"server": "https://10.0.0.1:6443", "certificate-authority-data": b64(CA), **(cluster or {})},
        {"token": "t", **(user or {})},
    )


EXEC = {"exec": {"apiVersion": "client.authentication.k8s.io/v1", "command": "aws", "args": ["eks", "get-token"]}}
LEFT_TO_THE_CLIENT: dict[str, Callable[[Path], dict[str, Any]]] = {
    "an exec plugin": lambda _: config({"server": "https://h", "certificate-authority-data": b64(CA)}, EXEC),
    "an auth provider": lambda _: _with(user={"auth-provider": {"name": "oidc", "config": {}}}),
    "basic auth": lambda _: config({"server": "https://h"}, {"username": "u", "password": "p"}),
    "a proxy": lambda _: _with(cluster={"proxy-url": "http://proxy:3128"}),
    "impersonation": lambda _: _with(user={"as": "someone"}),
    "a missing certificate file": lambda _: _with(
        cluster={"certificate-authority-data": None}, user={"client-certificate": "nowhere.crt"}
    ),
    "data that is not base64": lambda _: _with(user={"client-key-data": "not base64 at all!"}),
    "a token with a line break": lambda _: _with(user={"token": "t\n"}),
    "an unknown context": lambda _: {**_with(), "current-context": "nowhere"},
    "no current context": lambda _: {key: value for key, value in _with().items() if key != "current-context"},
    "a context whose user is missing": lambda _: {**_with(), "users": []},
    "a server without a scheme": lambda _: config({"server": "10.0.0.1:6443"}, {"token": "t"}),
    "not a mapping": lambda _: {"clusters": "nonsense"},
}


@pytest.mark.parametrize("case", sorted(LEFT_TO_THE_CLIENT))
def test_anything_else_is_left_to_the_kubernetes_client(
    case: str, write: Callable[[dict[str, Any]], Path], tmp_path: Path
) -> None:
    assert read_static(str(write(LEFT_TO_THE_CLIENT[case](tmp_path))), None) is None


def test_no_file_several_files_or_bad_yaml_are_left_to_the_client(
    write: Callable[[dict[str, Any]], Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write(_with())
    assert read_static(str(tmp_path / "missing"), None) is None
    assert read_static(f"{path}{os.pathsep}{path}", None) is None  # merged by the client's rules
    (tmp_path / "bad").write_text("clusters: [unclosed\n")
    assert read_static(str(tmp_path / "bad"), None) is None
    monkeypatch.setenv("KUBECONFIG", "")  # the client takes an empty $KUBECONFIG as no file at all
    assert read_static(None, None) is None
    monkeypatch.setenv("KUBECONFIG", str(path))
    assert read_static(None, None) is not None


@pytest.fixture(scope="module")
def sim() -> Iterator[SimThread]:
    with SimThread(scenario="healthy") as served:
        yield served


def test_a_client_of_a_static_context_talks_tls_to_the_simulator_without_the_kubernetes_client(
    sim: SimThread, tmp_path: Path
) -> None:
    kubeconfig = write_kubeconfig(sim, tmp_path / "kubeconfig")
    script = (
        "import sys\n"
        "from nimify_tui.kube.client import KubeClient\n"
        f"client = KubeClient.from_kubeconfig({str(kubeconfig)!r}, 'sim-readonly')\n"
        "pods = client.get_json('/api/v1/namespaces/nimify-system/pods')['items']\n"
        "print(client.identity.server, client.identity.user, len(pods) > 0, 'kubernetes' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == [sim.https_url, "sim-readonly", "True", "False"]


def test_a_static_client_and_a_kubernetes_loaded_one_send_the_same_credentials(sim: SimThread, tmp_path: Path) -> None:
    kubeconfig = write_kubeconfig(sim, tmp_path / "kubeconfig")
    static = KubeClient.from_kubeconfig(str(kubeconfig), "sim-admin")
    loaded = KubeClient._loaded_by_kubernetes(str(kubeconfig), "sim-admin", namespace=None, readonly=False)
    try:
        assert static.auth_headers() == loaded.auth_headers() == {"Authorization": f"Bearer {sim.admin_token}"}
        assert static.identity == loaded.identity
        assert static.request("GET", "/api") == loaded.request("GET", "/api")
        assert static.ssl_context() is not None and loaded.ssl_context() is not None
    finally:
        static.close()
        loaded.close()
