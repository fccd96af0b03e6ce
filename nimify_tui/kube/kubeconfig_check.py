"""What a kubeconfig's context refers to that the kubeconfig lacks (its cluster, its user), said before loading it.

The Kubernetes client loads a context whose user is missing as one without credentials, and one whose exec plugin
fails as one without a token (it only logs the failure): both would reach the API server anonymously. Said here, and
by :func:`exec_failures`, they are one line at start instead.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any


def context_problem(config: Mapping[str, Any], context: Mapping[str, Any]) -> str | None:
    """Why ``context`` (a ``contexts`` entry) cannot be used with ``config`` (the merged kubeconfig); None if it
    can. Any shape of file is read without raising."""
    details = context.get("context")
    if not isinstance(details, Mapping):
        return "it has no cluster and no user"
    for part, plural in (("cluster", "clusters"), ("user", "users")):
        name = details.get(part)
        if not isinstance(name, str) or not name:
            return f"it names no {part}"
        entries = config.get(plural)
        names = [_name(entry) for entry in entries] if isinstance(entries, list) else []
        if name not in names:
            return f"its {part} {name!r} is not in the kubeconfig's {plural}"
    return None


def _name(entry: object) -> object:
    """An entry's name, from a mapping or the Kubernetes client's ConfigNode of one."""
    value = getattr(entry, "value", entry)
    return value.get("name") if isinstance(value, Mapping) else None


class _Collector(logging.Handler):
    """The errors the Kubernetes client's kubeconfig loader logs on the root logger, from this thread only: an
    asyncio "Task was destroyed" or another thread's error logged meanwhile is not the kubeconfig's problem."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.messages: list[str] = []
        self._thread = threading.get_ident()

    def emit(self, record: logging.LogRecord) -> None:
        loader = record.name == "root" and os.path.join("kubernetes", "config") in record.pathname
        if loader and record.thread == self._thread:
            self.messages.append(" ".join(record.getMessage().split()))


@contextmanager
def exec_failures() -> Iterator[list[str]]:
    """The errors the Kubernetes client logs while loading a kubeconfig (a failing exec plugin), collected instead of
    printed: the list is filled when the block ends."""
    collector = _Collector()
    root = logging.getLogger()
    root.addHandler(collector)
    try:
        yield collector.messages
    finally:
        root.removeHandler(collector)


def context_names(kubeconfig: str | None) -> tuple[list[str], str | None]:
    """The names of a kubeconfig's contexts, sorted, and its current context (``kubeconfig`` None: ``$KUBECONFIG``
    or ``~/.kube/config``); raises what the Kubernetes client raises on a file it cannot read."""
    from kubernetes import config as kconfig

    contexts, active = kconfig.list_kube_config_contexts(config_file=kubeconfig)  # type: ignore[no-untyped-call]
    names = sorted(str(entry.get("name")) for entry in contexts if isinstance(entry, Mapping))
    current = active.get("name") if isinstance(active, Mapping) else None
    return names, str(current) if current is not None else None
