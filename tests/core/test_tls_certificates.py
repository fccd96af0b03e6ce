"""The ingress certificate: read from tls.crt alone, expired fails, expiring soon warns; a Secret that cannot be read
says why."""

from __future__ import annotations

import base64
import datetime as dt
from collections.abc import Callable
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from nimify_tui.kube.certificates import CertificateInfo, certificate_from_pem, read_certificate
from nimify_tui.kube.client import KubeClient
from nimify_tui.live.keys import TLS_CERTIFICATES
from nimify_tui.live.store import Store
from nimify_tui.sim.k8s.kubeconfig import write_kubeconfig
from nimify_tui.sim.server import SimThread
from nimify_tui.triage.checks import check_tls

NOW = dt.datetime(2026, 12, 7, 12, 0, tzinfo=dt.timezone.utc)


def certificate(not_after: dt.datetime, host: str = "api.example.com") -> bytes:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)])
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_after - dt.timedelta(days=90))
        .not_valid_after(not_after)
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(host)]), critical=False)
        .sign(key, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.PEM)


def test_the_leaf_certificate_is_read_with_its_dates_and_names() -> None:
    after = NOW - dt.timedelta(days=3)
    info = certificate_from_pem("web", "api-tls", certificate(after) + certificate(NOW + dt.timedelta(days=400)))
    assert (info.subject, info.dns_names, info.not_after) == (
        "CN=api.example.com",
        ("api.example.com",),
        after.timestamp(),
    )
    assert info.problem is None
    bad = certificate_from_pem(
        "web", "api-tls", b"-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n"
    )
    assert bad.problem is not None and bad.problem.startswith("tls.crt is not a PEM certificate")


def client_for(sim: SimThread, folder: Path, context: str = "sim-admin") -> KubeClient:
    kubeconfig = folder / "kubeconfig"
    write_kubeconfig(sim, kubeconfig)
    return KubeClient.from_kubeconfig(str(kubeconfig), context)


def test_only_tls_crt_is_read_from_a_real_secret_and_refusals_are_explained(
    sim_factory: Callable[..., SimThread], tmp_path: Path
) -> None:
    sim = sim_factory(scenario="healthy")
    admin = client_for(sim, tmp_path)
    pem = certificate(NOW + dt.timedelta(days=30))
    secret = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "api-tls", "namespace": "nimify-system"},
        "type": "kubernetes.io/tls",
        "data": {"tls.crt": base64.b64encode(pem).decode(), "tls.key": base64.b64encode(b"KEY-CANARY").decode()},
    }
    admin.send_json("POST", "/api/v1/namespaces/nimify-system/secrets", secret)
    info = read_certificate(admin, "nimify-system", "api-tls")
    assert info.problem is None and info.subject == "CN=api.example.com"
    assert "KEY-CANARY" not in repr(info) and "S0VZLUNBTkFSWQ" not in repr(info)
    missing = read_certificate(admin, "nimify-system", "nope")
    assert missing.problem is not None and missing.problem.startswith("cannot read secret nimify-system/nope: ")
    empty = {**secret, "metadata": {"name": "empty", "namespace": "nimify-system"}, "data": {}}
    admin.send_json("POST", "/api/v1/namespaces/nimify-system/secrets", empty)
    assert read_certificate(admin, "nimify-system", "empty").problem == "secret nimify-system/empty has no tls.crt"


def store_with(*infos: CertificateInfo) -> Store:
    store = Store()
    store.put(TLS_CERTIFICATES, {(i.namespace, i.secret): i for i in infos})
    return store


def test_expired_fails_soon_warns_valid_passes() -> None:
    now = NOW.timestamp()
    expired = certificate_from_pem("web", "old", certificate(NOW - dt.timedelta(days=1)))
    finding = check_tls(store_with(expired), now)
    assert (finding.state, finding.evidence) == (
        "fail",
        "secret web/old (CN=api.example.com) expired 2026-12-06 12:00 UTC",
    )
    soon = certificate_from_pem("web", "soon", certificate(NOW + dt.timedelta(days=5)))
    assert check_tls(store_with(soon), now).state == "warn"
    valid = certificate_from_pem("web", "ok", certificate(NOW + dt.timedelta(days=60)))
    assert check_tls(store_with(valid), now).state == "pass"
    assert check_tls(Store(), now).state == "unknown"
