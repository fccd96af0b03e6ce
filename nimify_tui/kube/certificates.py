"""The certificate an ingress serves, read from its TLS Secret's ``tls.crt`` only: the private key is never read,
kept or journaled.

``kubernetes.io/tls`` Secrets hold base64 PEM in ``data["tls.crt"]`` (the leaf first, then the chain). The leaf is the
certificate the ingress presents.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from typing import Any

from nimify_tui.kube.client import KubeClient
from nimify_tui.kube.errors import KubeError
from nimify_tui.text import one_line


@dataclass(frozen=True, slots=True)
class CertificateInfo:
    """The leaf certificate of one TLS Secret, or why it could not be read (``problem``)."""

    namespace: str
    secret: str
    subject: str = ""
    issuer: str = ""
    not_before: float | None = None
    not_after: float | None = None
    dns_names: tuple[str, ...] = ()
    problem: str | None = None


def certificate_from_pem(namespace: str, secret: str, pem: bytes) -> CertificateInfo:
    """The first certificate of a PEM bundle."""
    from cryptography import x509
    from cryptography.x509.oid import ExtensionOID

    try:
        leaf = x509.load_pem_x509_certificates(pem)[0]
    except (ValueError, IndexError) as exc:
        problem = f"tls.crt is not a PEM certificate ({one_line(str(exc), 80)})"
        return CertificateInfo(namespace, secret, problem=problem)
    try:
        names = leaf.extensions.get_extension_for_oid(ExtensionOID.SUBJECT_ALTERNATIVE_NAME).value
        dns = tuple(names.get_values_for_type(x509.DNSName))  # type: ignore[attr-defined]
    except x509.ExtensionNotFound:
        dns = ()
    return CertificateInfo(
        namespace,
        secret,
        subject=leaf.subject.rfc4514_string(),
        issuer=leaf.issuer.rfc4514_string(),
        not_before=leaf.not_valid_before_utc.timestamp(),
        not_after=leaf.not_valid_after_utc.timestamp(),
        dns_names=dns,
    )


def read_certificate(client: KubeClient, namespace: str, secret: str) -> CertificateInfo:
    """GET the Secret and decode ``tls.crt``; a refusal or a missing key is the answer's ``problem``."""
    try:
        obj: Any = client.get_json(f"/api/v1/namespaces/{namespace}/secrets/{secret}")
    except KubeError as exc:
        return CertificateInfo(namespace, secret, problem=f"cannot read secret {namespace}/{secret}: {exc.message}")
    encoded = ((obj or {}).get("data") or {}).get("tls.crt")
    del obj  # the Secret's other keys (tls.key) go no further than this function
    if not encoded:
        return CertificateInfo(namespace, secret, problem=f"secret {namespace}/{secret} has no tls.crt")
    try:
        pem = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        return CertificateInfo(namespace, secret, problem=f"secret {namespace}/{secret}: tls.crt is not base64")
    return certificate_from_pem(namespace, secret, pem)
