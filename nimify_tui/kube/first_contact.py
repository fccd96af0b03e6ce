"""The first request to a cluster: whether the API server will talk to this kubeconfig's user at all.

Two answers will not fix themselves while the TUI or a snapshot waits: the server refuses the credentials (an expired
token, a revoked certificate: HTTP 401), or this side does not trust the server's certificate (a self-signed one, or
one not signed by the kubeconfig's authority). Either is said in one line before anything starts. A server that does
not answer at all is not refused here: the panes say so, and recover when it is back.
"""

from __future__ import annotations

from nimify_tui.kube.client import KubeClient
from nimify_tui.kube.errors import KubeError

PROBE_PATH = "/api"  # needs an authenticated user (unlike /version or /healthz), and any authenticated user may GET it


def refusal(client: KubeClient, timeout_s: float = 5.0) -> str | None:
    """Why the API server and this client cannot talk (credentials refused, certificate not trusted), found with one
    GET; None when it answers, or does not answer at all."""
    try:
        client.request("GET", PROBE_PATH, timeout=(timeout_s, timeout_s))
    except KubeError as exc:
        server, context = client.identity.server, client.identity.context
        if exc.status == 401:
            return (
                f"the API server at {server} refused the credentials of context {context!r} (HTTP 401: "
                "expired or revoked; log in again or renew the token)"
            )
        if exc.status == 0 and _untrusted_certificate(exc.message):
            return (
                f"the certificate of the API server at {server} is not trusted by context {context!r} (self-signed, "
                "or not signed by the kubeconfig's certificate-authority)"
            )
    return None


def _untrusted_certificate(message: str) -> bool:
    lowered = message.lower()
    return "certificate" in lowered and ("verify" in lowered or "self-signed" in lowered or "self signed" in lowered)
