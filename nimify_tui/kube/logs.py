"""Container logs: the query kubectl sends, and a stream of raw lines (current or previous container).

A line longer than the log store keeps is cut as it arrives, with the store's marker: a container that writes
megabytes without a line ending cannot grow the reader's memory.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from nimify_tui.kube.client import KubeClient
from nimify_tui.kube.logtext import DEFAULT_MAX_LINE_CHARS

FOLLOW_READ_TIMEOUT = 3600.0  # a quiet container may print nothing for a long time


@dataclass(frozen=True)
class LogRequest:
    namespace: str
    pod: str
    container: str
    follow: bool = True
    previous: bool = False
    tail_lines: int | None = 10_000
    timestamps: bool = True
    since_seconds: int | None = None

    @property
    def path(self) -> str:
        return f"/api/v1/namespaces/{self.namespace}/pods/{self.pod}/log"

    def query(self) -> dict[str, Any]:
        query: dict[str, Any] = {"container": self.container, "timestamps": self.timestamps}
        if self.follow and not self.previous:
            query["follow"] = True
        if self.previous:
            query["previous"] = True
        if self.tail_lines is not None:
            query["tailLines"] = self.tail_lines
        if self.since_seconds is not None:
            query["sinceSeconds"] = self.since_seconds
        return query

    def describe(self) -> str:
        which = "previous container" if self.previous else ("following" if self.follow else "snapshot")
        return f"{self.namespace}/{self.pod} [{self.container}] {which}"


def stream_log_lines(client: KubeClient, request: LogRequest, closer: list[Any] | None = None) -> Iterator[bytes]:
    """Raw log lines as the API server sends them; ends when the container ends (or at once without follow).

    A missing previous container is the API server's 400 ``previous terminated container ... not found``, raised
    as a KubeError with that message.
    """
    read_timeout = FOLLOW_READ_TIMEOUT if request.follow and not request.previous else None
    return client.stream_lines(
        request.path, request.query(), read_timeout=read_timeout, closer=closer, max_line_chars=DEFAULT_MAX_LINE_CHARS
    )
