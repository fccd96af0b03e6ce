"""One clear, specific message for every way a Kubernetes request can fail."""

from __future__ import annotations

from typing import Any

import orjson

_STATUS_HINTS: dict[int, str] = {
    400: "bad request",
    401: "not authenticated: the credentials in the kubeconfig were refused (expired token?)",
    403: "forbidden",
    404: "not found",
    405: "method not allowed",
    409: "conflict: the object changed since it was read; reload and try again",
    410: "gone: the resourceVersion is too old",
    415: "unsupported media type",
    422: "invalid",
    429: "too many requests: the API server is throttling us",
    500: "internal error in the API server",
    503: "service unavailable",
    504: "gateway timeout",
}


MUTATING_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class KubeError(Exception):
    """A failed Kubernetes request. ``status`` is the HTTP code, 0 when no answer came back."""

    def __init__(
        self, status: int, reason: str, message: str, *, retry_after_s: float | None = None, method: str = ""
    ) -> None:
        super().__init__(message)
        self.status = status
        self.reason = reason
        self.message = message
        self.retry_after_s = retry_after_s  # the server's Retry-After (429, 503): not before that many seconds
        self.method = method  # the request's, where it matters: a change whose answer never came

    @property
    def outcome_unknown(self) -> bool:
        """A change was sent and no answer came back (timed out, or the connection broke under it): the API server
        may have carried it out or not. Only a fresh read says which."""
        return self.status == 0 and self.reason in ("Timeout", "Broken") and self.method in MUTATING_METHODS

    @property
    def timed_out(self) -> bool:
        """No answer in time: the request may or may not have been carried out."""
        return self.status == 0 and self.reason == "Timeout"

    @property
    def transient(self) -> bool:
        """Worth retrying by itself (connection trouble, throttling, server errors)."""
        return self.status == 0 or self.status == 429 or self.status >= 500


def retry_after_seconds(header: str | None) -> float | None:
    """A Retry-After header's delay in seconds (the HTTP-date form is not used by API servers: None)."""
    if header is None:
        return None
    try:
        seconds = float(header.strip())
    except ValueError:
        return None
    return seconds if 0 <= seconds < 24 * 3600 else None


def error_from_response(status: int, data: bytes, method: str, path: str, retry_after: str | None = None) -> KubeError:
    """Turn a non-2xx answer into a KubeError, preferring the API server's own Status message; ``retry_after`` is
    the answer's Retry-After header."""
    reason = ""
    message = ""
    try:
        body: Any = orjson.loads(data) if data else None
    except orjson.JSONDecodeError:
        body = None
    if isinstance(body, dict):
        reason = str(body.get("reason") or "")
        message = str(body.get("message") or body.get("error") or "")
    hint = _STATUS_HINTS.get(status, "request failed")
    if not message:
        text = data[:200].decode("utf-8", "replace").strip() if data else ""
        message = f"{hint}" + (f": {text}" if text else "")
    elif status in (401, 409, 429):
        message = f"{hint} ({message})"
    wait = retry_after_seconds(retry_after)
    if wait is not None:
        message += f" (retry after {wait:g} s)"
    return KubeError(
        status, reason or hint.split(":")[0], f"{method} {path}: HTTP {status}: {message}", retry_after_s=wait
    )


def error_from_transport(exc: Exception, method: str, path: str, server: str) -> KubeError:
    """No HTTP answer: refused, timed out, TLS, DNS. Say which, and where."""
    if isinstance(exc, KubeError):
        return exc
    name = type(exc).__name__
    text = str(exc)
    lowered = (name + " " + text).lower()
    if "connect timeout" in lowered or "connecttimeout" in lowered:  # nothing was sent
        what = f"the API server at {server} did not take the connection in time"
    elif "timeout" in lowered or "timed out" in lowered:
        return KubeError(
            0, "Timeout", f"{method} {path}: the API server at {server} did not answer in time", method=method
        )
    elif "refused" in lowered:
        what = f"the API server at {server} refused the connection (is it up?)"
    elif "ssl" in lowered or "certificate" in lowered:
        what = f"TLS with the API server at {server} failed: {text[:160]}"
    elif "name or service not known" in lowered or "nodename nor servname" in lowered or "resolve" in lowered:
        what = f"the API server host in {server} cannot be resolved"
    elif "protocol" in lowered or "incomplete" in lowered or "reset" in lowered or "closed" in lowered:
        return KubeError(0, "Broken", f"{method} {path}: the connection to {server} broke ({name})", method=method)
    else:
        what = f"cannot reach the API server at {server}: {name}: {text[:160]}"
    return KubeError(0, "Unreachable", f"{method} {path}: {what}")
