"""The periodic sources: health probes, Triton, metrics scrapes, metrics.k8s.io, Prometheus, and the evidence that
costs a request (previous logs of crashed containers, the kubelets' volume stats).

Each poller is a coroutine on the runtime's own event loop, given only what it needs: the store it writes, how to
reach the in-cluster servers (``InCluster``), its endpoints and its interval. A poll never overlaps the previous one
(the next one is armed only after the last finished), and a failure marks that source stale with its message
instead of raising.
"""

from __future__ import annotations

import asyncio
import time
import weakref
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from nimify_tui.kube.errors import retry_after_seconds
from nimify_tui.live.keys import (
    ALERT_STATES,
    GPUS,
    INGRESSES,
    LATENCY,
    LOG_SIGNATURES,
    NODE_USAGE,
    NODES,
    POD_USAGE,
    PODS,
    PROBES,
    PVC_USAGE,
    TLS_CERTIFICATES,
    TRITON,
)
from nimify_tui.live.store import SourceHealth, SourceUnavailable, Store

if TYPE_CHECKING:
    import httpx

    from nimify_tui.endpoints import Endpoints
    from nimify_tui.kube.client import KubeClient
    from nimify_tui.kube.records import ContainerRecord, PodRecord

PollFn = Callable[[], Awaitable[None]]


@dataclass(frozen=True)
class InCluster:
    """How a poller reaches servers inside the cluster: through the API server's proxy, with the kubeconfig's
    credentials (a direct URL given on the command line goes straight to its server, with the same client)."""

    server: str  # the API server's URL
    headers: Mapping[str, str]
    ssl_context: Any  # ssl.SSLContext, or None for the system's trust
    # told the Retry-After of an API server's 429 (the connection's other users then wait too)
    throttled: Callable[[float | None], None] = lambda _retry_after_s: None

    @classmethod
    def of(cls, client: KubeClient) -> InCluster:
        return cls(client.identity.server, client.auth_headers(), client.ssl_context(), client.note_throttled)


Blocked = Callable[[], "str | None"]  # why a poller's way to its servers is closed now (None: it is open)


def never_blocked() -> str | None:
    return None


def throttled(client: KubeClient) -> Blocked:
    """Blocked while the API server's 429 asks this connection for quiet (its Retry-After, see ``throttled_for``)."""

    def why() -> str | None:
        wait = client.throttled_for()
        return f"the API server asked for quiet (HTTP 429): not asked for {wait:.0f} s more" if wait > 0 else None

    return why


async def poll_forever(
    store: Store,
    source: str,
    interval: float,
    poll: PollFn,
    sooner: Callable[[], float | None] = lambda: None,
    *,
    blocked: Blocked = never_blocked,
) -> None:
    """Call ``poll`` every ``interval`` seconds (measured from the end of the last call); ``sooner``, asked after
    each call, may shorten the next wait (a fix being watched for).

    While ``blocked()`` says why (the API server, whose proxy the poller goes through, does not answer), the poll
    is not made and the source's last data is kept, stale; a poll that ended while it became blocked is stale too
    (its failures are the way's, not the servers')."""
    store.set_health(source, SourceHealth("syncing"))
    while True:
        try:
            why = blocked()
            if why is not None:
                store.mark_stale(source, why)
                await asyncio.sleep(min(interval, sooner() or interval))
                continue
            await poll()
            why = blocked()
            if why is not None:
                store.mark_stale(source, why)
            else:
                store.set_health(source, SourceHealth("live", last_ok=time.time()))
        except asyncio.CancelledError:
            raise
        except SourceUnavailable as exc:
            store.set_health(source, SourceHealth("unavailable", error=str(exc)))
        except Exception as exc:  # one clear message per failing source; the loop goes on
            store.mark_stale(source, _message(exc))
        await asyncio.sleep(min(interval, sooner() or interval))


def _message(exc: Exception) -> str:
    text = str(exc) or type(exc).__name__
    return text if len(text) <= 300 else text[:297] + "..."


def http_client(reach: InCluster) -> httpx.AsyncClient:
    """One httpx client for every in-cluster server; it carries the kubeconfig's credentials for proxied URLs."""
    import httpx

    return httpx.AsyncClient(
        headers=dict(reach.headers),
        verify=reach.ssl_context if reach.ssl_context is not None else True,
        timeout=httpx.Timeout(5.0, connect=3.0),
        limits=httpx.Limits(max_connections=32),
    )


# --- which pods to ask ------------------------------------------------------------------------------------------
def running_pods(store: Store, namespace: str | None, app_labels: tuple[str, ...]) -> list[PodRecord]:
    """Running pods carrying ``app`` (or ``app.kubernetes.io/name``) = one of ``app_labels``."""
    by_app = _running_by_app(store)
    pods = [pod for label in app_labels for pod in by_app.get(label, ())]
    if namespace is not None:
        pods = [pod for pod in pods if pod.namespace == namespace]
    return sorted(pods, key=lambda p: p.name)


# each store's running pods by app label, at one version of its pods: the pollers ask for several apps each round,
# and each walk of 50,000 pods takes tens of milliseconds of the interpreter
_RUNNING_BY_APP: weakref.WeakKeyDictionary[Store, tuple[int, dict[str, list[PodRecord]]]] = weakref.WeakKeyDictionary()


def _running_by_app(store: Store) -> dict[str, list[PodRecord]]:
    version = store.version(PODS)  # read before the pods: a change in between is seen at the next call
    held = _RUNNING_BY_APP.get(store)
    if held is not None and held[0] == version:
        return held[1]
    by_app: dict[str, list[PodRecord]] = {}
    for pod in store.items(PODS):
        if pod.phase == "Running" and pod.deleted_at is None:
            app = pod.labels.get("app") or pod.labels.get("app.kubernetes.io/name") or ""
            by_app.setdefault(app, []).append(pod)
    _RUNNING_BY_APP[store] = (version, by_app)
    return by_app


METRICS_WAIT_FOR_LISTS_S = 30.0


async def sources_loaded(store: Store, prefixes: Sequence[str], timeout_s: float) -> None:
    """Wait (at most ``timeout_s``) until every source named by one of ``prefixes`` ("pods" covers
    "pods/nimify-system", ...) exists and has its first data, or failed to get it (stale or unavailable)."""
    deadline = time.monotonic() + timeout_s
    while not store.have_loaded(prefixes) and time.monotonic() < deadline:
        await asyncio.sleep(0.01)


async def pods_listed(store: Store, timeout_s: float = 5.0) -> None:
    """The pollers that ask pods one by one need the first pod lists: wait for them (briefly) rather than spend a
    whole interval finding no pod to ask. Every namespace's list, not the first one: the Triton pods are in
    their own namespace. No wait where no pods are watched."""
    if store.health_of("pods"):
        await sources_loaded(store, ("pods",), timeout_s)


# --- the loops --------------------------------------------------------------------------------------------------
async def probe_loop(
    store: Store, reach: InCluster, endpoints: Endpoints, interval: float, *, blocked: Blocked = never_blocked
) -> None:
    from nimify_tui.probes import run_probes, runbook_probes

    probes = runbook_probes(endpoints)
    async with http_client(reach) as client:

        async def poll() -> None:
            store.put(PROBES, tuple(await run_probes(client, probes)))

        await poll_forever(store, "probes", interval, poll, blocked=blocked)


async def triton_loop(
    store: Store,
    reach: InCluster,
    endpoints: Endpoints,
    interval: float,
    *,
    direct: bool,
    may_post_index: Callable[[], bool],
    blocked: Blocked = never_blocked,
) -> None:
    """Every Triton server: a direct URL (``direct``), or each running triton-server pod through the pod proxy."""
    from nimify_tui.endpoints import pod_proxy_url
    from nimify_tui.triton.client import TritonEndpoint
    from nimify_tui.triton.poller import TritonPoller

    # two waits at once, not one after the other: the access review (a round trip, in a worker thread started now,
    # before the other pollers' first steps run) and the first pod lists
    review = asyncio.get_running_loop().run_in_executor(None, may_post_index)
    await pods_listed(store)

    def targets() -> dict[str, TritonEndpoint]:
        if direct:
            return {"triton": TritonEndpoint.direct(endpoints.triton_http.base_url)}
        pods = running_pods(store, "triton-system", ("triton-server", "triton"))
        return {
            p.name: TritonEndpoint.proxied(
                pod_proxy_url(reach.server, p.namespace, p.name, 8000), reach.headers, reach.ssl_context
            )
            for p in pods
        }

    async with TritonPoller(allow_index_post=await review) as poller:

        async def poll() -> None:
            servers = targets()
            if not servers:
                store.put(TRITON, None)
                raise SourceUnavailable("no running triton-server pod")
            view = await poller.poll(servers)
            errors = [s.error for s in view.servers if s.error]
            if errors and len(errors) == len(view.servers):
                previous = store.value(TRITON)
                if previous is not None and previous.models and not view.models:
                    view = replace(view, models=previous.models)  # the last models known, stale: the pane says so
                store.put(TRITON, view)
                raise RuntimeError(errors[0])
            store.put(TRITON, view)

        await poll_forever(store, "triton", interval, poll, blocked=blocked)


async def scrape_loop(
    store: Store,
    reach: InCluster,
    endpoints: Endpoints,
    interval: float,
    *,
    api_namespace: str,
    api_direct: bool,
    blocked: Blocked = never_blocked,
) -> None:
    """nimify-api p95/5xx and Triton queue/compute history for the graph; GPUs from DCGM, Triton, NVML."""
    from nimify_tui.endpoints import pod_proxy_url
    from nimify_tui.gpu.dcgm import gpus_from_dcgm
    from nimify_tui.gpu.merge import merge_gpu_readings
    from nimify_tui.gpu.nvml import read_local_gpus
    from nimify_tui.gpu.records import GpuReading, GpuRecord
    from nimify_tui.gpu.triton_gpu import gpus_from_triton
    from nimify_tui.metrics.api_latency import LatencyHistory, LatencyPoint, api_interval
    from nimify_tui.metrics.scrape import Scrape, parse_metrics

    history = LatencyHistory()
    store.put(LATENCY, history)
    previous_api: dict[str, Scrape] = {}  # per nimify-api process: its counters are its own
    local = await asyncio.to_thread(read_local_gpus)
    await pods_listed(store)

    async with http_client(reach) as client:

        async def scrape(url: str) -> Scrape:
            response = await client.get(url)
            if response.status_code != 200:
                from nimify_tui.probes import describe_failure

                if response.status_code == 429 and url.startswith(reach.server):  # the API server's, or the way's
                    reach.throttled(retry_after_seconds(response.headers.get("Retry-After")))

                raise RuntimeError(describe_failure(response))
            return parse_metrics(response.text, time.time())

        def api_targets() -> dict[str, str]:
            if api_direct:
                return {"nimify-api": endpoints.api_metrics.url("/metrics")}
            pods = running_pods(store, api_namespace, ("nimify-api",))
            return {p.name: pod_proxy_url(reach.server, p.namespace, p.name, 9090) + "/metrics" for p in pods}

        def scraped(answer: Scrape | Exception) -> Scrape:
            if isinstance(answer, Exception):
                raise answer
            return answer

        async def scrape_all(urls: Mapping[str, str]) -> dict[str, Scrape | Exception]:
            """Every URL at once (through the API server's proxy one after the other, five scrapes took five
            round trips); a failing one is its exception."""
            names = list(urls)
            answers = await asyncio.gather(*(scrape(urls[name]) for name in names), return_exceptions=True)
            found: dict[str, Scrape | Exception] = {}
            for name, answer in zip(names, answers, strict=True):
                if isinstance(answer, BaseException) and not isinstance(answer, Exception):
                    raise answer  # cancelled: the loop ends
                found[name] = answer
            return found

        async def poll() -> None:
            nonlocal history
            readings: list[GpuReading] = [local]
            problems: list[str] = []
            dcgm_pods = running_pods(store, None, ("dcgm-exporter", "nvidia-dcgm-exporter"))
            triton_pods = running_pods(store, "triton-system", ("triton-server", "triton"))
            urls = {("api", name): url for name, url in api_targets().items()}
            for pod in dcgm_pods:
                urls[("dcgm", pod.name)] = pod_proxy_url(reach.server, pod.namespace, pod.name, 9400) + "/metrics"
            for pod in triton_pods:
                urls[("triton", pod.name)] = pod_proxy_url(reach.server, pod.namespace, pod.name, 8002) + "/metrics"
            answers = await scrape_all({f"{kind}/{name}": url for (kind, name), url in urls.items()})
            api_now: dict[str, Scrape] = {}
            for kind, name in urls:
                if kind == "api":
                    try:
                        api_now[name] = scraped(answers[f"api/{name}"])
                    except Exception as exc:  # one replica down must not hide the others
                        problems.append(f"nimify-api metrics {name}: {_message(exc)}")
            pairs = [(previous_api[name], now) for name, now in api_now.items() if name in previous_api]
            previous_api.clear()
            previous_api.update(api_now)
            dcgm_gpus: list[GpuRecord] = []
            for pod in dcgm_pods:
                try:
                    dcgm_gpus.extend(gpus_from_dcgm(scraped(answers[f"dcgm/{pod.name}"]), pod.node))
                except Exception as exc:  # one exporter down must not hide the others
                    problems.append(f"dcgm {pod.name}: {_message(exc)}")
            readings.append(GpuReading("dcgm", tuple(dcgm_gpus), None if dcgm_gpus else "no DCGM exporter data"))
            triton_gpus: list[GpuRecord] = []
            for pod in triton_pods:
                try:
                    metrics = scraped(answers[f"triton/{pod.name}"])
                    triton_gpus.extend(gpus_from_triton(metrics, pod.node, pod.name, pod.namespace))
                except Exception as exc:  # Triton down shows in its own pane
                    problems.append(f"triton metrics {pod.name}: {_message(exc)}")
            readings.append(GpuReading("triton", tuple(triton_gpus), None if triton_gpus else "no nv_gpu_* data"))
            gpu_nodes = [n.name for n in store.items(NODES) if n.gpu_capacity > 0]
            store.put(GPUS, merge_gpu_readings(readings, gpu_nodes))
            point_api = api_interval(pairs) if pairs else None
            triton_view = store.value(TRITON)
            queue_ms = compute_ms = None
            if triton_view is not None:
                intervals = [m.interval for m in triton_view.models if m.interval and m.interval.requests]
                if intervals:
                    weight = sum(i.requests for i in intervals)
                    queue_ms = sum((i.avg_queue_us or 0) * i.requests for i in intervals) / weight / 1000
                    compute_ms = sum((i.avg_compute_us or 0) * i.requests for i in intervals) / weight / 1000
            history = history.added(
                LatencyPoint(
                    at=time.time(),
                    api_p95_s=point_api.p95_s if point_api else None,
                    api_error_ratio=point_api.error_ratio if point_api else None,
                    api_rps=point_api.rps if point_api else None,
                    queue_ms=queue_ms,
                    compute_ms=compute_ms,
                )
            )
            store.put(LATENCY, history)
            if not api_now:
                raise RuntimeError("; ".join(problems) or "no running nimify-api pod to scrape")

        await poll_forever(store, "metrics", interval, poll, blocked=blocked)


async def metrics_api_loop(store: Store, client: KubeClient, namespaces: Sequence[str], interval: float) -> None:
    """CPU and memory of pods and nodes from metrics.k8s.io (metrics-server). The first poll waits for the pod
    lists (at most ``METRICS_WAIT_FOR_LISTS_S``): the usage of pods not listed yet is shown nowhere, and reading
    50,000 pods' usage while 50,000 pods are being listed slows the list."""
    from nimify_tui.kube.metrics_api import MetricsUnavailable, read_node_metrics, read_pod_metrics

    async def poll() -> None:
        try:
            pods = await asyncio.to_thread(read_pod_metrics, client, namespaces)
            nodes = await asyncio.to_thread(read_node_metrics, client)
        except MetricsUnavailable as exc:
            raise SourceUnavailable(str(exc)) from exc
        store.put(POD_USAGE, pods)
        store.put(NODE_USAGE, nodes)

    await pods_listed(store, METRICS_WAIT_FOR_LISTS_S)
    await poll_forever(store, "metrics-api", interval, poll, blocked=throttled(client))


async def alerts_loop(
    store: Store,
    reach: InCluster,
    endpoints: Endpoints,
    interval: float,
    *,
    api_namespace: str,
    api_direct: bool,
    blocked: Blocked = never_blocked,
) -> None:
    """The runbook's three alert rules: as the cluster's Prometheus evaluates them when it has them loaded (read
    through the service proxy, or at --prometheus-url), else built in from scrapes of each nimify-api pod, with
    the rules' windows and ``for:`` holds. Both run at each poll, so that either can stand in for the other."""
    from nimify_tui.endpoints import pod_proxy_url
    from nimify_tui.metrics.builtin_alerts import BuiltinAlerts
    from nimify_tui.metrics.prom import PromClient
    from nimify_tui.metrics.prom_alerts import read_prometheus_states
    from nimify_tui.metrics.scrape import parse_metrics

    builtin = BuiltinAlerts()
    await pods_listed(store)

    def api_targets() -> dict[str, str]:
        if api_direct:
            return {"nimify-api": endpoints.api_metrics.url("/metrics")}
        pods = running_pods(store, api_namespace, ("nimify-api",))
        return {p.name: pod_proxy_url(reach.server, p.namespace, p.name, 9090) + "/metrics" for p in pods}

    async with http_client(reach) as client:
        prom = PromClient(client, endpoints.prometheus.base_url)

        async def scrape(name: str, url: str) -> None:
            try:
                response = await client.get(url)
                text = response.text if response.status_code == 200 else None
                builtin.observe(name, parse_metrics(text, time.time()) if text is not None else None)
            except Exception:  # a target that cannot be scraped is down, as Prometheus' up says
                builtin.observe(name, None)

        async def poll() -> None:
            targets = api_targets()
            await asyncio.gather(*(scrape(name, url) for name, url in targets.items()))
            builtin.keep_targets(targets)
            built_in = builtin.evaluate(time.time())
            from_prometheus, problem = await read_prometheus_states(prom)
            if problem:  # said beside each rule evaluated built in: why Prometheus' own states are not shown
                note = f"Prometheus not read: {problem}"
                built_in = tuple(replace(s, detail=f"{s.detail}; {note}" if s.detail else note) for s in built_in)
            store.put(ALERT_STATES, tuple(from_prometheus.get(state.name, state) for state in built_in))

        await poll_forever(store, "alerts", interval, poll, blocked=blocked)


# --- evidence that costs a request: the previous logs of crashed containers, the kubelets' volume stats -----------
LOG_READS_PER_POLL = 3  # previous logs read at most per poll
SUMMARY_NODES_PER_POLL = 4  # kubelet summaries asked at most per poll; more nodes are asked in turn


def crashed_containers(store: Store, namespaces: Sequence[str]) -> list[tuple[PodRecord, ContainerRecord]]:
    """Containers (init containers too) that restarted after a failure: waiting in CrashLoopBackOff, or whose last
    run ended otherwise than Completed. The latest crash first."""
    found: list[tuple[float, PodRecord, ContainerRecord]] = []
    for pod in store.items(PODS):
        if pod.namespace not in namespaces:
            continue
        for container in (*pod.init_containers, *pod.containers):
            last = container.last_termination
            failed = container.state_reason == "CrashLoopBackOff" or (last is not None and last.reason != "Completed")
            if container.restart_count > 0 and failed:
                found.append(((last.finished_at or 0.0) if last is not None else 0.0, pod, container))
    found.sort(key=lambda entry: (-entry[0], entry[1].namespace, entry[1].name, entry[2].name))
    return [(pod, container) for _, pod, container in found]


async def log_signature_loop(
    store: Store,
    client: KubeClient,
    namespaces: Sequence[str],
    interval: float,
    *,
    reads_per_poll: int = LOG_READS_PER_POLL,
) -> None:
    """The previous log of every crashed container, read once per restart (a few per poll) and scanned for known
    causes. A log that cannot be read (forbidden, gone) gives an entry that says why; a transient failure is read
    again at the next poll."""
    from nimify_tui.kube.errors import KubeError
    from nimify_tui.kube.log_signatures import TAIL_LINES, LogSignature, scan_log
    from nimify_tui.kube.logs import LogRequest, stream_log_lines

    latest: dict[tuple[str, str], LogSignature] = {}  # by (pod uid, container): the newest restart read
    published: dict[tuple[str, str, str], LogSignature] | None = None

    def read_previous(pod: PodRecord, container: ContainerRecord) -> LogSignature:
        request = LogRequest(
            pod.namespace,
            pod.name,
            container.name,
            follow=False,
            previous=True,
            tail_lines=TAIL_LINES,
            timestamps=False,
        )
        identity = (pod.namespace, pod.name, container.name, container.restart_count)
        try:
            lines = [raw.decode("utf-8", "replace").rstrip("\r") for raw in stream_log_lines(client, request)]
        except KubeError as exc:
            if exc.transient:
                raise
            return LogSignature(*identity, unreadable=_message(exc))
        return LogSignature(*identity, matches=scan_log(lines))

    async def poll() -> None:
        nonlocal published
        crashed = crashed_containers(store, namespaces)
        unread = [
            (pod, container)
            for pod, container in crashed
            if (known := latest.get((pod.uid, container.name))) is None or known.restart_count < container.restart_count
        ]
        problems: list[str] = []
        for pod, container in unread[:reads_per_poll]:
            try:
                latest[(pod.uid, container.name)] = await asyncio.to_thread(read_previous, pod, container)
            except KubeError as exc:  # connection trouble, throttling: asked again at the next poll
                problems.append(f"{pod.namespace}/{pod.name} [{container.name}]: {_message(exc)}")
        present = {pod.uid for pod in store.items(PODS)}
        for gone in [key for key in latest if key[0] not in present]:
            del latest[gone]
        signatures = {
            (pod.namespace, pod.name, container.name): latest[(pod.uid, container.name)]
            for pod, container in crashed
            if (pod.uid, container.name) in latest
        }
        if signatures != published:
            published = signatures
            store.put(LOG_SIGNATURES, signatures)
        if problems:
            raise RuntimeError("; ".join(problems))

    await poll_forever(store, LOG_SIGNATURES.name, interval, poll, blocked=throttled(client))


async def pvc_usage_loop(
    store: Store,
    client: KubeClient,
    namespaces: Sequence[str],
    interval: float,
    *,
    nodes_per_poll: int = SUMMARY_NODES_PER_POLL,
) -> None:
    """Each claim's volume use (namespaces of ``namespaces`` only) from the kubelet summaries of the nodes that run
    their pods (a running pod that mounts a claim), a few nodes per poll: a node running no such pod is not asked
    (its summary, thousands of pods on a big node, says nothing of a claim). Forbidden (no ``get nodes/proxy``):
    the source is unavailable, with why."""
    from nimify_tui.kube.errors import KubeError
    from nimify_tui.kube.kubelet_stats import VolumeUsage, read_volume_usage

    by_node: dict[str, dict[tuple[str, str], VolumeUsage]] = {}
    turn = 0  # where in the list of nodes the next poll starts

    async def poll() -> None:
        nonlocal turn
        nodes = sorted(
            {
                p.node
                for p in store.items(PODS)
                if p.claims and p.node and p.namespace in namespaces and p.phase == "Running"
            }
        )
        for gone in set(by_node) - set(nodes):
            del by_node[gone]
        start = turn % len(nodes) if nodes else 0
        asked = (nodes[start:] + nodes[:start])[:nodes_per_poll]
        turn = start + len(asked)
        problems: list[str] = []
        for node in asked:
            try:
                by_node[node] = await asyncio.to_thread(read_volume_usage, client, node)
            except KubeError as exc:
                if exc.status == 403:
                    by_node.clear()
                    store.put(PVC_USAGE, None)
                    raise SourceUnavailable(_message(exc)) from exc
                by_node.pop(node, None)  # no old numbers for a node that does not answer
                problems.append(f"{node}: {_message(exc)}")
        usage: dict[tuple[str, str], VolumeUsage] = {}
        for node in sorted(by_node):
            for key, measured in by_node[node].items():
                known = usage.get(key)
                if key[0] in namespaces and (known is None or measured.used_bytes > known.used_bytes):
                    usage[key] = measured
        if usage != store.value(PVC_USAGE):
            store.put(PVC_USAGE, usage)
        if problems and len(problems) == len(asked):
            raise RuntimeError("; ".join(problems))

    await poll_forever(store, PVC_USAGE.name, interval, poll, blocked=throttled(client))


TLS_EXPIRED_INTERVAL_S = 10.0  # while a certificate is expired: its renewal shows within seconds


async def tls_loop(store: Store, client: KubeClient, interval: float) -> None:
    """The certificate of every TLS Secret the ingresses name, read from its ``tls.crt`` (never its key); every
    :data:`TLS_EXPIRED_INTERVAL_S` while one is expired, so that the renewed one is seen soon."""
    from nimify_tui.kube.certificates import read_certificate

    await sources_loaded(store, ("ingresses",), 5.0)  # the secrets to read are named by the ingresses

    async def poll() -> None:
        secrets = sorted({(i.namespace, name) for i in store.items(INGRESSES) for name in i.tls_secrets})
        if not secrets:
            store.put(TLS_CERTIFICATES, {})
            raise SourceUnavailable("no ingress with TLS")
        read = {}
        for namespace, name in secrets[:20]:  # bounded: one GET per secret per interval
            read[(namespace, name)] = await asyncio.to_thread(read_certificate, client, namespace, name)
        store.put(TLS_CERTIFICATES, read)

    def expired() -> float | None:
        now = time.time()
        certificates = (store.value(TLS_CERTIFICATES) or {}).values()
        return (
            TLS_EXPIRED_INTERVAL_S
            if any(c.not_after is not None and c.not_after <= now for c in certificates)
            else None
        )

    await poll_forever(store, "tls", interval, poll, expired, blocked=throttled(client))
