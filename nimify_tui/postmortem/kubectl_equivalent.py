"""The kubectl command that does what a journaled action did, for the timeline (the journal keeps the request)."""

from __future__ import annotations

import json
import shlex
from collections.abc import Mapping
from typing import Any


def _ns(target: Mapping[str, Any]) -> list[str]:
    namespace = target.get("namespace")
    return ["-n", str(namespace)] if namespace else []


def _resources(parameters: Mapping[str, Any]) -> list[str]:
    limits = [f"{k.split('.', 1)[1]}={v}" for k, v in parameters.items() if k.startswith("limits.") and v]
    requests = [f"{k.split('.', 1)[1]}={v}" for k, v in parameters.items() if k.startswith("requests.") and v]
    words = []
    if limits:
        words.append("--limits=" + ",".join(limits))
    if requests:
        words.append("--requests=" + ",".join(requests))
    return words


def kubectl_equivalent(entry: Mapping[str, Any]) -> str:
    """One shell line (quoted for a POSIX shell) that makes the same change as the journaled ``action`` entry."""
    verb = str(entry.get("verb", ""))
    target: Mapping[str, Any] = entry.get("target") or {}
    parameters: Mapping[str, Any] = entry.get("parameters") or {}
    kind = str(target.get("kind", "")).lower()
    name = str(target.get("name", ""))
    request: Mapping[str, Any] = entry.get("request") or {}
    words: list[str]
    if verb == "scale":
        words = ["kubectl", *_ns(target), "scale", f"{kind}/{name}", f"--replicas={parameters.get('replicas', '')}"]
    elif verb == "set-resources":
        container = parameters.get("container")
        words = ["kubectl", *_ns(target), "set", "resources", f"{kind}/{name}"]
        words += [f"--containers={container}"] if container else []
        words += _resources(parameters)
    elif verb == "restart":
        words = ["kubectl", *_ns(target), "rollout", "restart", f"{kind}/{name}"]
    elif verb == "rollout-undo":
        revision = parameters.get("revision") or parameters.get("to-revision")
        words = ["kubectl", *_ns(target), "rollout", "undo", f"{kind}/{name}"]
        words += [f"--to-revision={revision}"] if revision else []
    elif verb == "cordon":
        words = ["kubectl", "cordon", name]
    elif verb == "delete":
        words = ["kubectl", *_ns(target), "delete", kind or "pod", name]
    elif verb == "edit":
        words = ["kubectl", *_ns(target), "edit", kind or "configmap", name]
    elif verb == "replace-tls":
        line = shlex.join(
            ["kubectl", *_ns(target), "create", "secret", "tls", name, "--cert=CERT.pem", "--key=KEY.pem"]
        )
        return f"{line} --dry-run=client -o yaml | kubectl apply -f -"
    elif verb == "exec":  # an in-pod step, the cache cleanup, a shell: the command as the journal wrote it
        words = ["kubectl", *_ns(target), "exec"]
        words += ["-it"] if parameters.get("interactive") == "true" else []
        words += [name] + (["-c", str(parameters["container"])] if parameters.get("container") else []) + ["--"]
        return f"{shlex.join(words)} {parameters.get('command', '')}".rstrip()
    else:  # expand, load-model, unload-model and any newer verb: the request as it was sent
        return _raw_request(target, request)
    return shlex.join(words)


def _raw_request(target: Mapping[str, Any], request: Mapping[str, Any]) -> str:
    method = str(request.get("method", "")).upper()
    path = str(request.get("path", ""))
    body = request.get("body")
    kind = str(target.get("kind", "")).lower()
    name = str(target.get("name", ""))
    if method == "PATCH" and kind and body is not None:
        words = ["kubectl", *_ns(target), "patch", kind, name, "-p", json.dumps(body, separators=(",", ":"))]
        return shlex.join(words)
    if method == "DELETE" and kind:
        return shlex.join(["kubectl", *_ns(target), "delete", kind, name])
    words = ["curl", "-X", method or "GET", path]
    if body is not None:
        words += ["-d", json.dumps(body, separators=(",", ":"))]
    return shlex.join(words)
