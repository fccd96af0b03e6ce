"""A renewed certificate put into an ingress's TLS Secret: what ``kubectl create secret tls NAME --cert --key
--dry-run=client -o yaml | kubectl apply -f -`` does, from files on this machine, checked before anything is sent.

The files are read when the operator names them. The new certificate must be valid now, belong to the key, and cover
the hosts the ingresses serve with this secret; otherwise nothing is sent. The private key goes into the request
body only: the dialog and the dry run's diff show the certificates' subjects, expiries and fingerprints, and
"(replaced, not shown)" for the key; the journal records a Secret's request with its data redacted.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import quote

from nimify_tui.actions.plan import ActionError, KubeAction, Parameter, ParameterError, Preview, Request, Target
from nimify_tui.kube.access import AccessCheck
from nimify_tui.kube.certificates import CertificateInfo, certificate_from_pem
from nimify_tui.kube.client import MERGE_PATCH, KubeClient
from nimify_tui.kube.errors import KubeError
from nimify_tui.text import one_line

if TYPE_CHECKING:
    from typing_extensions import Self

MAX_PEM_BYTES = 256 * 1024  # a certificate chain and its key are a few KiB; more is not a PEM file
KEY_SHOWN = "(replaced, not shown)"
_INGRESSES = "/apis/networking.k8s.io/v1/namespaces/{namespace}/ingresses"


def _when(at: float | None) -> str:
    return "?" if at is None else datetime.fromtimestamp(at, timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def _described(info: CertificateInfo, pem: bytes) -> str:
    if info.problem:
        return info.problem
    fingerprint = hashlib.sha256(pem).hexdigest()[:16]
    return f"{info.subject}, valid to {_when(info.not_after)}, sha256 {fingerprint}…"


def _covers(names: tuple[str, ...], host: str) -> bool:
    """Whether a certificate's DNS names cover ``host`` (a wildcard covers one label)."""
    for name in names:
        if name.lower() == host.lower():
            return True
        if name.startswith("*.") and "." in host and host.split(".", 1)[1].lower() == name[2:].lower():
            return True
    return False


def _read_pem(label: str, path: str) -> bytes:
    expanded = os.path.expanduser(path.strip())
    if not expanded:
        raise ParameterError(f"{label}: the path of a PEM file on this machine")
    try:
        size = os.path.getsize(expanded)
        if size > MAX_PEM_BYTES:
            raise ParameterError(f"{label}: {expanded} is {size} bytes, not a PEM file (at most {MAX_PEM_BYTES})")
        with open(expanded, "rb") as file:
            return file.read()
    except OSError as exc:
        raise ParameterError(f"{label}: cannot read {expanded}: {exc.strerror or exc}") from None


def _key_matches(cert_pem: bytes, key_pem: bytes) -> str | None:
    """Why the key does not belong to the certificate (None when it does)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    try:
        key = serialization.load_pem_private_key(key_pem, password=None)
    except (ValueError, TypeError) as exc:
        return f"the key file holds no unencrypted PEM private key ({one_line(str(exc), 80)})"
    leaf = x509.load_pem_x509_certificates(cert_pem)[0]
    spki = serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    if key.public_key().public_bytes(*spki) != leaf.public_key().public_bytes(*spki):
        return "the key does not belong to the certificate (their public keys differ)"
    return None


@dataclass(frozen=True)
class ReplaceTlsAction(KubeAction):
    """A merge patch of a ``kubernetes.io/tls`` Secret's ``tls.crt`` and ``tls.key``, guarded by the
    resourceVersion read."""

    verb: ClassVar[str] = "replace-tls"
    namespace: str
    name: str
    resource_version: str
    current: CertificateInfo
    current_pem: bytes = field(repr=False)
    hosts: tuple[str, ...]  # what the ingresses using this secret serve
    cert_path: str = ""
    key_path: str = ""
    new: CertificateInfo | None = None
    cert_pem: bytes = field(default=b"", repr=False)
    key_pem: bytes = field(default=b"", repr=False)

    @property
    def target(self) -> Target:
        return Target("Secret", self.namespace, self.name)

    @property
    def object_path(self) -> str:
        return f"/api/v1/namespaces/{self.namespace}/secrets/{quote(self.name, safe='')}"

    def summary(self) -> str:
        now = f"now {_when(self.current.not_after)}"
        if self.new is None:
            return f"replace the certificate of {self.target} ({now}) with renewed files"
        return f"replace the certificate of {self.target}: valid to {_when(self.new.not_after)} ({now})"

    def parameters(self) -> tuple[Parameter, ...]:
        hosts = ", ".join(self.hosts) or "its hosts"
        return (
            Parameter("cert", "Certificate file (PEM)", self.cert_path, "", help=f"the renewed chain for {hosts}"),
            Parameter("key", "Private key file (PEM)", self.key_path, "", help="read once; never shown or kept"),
        )

    def with_values(self, values: Mapping[str, str]) -> Self:
        cert_path, key_path = values.get("cert", self.cert_path), values.get("key", self.key_path)
        cert_pem, key_pem = _read_pem("cert", cert_path), _read_pem("key", key_path)
        new = certificate_from_pem(self.namespace, self.name, cert_pem)
        if new.problem:
            raise ParameterError(f"cert: {new.problem}")
        now = time.time()
        if new.not_after is not None and new.not_after <= now:
            raise ParameterError(f"cert: it expired {_when(new.not_after)}: not a renewed certificate")
        if new.not_before is not None and new.not_before > now:
            raise ParameterError(f"cert: it is not valid before {_when(new.not_before)}")
        uncovered = [host for host in self.hosts if not _covers(new.dns_names, host)]
        if uncovered:
            names = ", ".join(new.dns_names) or "no DNS name"
            raise ParameterError(f"cert: it does not cover {', '.join(uncovered)} (it names {names})")
        mismatch = _key_matches(cert_pem, key_pem)
        if mismatch:
            raise ParameterError(f"key: {mismatch}")
        return dataclasses.replace(
            self, cert_path=cert_path, key_path=key_path, new=new, cert_pem=cert_pem, key_pem=key_pem
        )

    def journal_parameters(self) -> dict[str, str]:
        parameters = {"resourceVersion": self.resource_version, "cert": self.cert_path}
        if self.new is not None:
            parameters["notAfter"] = _when(self.new.not_after)
            parameters["subject"] = self.new.subject
        return parameters

    def access_checks(self) -> tuple[AccessCheck, ...]:
        return (AccessCheck("patch", "", "secrets", "", self.namespace, self.name),)

    def blocked_reason(self) -> str | None:
        return None if self.new is not None else "name the renewed certificate's files first"

    def request(self) -> Request:
        data = {
            "tls.crt": base64.b64encode(self.cert_pem).decode(),
            "tls.key": base64.b64encode(self.key_pem).decode(),
        }
        # the journal writes a Secret's request with its data redacted
        body = {"metadata": {"resourceVersion": self.resource_version}, "data": data}
        return Request("PATCH", self.object_path, body, MERGE_PATCH)

    def _shown_data(self) -> dict[str, str]:
        new = _described(self.new, self.cert_pem) if self.new is not None else "(none yet)"
        return {"tls.crt": new, "tls.key": KEY_SHOWN}

    def make_preview(self, before: Any, after: Any) -> Preview:
        """The certificates compared, never the Secret's data (the key is in it)."""
        old = {"data": {"tls.crt": _described(self.current, self.current_pem), "tls.key": "(not shown)"}}
        new = {"data": self._shown_data()}
        return Preview.of_objects(old, new)

    def done_message(self, reply: Any) -> str:
        return f"secret/{self.name} patched"

    def _conflict(self, exc: KubeError) -> ActionError:
        return ActionError(
            f"{self.target} changed since it was read (resourceVersion {self.resource_version}); nothing was "
            f"applied: open it again (HTTP {exc.status})"
        )

    def preview(self) -> Preview:
        try:
            return super().preview()
        except KubeError as exc:
            if exc.status == 409:
                raise self._conflict(exc) from exc
            raise


def _hosts_served(client: KubeClient, namespace: str, secret: str) -> tuple[str, ...]:
    """The hosts the ingresses of ``namespace`` serve with ``secret`` (none when the list is refused)."""
    try:
        ingresses = client.get_json(_INGRESSES.format(namespace=namespace)).get("items") or []
    except KubeError:
        return ()
    hosts: list[str] = []
    for ingress in ingresses:
        for tls in (ingress.get("spec") or {}).get("tls") or []:
            if tls.get("secretName") == secret:
                hosts.extend(h for h in tls.get("hosts") or [] if h not in hosts)
    return tuple(hosts)


def plan_replace_tls(client: KubeClient, namespace: str, name: str) -> ReplaceTlsAction:
    """Read the Secret (its certificate is shown; its key is dropped here) and the hosts its ingresses serve."""
    try:
        secret = client.get_json(f"/api/v1/namespaces/{namespace}/secrets/{quote(name, safe='')}")
    except KubeError as exc:
        raise ActionError(f"cannot read secret {namespace}/{name}: {one_line(exc.message)}") from exc
    if secret.get("type") != "kubernetes.io/tls":
        raise ActionError(f"secret {namespace}/{name} is of type {secret.get('type')!r}, not kubernetes.io/tls")
    encoded = (secret.get("data") or {}).get("tls.crt") or ""
    version = str((secret.get("metadata") or {}).get("resourceVersion") or "")
    del secret  # its tls.key goes no further
    try:
        pem = base64.b64decode(encoded, validate=True)
    except ValueError:
        pem = b""
    current = certificate_from_pem(namespace, name, pem)
    return ReplaceTlsAction(client, namespace, name, version, current, pem, _hosts_served(client, namespace, name))
