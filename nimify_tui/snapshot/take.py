"""Take a snapshot: the runbook's "Immediate Documentation" of the watched namespaces, written into one folder.

Every request is a read (Triton's repository index, a POST that changes nothing, only where ``index_post``
allows it) and they all run at once in a pool of threads. Everything written passes through the journal's
:class:`~nimify_tui.journal.redact.Redactor` (no Secret is ever read; environment values from Secrets are
printed as references, as ``kubectl describe`` prints them). A source that fails leaves its error in the
manifest and the rest is written anyway.
"""

from __future__ import annotations

import hashlib
import importlib
import os
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from nimify_tui.journal.redact import Redactor
from nimify_tui.kube.client import KubeClient
from nimify_tui.kube.errors import KubeError
from nimify_tui.snapshot import tables
from nimify_tui.snapshot.tables import TABLE_ACCEPT, Resource, aligned, no_resources_line, table_lines

if TYPE_CHECKING:  # the records, kubectl's rules and describe are imported where first used: by then the
    # snapshot's requests are on their way, and the import overlaps with the server's answering them
    from nimify_tui.kube.records import EventRecord, PodRecord

DEFAULT_LOG_LINES = 5000
TRITON_NAMESPACE = "triton-system"
_TEXT = "text/plain, */*"
_WORKERS = 16
_TRITON_WORKERS = 8  # one waits for the servers' answers, the others ask for them (three a server)
_HEALTHY_STATUSES = ("Running", "Completed", "Succeeded")
_API_NAMES = ("nimify-api",)
_TRITON_NAMES = ("triton-server", "triton")
_DCGM_NAMES = ("dcgm-exporter", "nvidia-dcgm-exporter")

STATE_FILE = "state.txt"
DESCRIBE_FILE = "pods-describe.txt"
EVENTS_FILE = "events.txt"
LOGS_DIR = "logs"
TRITON_FILE = "triton.json"
METRICS_DIR = "metrics"
TRIAGE_FILE = "triage.json"
MANIFEST_FILE = "manifest.json"


@dataclass(frozen=True)
class SnapshotOptions:
    """What to take: the watched namespaces (the main one first in describes), how many log lines per container."""

    namespaces: tuple[str, ...]
    main_namespace: str
    log_lines: int = DEFAULT_LOG_LINES
    index_post: bool = False  # whether Triton's repository index (a POST) may be asked for
    triton_namespace: str = TRITON_NAMESPACE


@dataclass
class Snapshot:
    """A snapshot taken: its folder, the files written (relative paths) and what could not be taken."""

    folder: Path
    files: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    took_s: float = 0.0
    cluster_s: float = 0.0  # until every file but triage.json was written


def default_folder(session_dir: Path | None, now: datetime | None = None) -> Path:
    """``<session>/snapshots/<YYYYmmdd-HHMMSS>`` in a session, else ``./incident-<YYYYmmdd-HHMM>``."""
    at = (now or datetime.now(timezone.utc)).astimezone(timezone.utc)
    if session_dir is not None:
        return session_dir / "snapshots" / f"{at:%Y%m%d-%H%M%S}"
    return Path(f"incident-{at:%Y%m%d-%H%M}")


def _new_folder(folder: Path) -> Path:
    """``folder``, created; ``-2``, ``-3``... when it exists already (two snapshots in one second)."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    attempt = 1
    while True:
        candidate = folder if attempt == 1 else folder.with_name(f"{folder.name}-{attempt}")
        try:
            candidate.mkdir(mode=0o700)
        except FileExistsError:
            attempt += 1
        else:
            return candidate


@dataclass(frozen=True)
class ListedPod:
    """A pod as listed, and what the snapshot chooses by: kubectl's STATUS and READY counts (``pod_status``: the
    pod's record would decode much more than that, for every pod of a big namespace)."""

    raw: dict[str, Any]
    namespace: str
    name: str
    labels: Mapping[str, str]
    status: str
    ready: int
    total: int
    record: PodRecord | None = None  # decoded where the pod is described whatever its state (the main namespace)

    @classmethod
    def of(cls, raw: dict[str, Any], namespace: str, *, decode: bool = False) -> ListedPod:
        from nimify_tui.kube.records import PodRecord
        from nimify_tui.kube.status import pod_status

        if decode:
            return cls.of_record(raw, PodRecord.from_raw(raw), namespace)
        try:
            metadata = raw.get("metadata") or {}
            shown = pod_status(raw)
            labels = metadata.get("labels")
            return cls(
                raw,
                str(metadata.get("namespace") or namespace),
                str(metadata.get("name") or ""),
                labels if isinstance(labels, Mapping) else {},
                shown.reason,
                shown.ready,
                shown.total,
            )
        except Exception:  # a malformed pod: the record's decoder reads what it can, and never raises
            return cls.of_record(raw, PodRecord.from_raw(raw), namespace)

    @classmethod
    def of_record(cls, raw: dict[str, Any], record: PodRecord, namespace: str) -> ListedPod:
        return cls(
            raw,
            record.namespace or namespace,
            record.name,
            record.labels,
            record.status,
            record.ready,
            record.total,
            record,
        )


def _named(pod: ListedPod, names: Sequence[str]) -> bool:
    app = pod.labels.get("app") or pod.labels.get("app.kubernetes.io/name") or ""
    return app in names or any(pod.name.startswith(name + "-") for name in names)


def unhealthy(pod: ListedPod) -> bool:
    """A pod the runbook looks at: not Running and not finished, or not every container ready."""
    if pod.status not in _HEALTHY_STATUSES:
        return True
    return pod.status == "Running" and pod.ready < pod.total


def _had_previous(raw: Mapping[str, Any], container: str) -> bool:
    for status in (raw.get("status") or {}).get("containerStatuses") or []:
        if status.get("name") == container:
            return bool(status.get("restartCount")) or "terminated" in (status.get("lastState") or {})
    return False


def _container_names(raw: Mapping[str, Any]) -> list[str]:
    return [str(c.get("name")) for c in (raw.get("spec") or {}).get("containers") or [] if c.get("name")]


class _Writer:
    """Writes the snapshot's files, redacted, and remembers what it wrote; thread-safe."""

    def __init__(self, folder: Path, redactor: Redactor) -> None:
        self.folder = folder
        self.redactor = redactor
        self.lock = threading.Lock()
        self.files: list[str] = []
        self.sums: dict[str, tuple[int, str]] = {}  # each file's size and sha256, as written
        self.errors: list[str] = []

    def text(self, name: str, text: str) -> None:
        self.raw(name, self.redactor.scrub_text(text).encode())

    def texts(self, name: str, parts: Iterable[str], separator: str) -> None:
        """Texts scrubbed one by one, then joined: a rule runs only over the parts that hold its words (scrubbing
        5,000 pods' describes as one text ran most rules over all of it)."""
        scrub = self.redactor.scrub_text
        self.raw(name, (separator.join(scrub(part) for part in parts) + "\n").encode())

    def json(self, name: str, value: object) -> None:
        self.raw(name, orjson.dumps(self.redactor.scrub(value), option=orjson.OPT_INDENT_2))

    def raw(self, name: str, data: bytes) -> None:
        path = self.folder / name
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        digest = hashlib.sha256(data).hexdigest()
        with self.lock:
            self.files.append(name)
            self.sums[name] = (len(data), digest)

    def error(self, what: str, exc: BaseException) -> None:
        message = self.redactor.scrub_text(f"{what}: {' '.join(str(exc).split()) or type(exc).__name__}")
        with self.lock:
            self.errors.append(message)


class _Taker:
    def __init__(
        self,
        client: KubeClient,
        options: SnapshotOptions,
        writer: _Writer,
        pool: ThreadPoolExecutor,
        triton_pool: ThreadPoolExecutor,
    ):
        self.client = client
        self.options = options
        self.writer = writer
        self.pool = pool
        # Triton's answers have workers of their own: asked for as soon as its pods are listed, not after the
        # dozens of tables and logs asked for before them (the last answers of a snapshot, otherwise)
        self.triton_pool = triton_pool
        if options.index_post:  # its client imported while the first lists are on their way (httpx imports its
            # transport, httpcore, when the first client is made: 30 ms more)
            for module in ("nimify_tui.triton.client", "httpcore"):
                triton_pool.submit(importlib.import_module, module)

    # --- requests ---------------------------------------------------------------------------------------------
    def table(self, resource: Resource, namespace: str | None) -> Any:
        # only the cells are printed: no object in each row (the server's default is each one's metadata)
        query = {"includeObject": "None"}
        return orjson.loads(self.client.request("GET", resource.path(namespace), query, accept=TABLE_ACCEPT))

    def items(self, path: str) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = self.client.get_json(path).get("items") or []
        return found

    def text(self, path: str, query: Mapping[str, Any] | None = None) -> bytes:
        return self.client.request("GET", path, query, accept=_TEXT)

    # --- state.txt --------------------------------------------------------------------------------------------
    def state(self, now: float) -> None:
        sections: list[tuple[str, Sequence[tuple[Resource, str | None]], bool]] = []
        for namespace in self.options.namespaces:
            sections.append((f"kubectl get all -o wide -n {namespace}", [(r, namespace) for r in tables.ALL], True))
        sections.append(("kubectl get nodes -o wide", [(tables.NODES, None)], False))
        for namespace in self.options.namespaces:
            sections.append((f"kubectl get pvc -o wide -n {namespace}", [(tables.PVCS, namespace)], False))
        sections.append(("kubectl get pv -o wide", [(tables.PVS, None)], False))
        for namespace in self.options.namespaces:
            sections.append((f"kubectl get ingress -o wide -n {namespace}", [(tables.INGRESSES, namespace)], False))
        asked = {(r, ns): self.pool.submit(self.table, r, ns) for _, wanted, _ in sections for r, ns in wanted}
        out: list[str] = []
        for command, wanted, prefixed in sections:
            out.append(f"# {command}")
            blocks: list[list[str]] = []
            for resource, listed_in in wanted:
                try:
                    lines = table_lines(
                        asked[(resource, listed_in)].result(), wide=True, prefix=resource.prefix if prefixed else ""
                    )
                except KubeError as exc:
                    if exc.status == 404:  # a kind this server does not serve: kubectl does not list it either
                        continue
                    self.writer.error(f"{command}: {resource.plural}", exc)
                    lines = [f"({resource.plural}: {' '.join(str(exc).split())})"]
                except Exception as exc:  # an answer that is not a Table
                    self.writer.error(f"{command}: {resource.plural}", exc)
                    lines = [f"({resource.plural}: {' '.join(str(exc).split())})"]
                if lines:
                    blocks.append(lines)
            if not blocks:
                blocks.append([no_resources_line(wanted[0][1])])
            for i, block in enumerate(blocks):
                if i:
                    out.append("")
                out.extend(block)
            out.append("")
        out.append(f"# taken at {datetime.fromtimestamp(now, timezone.utc):%Y-%m-%dT%H:%M:%SZ}")
        self.writer.text(STATE_FILE, "\n".join(out) + "\n")

    # --- pods, describes, logs, events ------------------------------------------------------------------------
    def ask_pods_and_events(self) -> tuple[dict[str, Future[list[dict[str, Any]]]], ...]:
        namespaces = self.options.namespaces
        pods = {ns: self.pool.submit(self.items, f"/api/v1/namespaces/{ns}/pods") for ns in namespaces}
        events = {ns: self.pool.submit(self.items, f"/api/v1/namespaces/{ns}/events") for ns in namespaces}
        return pods, events

    def pods(self, namespace: str, listed: Future[list[dict[str, Any]]]) -> list[ListedPod]:
        decode = namespace == self.options.main_namespace  # each of its pods is described
        try:
            return [ListedPod.of(obj, namespace, decode=decode) for obj in listed.result()]
        except Exception as exc:
            self.writer.error(f"pods of {namespace}", exc)
            return []

    def ask_about(self, pods: Sequence[ListedPod]) -> list[Future[None]]:
        """The logs, scrapes and Triton answers of some listed pods (one namespace's), asked for at once."""
        asked = [*self.logs(pods), *self.metrics(pods)]
        if any(pod.namespace == self.options.triton_namespace for pod in pods):
            asked.append(self.triton_pool.submit(self.triton, pods))
        return asked

    def events(self, asked: Mapping[str, Future[list[dict[str, Any]]]], now: float) -> list[EventRecord]:
        """events.txt, oldest first by LAST SEEN, as ``kubectl get events --sort-by=.lastTimestamp`` lists them."""
        from nimify_tui.kube.records import EventRecord
        from nimify_tui.render.kubectl import event_row, event_sort_key

        events: list[EventRecord] = []
        for ns, listed in asked.items():
            try:
                events.extend(EventRecord.from_raw(obj) for obj in listed.result())
            except Exception as exc:
                self.writer.error(f"events of {ns}", exc)
        events.sort(key=event_sort_key)
        grid = [["NAMESPACE", "LAST SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"]]
        grid.extend([e.namespace, *event_row(e, now)[:5]] for e in events)
        self.writer.text(EVENTS_FILE, "\n".join(aligned(grid) if events else ["No events found"]) + "\n")
        return events

    def describes(self, pods: Sequence[ListedPod], events: Sequence[EventRecord], now: float) -> None:
        """pods-describe.txt: every pod of the main namespace, then the unhealthy ones elsewhere."""
        from nimify_tui.render.describe import describe_pod

        by_object: dict[tuple[str, str], list[EventRecord]] = {}
        for event in events:
            if event.object_kind == "Pod":
                by_object.setdefault((event.object_namespace or event.namespace, event.object_name), []).append(event)
        main = self.options.main_namespace
        described = (
            describe_pod(pod.raw, by_object.get((pod.namespace, pod.name), []), now, record=pod.record).rstrip("\n")
            for pod in sorted(pods, key=lambda p: (p.namespace != main, p.namespace, p.name))
            if pod.namespace == main or unhealthy(pod)
        )
        self.writer.texts(DESCRIBE_FILE, described, "\n\n")

    def logs(self, pods: Iterable[ListedPod]) -> list[Future[None]]:
        asked: list[Future[None]] = []
        for pod in pods:
            if not (_named(pod, _API_NAMES) or unhealthy(pod)):
                continue
            for container in _container_names(pod.raw):
                asked.append(self.pool.submit(self.log, pod, container, False))
                if _had_previous(pod.raw, container):
                    asked.append(self.pool.submit(self.log, pod, container, True))
        return asked

    def log(self, pod: ListedPod, container: str, previous: bool) -> None:
        query: dict[str, Any] = {"container": container, "tailLines": self.options.log_lines, "timestamps": True}
        if previous:
            query["previous"] = True
        name = f"{LOGS_DIR}/{pod.namespace}/{pod.name}/{container}{'.previous' if previous else ''}.log"
        try:
            data = self.text(f"/api/v1/namespaces/{pod.namespace}/pods/{pod.name}/log", query)
        except Exception as exc:
            self.writer.error(f"log {pod.namespace}/{pod.name} [{container}]{' previous' if previous else ''}", exc)
            return
        self.writer.text(name, data.decode("utf-8", errors="replace"))

    # --- Triton and the metrics --------------------------------------------------------------------------------
    def metrics(self, pods: Sequence[ListedPod]) -> list[Future[None]]:
        targets = [(_API_NAMES, 9090, "nimify-api"), (_TRITON_NAMES, 8002, "triton"), (_DCGM_NAMES, 9400, "dcgm")]
        asked = []
        for names, port, label in targets:
            for pod in pods:
                if pod.status == "Running" and _named(pod, names):
                    asked.append(self.pool.submit(self.scrape, pod, port, label))
        return asked

    def scrape(self, pod: ListedPod, port: int, label: str) -> None:
        path = f"/api/v1/namespaces/{pod.namespace}/pods/{pod.name}:{port}/proxy/metrics"
        try:
            data = self.text(path)
        except Exception as exc:
            self.writer.error(f"{label} metrics of {pod.namespace}/{pod.name}", exc)
            return
        self.writer.text(f"{METRICS_DIR}/{label}/{pod.namespace}/{pod.name}.prom", data.decode("utf-8", "replace"))

    def triton(self, pods: Sequence[ListedPod]) -> None:
        """triton.json: each running Triton server's metadata, model stats and repository index, every server
        asked at once."""
        asked = {
            pod.name: self.triton_server(pod)
            for pod in pods
            if pod.namespace == self.options.triton_namespace and pod.status == "Running" and _named(pod, _TRITON_NAMES)
        }
        servers: dict[str, Any] = {}
        for name, futures in asked.items():
            found = servers[name] = {}
            for key, future in futures.items():
                try:
                    found[key] = future.result()
                except Exception as exc:
                    self.writer.error(f"triton {key} of {name}", exc)
                    found[key] = None
        self.writer.json(TRITON_FILE, {"servers": servers})

    def triton_server(self, pod: ListedPod) -> dict[str, Future[Any]]:
        base = f"/api/v1/namespaces/{pod.namespace}/pods/{pod.name}:8000/proxy/v2"
        asks: dict[str, Callable[[], Any]] = {
            "metadata": lambda: self.client.get_json(base),
            "stats": lambda: self.client.get_json(f"{base}/models/stats"),
        }
        if self.options.index_post:
            asks["index"] = lambda: self.triton_index(pod)
        return {key: self.triton_pool.submit(ask) for key, ask in asks.items()}

    def triton_index(self, pod: ListedPod) -> Any:
        from nimify_tui.endpoints import pod_proxy_url
        from nimify_tui.triton.client import TritonClient, TritonEndpoint, repository_index

        url = pod_proxy_url(self.client.identity.server, pod.namespace, pod.name, 8000)
        endpoint = TritonEndpoint.proxied(url, self.client.auth_headers(), self.client.ssl_context())
        with TritonClient(endpoint) as triton:
            return triton.call(repository_index())


def take_snapshot(
    client: KubeClient,
    folder: Path,
    options: SnapshotOptions,
    *,
    redactor: Redactor,
    triage: Callable[[], bytes | None] | None = None,
    now: datetime | None = None,
) -> Snapshot:
    """Write a snapshot of the cluster into a new ``folder`` (``-2``... when it exists); ``triage`` gives the
    triage's JSON report (called once the rest is written; None: no triage.json)."""
    started = time.monotonic()
    taken_at = (now or datetime.now(timezone.utc)).astimezone(timezone.utc)
    epoch = taken_at.timestamp()
    folder = _new_folder(folder)
    writer = _Writer(folder, redactor)
    with (
        ThreadPoolExecutor(_WORKERS, thread_name_prefix="snapshot") as pool,
        ThreadPoolExecutor(_TRITON_WORKERS, thread_name_prefix="snapshot-triton") as triton_pool,
    ):
        taker = _Taker(client, options, writer, pool, triton_pool)
        pods_asked, events_asked = taker.ask_pods_and_events()  # first: the main namespace's list is the longest
        waits = [pool.submit(taker.state, epoch)]
        pods: list[ListedPod] = []
        namespace_of = {future: namespace for namespace, future in pods_asked.items()}
        for listed in as_completed(namespace_of):  # each namespace's logs and scrapes asked for as it comes
            found = taker.pods(namespace_of[listed], listed)
            waits += taker.ask_about(found)
            pods += found
        taker.describes(pods, taker.events(events_asked, epoch), epoch)
        for wait in waits:
            try:
                wait.result()
            except Exception as exc:
                writer.error("snapshot", exc)
        cluster_s = time.monotonic() - started  # the cluster's files; the triage's report comes last
        if triage is not None:
            try:
                report = triage()
            except Exception as exc:
                writer.error("triage", exc)
                report = None
            if report is not None:
                writer.json(TRIAGE_FILE, orjson.loads(report))
    took = time.monotonic() - started
    _write_manifest(writer, client, options, taken_at, took, cluster_s)
    return Snapshot(folder, sorted(writer.files), list(writer.errors), took, cluster_s)


def _write_manifest(
    writer: _Writer,
    client: KubeClient,
    options: SnapshotOptions,
    taken_at: datetime,
    took_s: float,
    cluster_s: float,
) -> None:
    files = []
    for name in sorted(writer.files):
        size, digest = writer.sums[name]
        files.append({"path": name, "size": size, "sha256": digest})
    writer.json(
        MANIFEST_FILE,
        {
            "context": client.identity.context,
            "server": client.identity.server,
            "time": taken_at.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "namespaces": list(options.namespaces),
            "main_namespace": options.main_namespace,
            "log_lines": options.log_lines,
            "took_s": round(took_s, 3),
            "cluster_s": round(cluster_s, 3),
            "files": files,
            "errors": sorted(writer.errors),
        },
    )
