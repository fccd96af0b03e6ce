"""Informers: list, then watch from the list's resourceVersion, into a shared store of lean records.

One informer (a daemon thread) per resource kind and namespace. Bookmarks keep the resourceVersion fresh; an expired
resourceVersion (410, in the stream or as the HTTP answer) leads to a relist; a broken connection to a reconnect with
exponential backoff and jitter; a watch that goes silent (no line, not even a bookmark, for three times the longest
quiet it has seen, from 10 s up to ``watch_idle_s``) to a reconnect from the last resourceVersion. A 429's
Retry-After quiets every informer of the connection for that long. Each informer reports its freshness so the UI can
mark a pane stale instead of freezing, and whether the API server answers at all (:class:`ApiServerReach`, shared by
the informers of one connection).
"""

from __future__ import annotations

import contextlib
import gc
import heapq
import itertools
import random
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import orjson

from nimify_tui.kube.client import KubeClient, decode_json, interrupt_stream
from nimify_tui.kube.errors import KubeError
from nimify_tui.kube.pruned_decode import pruned_decoder
from nimify_tui.live.keys import RECORDS, RecordsKey
from nimify_tui.live.screen_first import SCREEN_FIRST
from nimify_tui.live.store import SourceHealth, Store


@dataclass(frozen=True)
class ResourceKind:
    """Where a kind lives in the API."""

    name: str  # the store's key: "pods", "events", ...
    group_version: str  # "v1", "apps/v1", "networking.k8s.io/v1"
    plural: str
    namespaced: bool = True

    @property
    def key(self) -> RecordsKey[Any]:
        """Where its records are kept in the store."""
        return RECORDS[self.name]

    def path(self, namespace: str | None) -> str:
        base = "/api/v1" if self.group_version == "v1" else f"/apis/{self.group_version}"
        if self.namespaced and namespace:
            return f"{base}/namespaces/{namespace}/{self.plural}"
        return f"{base}/{self.plural}"


KINDS: dict[str, ResourceKind] = {
    k.name: k
    for k in (
        ResourceKind("pods", "v1", "pods"),
        ResourceKind("events", "v1", "events"),
        ResourceKind("nodes", "v1", "nodes", namespaced=False),
        ResourceKind("services", "v1", "services"),
        ResourceKind("endpoints", "v1", "endpoints"),
        ResourceKind("pvcs", "v1", "persistentvolumeclaims"),
        ResourceKind("deployments", "apps/v1", "deployments"),
        ResourceKind("replicasets", "apps/v1", "replicasets"),
        ResourceKind("ingresses", "networking.k8s.io/v1", "ingresses"),
        ResourceKind("networkpolicies", "networking.k8s.io/v1", "networkpolicies"),
        ResourceKind("poddisruptionbudgets", "policy/v1", "poddisruptionbudgets"),
        ResourceKind("resourcequotas", "v1", "resourcequotas"),
    )
}

Decoder = Callable[[dict[str, Any]], Any]


class ListTurns:
    """One list page is parsed and decoded at a time, and the list that started first goes first: the interpreter
    lock runs one decoder anyway, pages parsed at once would be held in memory together, and pages taken in turns
    by every informer would finish every namespace's list last (the main namespace, listed first, is complete
    after its own pages, not after everyone's). Later lists' pages are fetched meanwhile and wait here."""

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._tickets = itertools.count()
        self._waiting: list[int] = []  # a heap of the tickets waiting for their turn
        self._busy = False

    def ticket(self) -> int:
        """A list's place in line, taken when it starts."""
        return next(self._tickets)

    @contextlib.contextmanager
    def turn(self, ticket: int) -> Iterator[None]:
        """Hold the decoder while no list that started earlier waits for it."""
        with self._changed:
            heapq.heappush(self._waiting, ticket)
            self._changed.wait_for(lambda: not self._busy and self._waiting[0] == ticket)
            heapq.heappop(self._waiting)
            self._busy = True
        try:
            yield
        finally:
            with self._changed:
                self._busy = False
                self._changed.notify_all()


_LIST_TURNS = ListTurns()


class CollectorPause:
    """The cyclic garbage collector kept off while lists are decoded. A list of 50,000 pods makes millions of
    objects that live on (the records) or die by reference counting (the parsed JSON): the collector, triggered by
    the allocations, scanned the growing heap again and again (6.5 s of a 28 s start in 3,700 collections, 24 of
    them full). It is turned off when the first list starts, if it was on, and on again when the last list in
    progress ends; one turned on meanwhile by someone else (the main screen, once its first data is in) is left
    on. Lists make no reference cycles: nothing is kept from the collector, only delayed."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._lists = 0
        self._paused = False

    @contextlib.contextmanager
    def listing(self) -> Iterator[None]:
        with self._lock:
            self._lists += 1
            if self._lists == 1 and gc.isenabled():
                gc.disable()
                self._paused = True
        try:
            yield
        finally:
            with self._lock:
                self._lists -= 1
                if self._lists == 0 and self._paused:
                    self._paused = False
                    gc.enable()


_COLLECTOR_PAUSE = CollectorPause()


def object_key(obj: dict[str, Any]) -> tuple[str, str]:
    """The store's key of a raw object: its namespace (one shared copy of each: a key is kept as long as its
    record, and thousands of events name a few namespaces) and its name."""
    meta = obj.get("metadata")
    if not isinstance(meta, dict):  # a malformed object: its record says what could not be read
        return ("", "")
    return (sys.intern(str(meta.get("namespace") or "")), str(meta.get("name") or ""))


class ApiServerReach:
    """Whether the API server answers, as the informers of one connection see it. Thread-safe.

    Informers waiting to retry after a connection failure are woken as soon as one of them gets an answer, so that
    every pane recovers together soon after the server is back, without all of them knocking on a dead port.
    """

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._answers = 0  # grows with each answer that follows a failure
        self._failing_since: float | None = None  # time.time() of the first failure since the last answer
        self._error = ""

    def answered(self) -> None:
        if self._failing_since is None:  # the common case, on every watch line: no lock
            return
        with self._changed:
            self._failing_since = None
            self._answers += 1
            self._changed.notify_all()

    def unreachable(self, error: str) -> None:
        with self._changed:
            if self._failing_since is None:
                self._failing_since = time.time()
            self._error = error

    def problem(self) -> tuple[str, float] | None:
        """While unreachable: the last error and since when (time.time()); None while it answers."""
        with self._changed:
            since = self._failing_since
            return (self._error, since) if since is not None else None

    @property
    def answers(self) -> int:
        with self._changed:
            return self._answers

    def wait_for_answer(self, seen: int, timeout_s: float) -> bool:
        """Wait until an answer after a failure is counted past ``seen`` (True) or ``timeout_s`` passed (False)."""
        with self._changed:
            return self._changed.wait_for(lambda: self._answers != seen, timeout_s)


class Informer:
    """Keeps the store's ``kind.key`` in step with one kind in one namespace (or the whole cluster)."""

    WATCH_SECONDS = 240  # the server closes the watch after this; we resume from the last resourceVersion
    # the API server sends a bookmark about every minute on a watch that asked for them: silence longer than this
    # means the connection is dead without having been closed (a middlebox dropped it)
    WATCH_IDLE_SECONDS = 90.0
    MIN_WATCH_IDLE_SECONDS = 10.0  # once the server's quiet spells are known, silence is this long at least
    MAX_BACKOFF = 30.0
    MAX_UNREACHABLE_BACKOFF = 4.0
    MAX_ERROR_BACKOFF = 10.0  # 5xx answers: exponential up to this
    STOP_CHECK_S = 0.5  # a waiting informer looks this often whether it was stopped
    LIST_PAGE = 500  # objects a list page (kubectl's and client-go's page size)

    def __init__(
        self,
        client: KubeClient,
        kind: ResourceKind,
        namespace: str | None,
        store: Store,
        decode: Decoder,
        *,
        watch_seconds: int | None = None,
        watch_idle_s: float | None = None,
        reach: ApiServerReach | None = None,
    ) -> None:
        self.client = client
        self.kind = kind
        self.namespace = namespace if kind.namespaced else None
        self.store = store
        self.decode = decode
        # reads pages and watch events for the record's fields alone (pods and events); None: whole
        self.pruned = pruned_decoder(kind.name)
        self.watch_seconds = watch_seconds or self.WATCH_SECONDS
        self.watch_idle_s = watch_idle_s or self.WATCH_IDLE_SECONDS
        self._longest_quiet = 0.0  # the longest wait between two lines of a watch seen so far (0: none yet)
        self.reach = reach or ApiServerReach()
        self.source = f"{kind.name}/{self.namespace}" if self.namespace else kind.name
        self._stop = threading.Event()
        self._live_response: list[Any] = _AcceptedStreams(self._watch_opened)
        self._thread = threading.Thread(target=self._run, name=f"informer-{self.source}", daemon=True)
        self.relists = 0
        self.silent_watches = 0  # watches given up for silence
        self.watches_started = 0
        self.resource_version = ""
        self._first_place: int | None = None

    def start(self) -> None:
        self.store.set_health(self.source, SourceHealth("syncing"))
        # the first list's place in line is taken here, in the order the informers are started (the main
        # namespace first), not in the order their threads happen to run
        self._first_place = _LIST_TURNS.ticket()
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        for response in self._live_response:
            interrupt_stream(response)

    def join(self, timeout: float | None = None) -> None:
        if self._thread.ident is not None:  # one stopped before it was started has nothing to wait for
            self._thread.join(timeout)

    # --- the loop ---------------------------------------------------------------------------------------------
    def _run(self) -> None:
        failures = 0
        need_list = True
        while not self._stop.is_set():
            throttled = self.client.throttled_for()
            if throttled > 0:  # another informer of this connection was told to come back later
                self._pause(throttled * random.uniform(1.0, 1.2))
                continue
            try:
                if need_list:
                    with _COLLECTOR_PAUSE.listing():
                        self._list()
                    need_list = False
                self._watch()
                failures = 0
            except _Expired:
                need_list = True
            except _Silent:
                self.silent_watches += 1  # resumed at once from the last resourceVersion: nothing is lost
            except KubeError as exc:
                if self._stop.is_set():
                    return
                if exc.status == 410:
                    need_list = True
                    continue
                failures += 1
                need_list = need_list or not exc.transient  # a failed watch resumes from its resourceVersion
                self.store.mark_stale(self.source, exc.message)
                if exc.status == 0:
                    self.reach.unreachable(exc.message)
                self._pause(self._backoff(failures, exc), wake_on_answer=exc.status == 0)
            except Exception as exc:  # a bug or garbage must not kill the informer silently
                failures += 1
                self.store.mark_stale(self.source, f"{type(exc).__name__}: {exc}")
                need_list = True
                self._pause(self._backoff(failures, None))

    def _pause(self, seconds: float, *, wake_on_answer: bool = False) -> None:
        """Wait ``seconds``, or less: until stopped, or (``wake_on_answer``) until the API server answers another
        informer of this connection."""
        deadline = time.monotonic() + seconds
        seen = self.reach.answers
        while not self._stop.is_set():
            left = deadline - time.monotonic()
            if left <= 0:
                return
            if wake_on_answer:
                if self.reach.wait_for_answer(seen, min(left, self.STOP_CHECK_S)):
                    return
            else:
                self._stop.wait(min(left, self.STOP_CHECK_S))

    def _backoff(self, failures: int, exc: KubeError | None) -> float:
        """Exponential with jitter; a Retry-After's delay, with jitter that only lengthens it. Unreachable: at most
        4 s apart, and any answer to another informer ends the wait, so the panes recover soon after the API server
        does; server errors: up to 10 s; refused credentials will not fix themselves quickly: at least 5 s, up to
        30 s."""
        base = 0.5 * 2 ** min(failures - 1, 6)
        if exc is not None and exc.retry_after_s is not None:  # the server said when: then, give or take a little
            return float(min(exc.retry_after_s, self.MAX_BACKOFF) * random.uniform(1.0, 1.2))
        if exc is not None and exc.status in (401, 403, 404):
            base = min(max(base, 5.0), self.MAX_BACKOFF)
        elif exc is not None and exc.status != 0:
            base = min(base, self.MAX_ERROR_BACKOFF)
        else:
            base = min(base, self.MAX_UNREACHABLE_BACKOFF)
        return float(base * random.uniform(0.8, 1.2))

    def _list(self) -> None:
        """List in pages of ``LIST_PAGE`` objects (``limit`` and ``continue``, as kubectl and client-go do): each
        page is decoded while the server prepares the next, and only one page of parsed JSON is held at a time.
        The first list shows its first page at once; the whole list then replaces the namespace's records."""
        path = self.kind.path(self.namespace)
        items: dict[tuple[str, str], Any] = {}
        token = ""
        place = self._first_place if self._first_place is not None else _LIST_TURNS.ticket()
        self._first_place = None
        shown_early = self.relists > 0  # a relist keeps the records it had until the whole list is in
        while True:
            if self._stop.is_set():
                return  # stopped between two pages: what was read is not the server's list
            query: dict[str, Any] = {"limit": self.LIST_PAGE}
            if token:
                query["continue"] = token
            data = self.client.request("GET", path, query)  # the transfer overlaps with other informers' decoding
            with _LIST_TURNS.turn(place):
                page = self._decode_page(data, path)
                del data
            self.reach.answered()
            for obj_key, record in page.items:
                items[obj_key] = record
            token = page.token
            if not token:
                self.resource_version = page.resource_version  # a watch from it replays what changed meanwhile
                break
            if not shown_early:
                self.store.upsert_many(self.kind.key, page.items)
                shown_early = True
        self.store.replace(self.kind.key, self.namespace, items)
        self.relists += 1
        self.store.set_health(self.source, SourceHealth("live", last_ok=time.time()))

    def _decode_page(self, data: bytes, path: str) -> _Page:
        body = self.pruned.page(data) if self.pruned is not None else None
        if body is None:  # no pruning for this kind, or a page that does not fit its shape: read it whole
            body = decode_json(data, path)
        if not isinstance(body, dict) or not isinstance(body.get("items"), list):
            raise KubeError(0, "BadResponse", f"list {self.source}: the answer is not a list")
        listed: list[Any] = body.pop("items")
        decoded: list[tuple[tuple[str, str], Any]] = []
        step_aside = SCREEN_FIRST.step_aside
        for index, obj in enumerate(listed):
            listed[index] = None  # the parsed object goes as soon as its lean record is made
            step_aside()  # the screen answering a key goes first
            if isinstance(obj, dict):
                decoded.append((object_key(obj), self.decode(obj)))
        meta = body.get("metadata")
        meta = meta if isinstance(meta, dict) else {}
        return _Page(decoded, str(meta.get("resourceVersion") or ""), str(meta.get("continue") or ""))

    def _watch(self) -> None:
        query = {
            "watch": "true",
            "allowWatchBookmarks": "true",
            "resourceVersion": self.resource_version,
            "timeoutSeconds": self.watch_seconds,
        }
        self._live_response.clear()
        idle = self.silence_limit()  # for this whole watch
        self.watches_started += 1
        lines = self.client.stream_lines(
            self.kind.path(self.namespace),
            query,
            read_timeout=min(idle, self.watch_seconds + 30),  # the longest wait for one read: silence beyond
            closer=self._live_response,
        )
        last = time.monotonic()
        try:
            for line in lines:
                if self._stop.is_set():
                    return
                now = time.monotonic()
                self._longest_quiet = max(self._longest_quiet, now - last)
                last = now
                self.reach.answered()
                if not line.strip():
                    continue
                self._apply(line)
        except KubeError as exc:
            if exc.timed_out:  # give this server longer next time: its quiet spells may be longer than seen
                self._longest_quiet = max(self._longest_quiet, idle)
                raise _Silent() from exc
            raise

    def silence_limit(self) -> float:
        """How long a watch may send nothing before it is taken for dead: three times the longest quiet seen on
        this informer's watches (a server sends bookmarks at its own pace: the simulator each second, the API
        server about each minute), at least 10 s, at most ``watch_idle_s``; ``watch_idle_s`` until one is seen."""
        if not self._longest_quiet:
            return self.watch_idle_s
        floor = min(self.MIN_WATCH_IDLE_SECONDS, self.watch_idle_s)
        return min(self.watch_idle_s, max(floor, 3 * self._longest_quiet))

    def _watch_opened(self) -> None:
        """The server accepted the watch: what it sends from now on follows our resourceVersion."""
        self.reach.answered()
        self.store.touch(self.source)

    def _apply(self, line: bytes) -> None:
        SCREEN_FIRST.step_aside()  # the screen answering a key goes first
        event = self.pruned.event(line) if self.pruned is not None else None
        if event is not None:  # an object added, modified or deleted, read for its record's fields
            self._apply_change(event["type"], event["object"])
            return
        try:
            event = orjson.loads(line)
        except orjson.JSONDecodeError:
            self.store.mark_stale(self.source, f"watch {self.source}: a line that is not JSON ({line[:60]!r})")
            raise _Expired() from None
        if not isinstance(event, dict) or not isinstance(event.get("object") or {}, dict):
            self.store.mark_stale(self.source, f"watch {self.source}: an event that is not an object ({line[:60]!r})")
            raise _Expired()
        kind = event.get("type")
        obj = event.get("object") or {}
        if kind == "ERROR":
            code = obj.get("code")
            if code == 410:
                raise _Expired()
            raise KubeError(int(code or 0), str(obj.get("reason") or "Error"), str(obj.get("message") or obj))
        self._apply_change(kind, obj)

    def _apply_change(self, kind: Any, obj: dict[str, Any]) -> None:
        """An event's object: its resourceVersion followed, the store changed (a bookmark changes nothing)."""
        meta = obj.get("metadata")
        rv = meta.get("resourceVersion") if isinstance(meta, dict) else None
        if rv:
            self.resource_version = str(rv)
        if kind == "DELETED":
            self.store.remove(self.kind.key, object_key(obj))
        elif kind in ("ADDED", "MODIFIED"):
            self.store.upsert(self.kind.key, object_key(obj), self.decode(obj))
        self.store.touch(self.source)


@dataclass(frozen=True)
class _Page:
    """One page of a list, decoded: its records by key, the list's resourceVersion, and the token of the next page
    ("" for the last)."""

    items: list[tuple[tuple[str, str], Any]]
    resource_version: str
    token: str


class _AcceptedStreams(list[Any]):
    """The watch's live response, kept to interrupt it; its arrival means the server accepted the watch."""

    def __init__(self, accepted: Callable[[], None]) -> None:
        super().__init__()
        self._accepted = accepted

    def append(self, response: Any) -> None:
        super().append(response)
        self._accepted()


class _Expired(Exception):
    """The watch's resourceVersion expired: relist."""


class _Silent(Exception):
    """The watch sent nothing for too long: watch again from the last resourceVersion."""
