"""The periodic sources: health probes, Triton, metrics scrapes, metrics.k8s.io, Prometheus.

Each poller is a coroutine on the runtime's own event loop. A poll never overlaps the previous one (the next one is
armed only after the last finished), and a failure marks that source stale with its message instead of raising.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from typing import TYPE_CHECKING, Any

from nimify_tui.sources import SourceHealth, SourceUnavailable, Store

if TYPE_CHECKING:
    import httpx

    from nimify_tui.kube.records import PodRecord
    from nimify_tui.runtime import Runtime

PollFn = Callable[[], Awaitable[None]]


async def poll_forever(runtime: Runtime, source: str, interval: float, poll: PollFn) -> None:
    """Call ``poll`` every ``interval`` seconds (measured from the end of the last call)."""
    store = runtime.store
    store.set_health(source, SourceHealth("syncing"))
    while True:
        try:
            await poll()
            store.set_health(source, SourceHealth("live", last_ok=time.time()))
        except asyncio.CancelledError:
            raise
        except SourceUnavailable as exc:
            store.set_health(source, SourceHealth("unavailable", error=str(exc)))
        except Exception as exc:  # one clear message per failing source; the loop goes on
            store.mark_stale(source, _message(exc))
        await asyncio.sleep(interval)


def _message(exc: Exception) -> str:
    text = str(exc) or type(exc).__name__
    return text if len(text) <= 300 else text[:297] + "..."


def http_client(runtime: Runtime) -> httpx.AsyncClient:
    """One httpx client for every in-cluster server; it carries the kubeconfig's credentials for proxied URLs."""
    import httpx

    context = runtime.client.ssl_context()
    return httpx.AsyncClient(
        headers=runtime.client.auth_headers(),
        verify=context if context is not None else True,
        timeout=httpx.Timeout(5.0, connect=3.0),
        limits=httpx.Limits(max_connections=32),
    )


def poller_coroutines(runtime: Runtime) -> list[Callable[[], Coroutine[Any, Any, None]]]:
    return [*first_pollers(runtime), *later_pollers(runtime)]


FIRST_POLLED = ("triton",)  # the sources of first_pollers


def first_pollers(runtime: Runtime) -> list[Callable[[], Coroutine[Any, Any, None]]]:
    """What a table of the main screen shows (the models), started with the runtime."""
    return [lambda: triton_loop(runtime)]


def later_pollers(runtime: Runtime) -> list[Callable[[], Coroutine[Any, Any, None]]]:
    """The others, started once the first sources have their first data."""
    return [
        lambda: probe_loop(runtime),
        lambda: scrape_loop(runtime),
        lambda: metrics_api_loop(runtime),
        *([lambda: alerts_loop(runtime)] if runtime.endpoints.prometheus_given else []),
    ]


# --- which pods to ask ------------------------------------------------------------------------------------------
def running_pods(runtime: Runtime, namespace: str | None, app_labels: tuple[str, ...]) -> list[PodRecord]:
    """Running pods carrying ``app`` (or ``app.kubernetes.io/name``) = one of ``app_labels``."""
    pods = []
    for pod in runtime.store.items("pods"):
        if namespace is not None and pod.namespace != namespace:
            continue
        app = pod.labels.get("app") or pod.labels.get("app.kubernetes.io/name") or ""
        if app in app_labels and pod.phase == "Running" and pod.deleted_at is None:
            pods.append(pod)
    return sorted(pods, key=lambda p: p.name)


async def sources_loaded(store: Store, prefixes: Sequence[str], timeout_s: float) -> None:
    """Wait (at most ``timeout_s``) until every source named by one of ``prefixes`` ("pods" covers
    "pods/nimify-system", ...) exists and has its first data, or failed to get it (stale or unavailable)."""
    deadline = time.monotonic() + timeout_s
    while not store.have_loaded(prefixes) and time.monotonic() < deadline:
        await asyncio.sleep(0.01)


async def pods_listed(runtime: Runtime, timeout_s: float = 5.0) -> None:
    """The pollers that ask pods one by one need the first pod lists: wait for them (briefly) rather than spend a
    whole interval finding no pod to ask. Every namespace's list, not the first one: the Triton pods are in
    their own namespace."""
    await sources_loaded(runtime.store, ("pods",), timeout_s)


def _hostport(url: str) -> str:
    return url.split("://", 1)[1]


# --- the loops --------------------------------------------------------------------------------------------------
async def probe_loop(runtime: Runtime) -> None:
    from nimify_tui.probes import run_probes, runbook_probes

    probes = runbook_probes(runtime.endpoints)
    async with http_client(runtime) as client:

        async def poll() -> None:
            runtime.store.put("probes", await run_probes(client, probes))

        await poll_forever(runtime, "probes", runtime.options.probe_interval, poll)


async def triton_loop(runtime: Runtime) -> None:
    from nimify_tui.endpoints import pod_proxy_url
    from nimify_tui.triton.poller import TritonPoller, load_client

    # three waits at once, not one after the other: the access review (a round trip), tritonclient's import and
    # the first pod lists. Both worker threads are started now, before the other pollers' first steps run.
    loop = asyncio.get_running_loop()
    review = loop.run_in_executor(None, _may_post_through_proxy, runtime)
    client_loaded = loop.run_in_executor(None, load_client)
    await pods_listed(runtime)
    with contextlib.suppress(Exception):  # a broken install: the poll's own import says so, as a stale source
        await client_loaded
    poller = TritonPoller(allow_index_post=await review)
    server = runtime.client.identity.server
    headers = runtime.client.auth_headers()
    ssl_context = runtime.client.ssl_context()

    async def poll() -> None:
        if runtime.options.triton_url:
            targets = {"triton": _hostport(runtime.endpoints.triton_http.base_url)}
        else:
            pods = running_pods(runtime, "triton-system", ("triton-server", "triton"))
            targets = {p.name: _hostport(pod_proxy_url(server, p.namespace, p.name, 8000)) for p in pods}
        if not targets:
            runtime.store.put("triton", None)
            raise SourceUnavailable("no running triton-server pod")
        view = await poller.poll(targets, headers, ssl_context)
        runtime.store.put("triton", view)
        errors = [s.error for s in view.servers if s.error]
        if errors and len(errors) == len(view.servers):
            raise RuntimeError(errors[0])

    await poll_forever(runtime, "triton", runtime.options.triton_interval, poll)


def _may_post_through_proxy(runtime: Runtime) -> bool:
    """Triton's repository index is a POST ("create pods/proxy" to the API server): ask before sending one."""
    if runtime.client.readonly:
        return False
    if runtime.options.triton_url:
        return True  # straight to Triton, not through the API server
    from nimify_tui.actions.access import AccessCheck, AccessReviewer

    question = AccessCheck("create", "", "pods", "proxy", "triton-system")
    return AccessReviewer(runtime.client).check(question).allowed


async def scrape_loop(runtime: Runtime) -> None:
    """nimify-api p95/5xx and Triton queue/compute history for the graph; GPUs from DCGM, Triton, NVML."""
    from nimify_tui.endpoints import pod_proxy_url
    from nimify_tui.gpu.dcgm import gpus_from_dcgm
    from nimify_tui.gpu.merge import merge_gpu_readings
    from nimify_tui.gpu.nvml import read_local_gpus
    from nimify_tui.gpu.records import GpuReading, GpuRecord
    from nimify_tui.gpu.triton_gpu import gpus_from_triton
    from nimify_tui.metrics.poller import LatencyHistory, LatencyPoint, api_interval
    from nimify_tui.metrics.scrape import Scrape, parse_metrics

    history = LatencyHistory()
    runtime.store.put("latency", history)
    previous_api: dict[str, Scrape] = {}  # per nimify-api process: its counters are its own
    server = runtime.client.identity.server
    local = await asyncio.to_thread(read_local_gpus)
    await pods_listed(runtime)
    api_namespace = runtime.options.namespaces[0] if runtime.options.namespaces else "nimify-system"

    async with http_client(runtime) as client:

        async def scrape(url: str) -> Scrape:
            response = await client.get(url)
            if response.status_code != 200:
                from nimify_tui.probes import describe_failure

                raise RuntimeError(describe_failure(response))
            return parse_metrics(response.text, time.time())

        def api_targets() -> dict[str, str]:
            if runtime.options.nimify_api_url:
                return {"nimify-api": runtime.endpoints.api_metrics.url("/metrics")}
            pods = running_pods(runtime, api_namespace, ("nimify-api",))
            return {p.name: pod_proxy_url(server, p.namespace, p.name, 9090) + "/metrics" for p in pods}

        async def poll() -> None:
            readings: list[GpuReading] = [local]
            problems: list[str] = []
            api_now: dict[str, Scrape] = {}
            for name, url in api_targets().items():
                try:
                    api_now[name] = await scrape(url)
                except Exception as exc:  # one replica down must not hide the others
                    problems.append(f"nimify-api metrics {name}: {_message(exc)}")
            pairs = [(previous_api[name], now) for name, now in api_now.items() if name in previous_api]
            previous_api.clear()
            previous_api.update(api_now)
            dcgm_gpus: list[GpuRecord] = []
            for pod in running_pods(runtime, None, ("dcgm-exporter", "nvidia-dcgm-exporter")):
                try:
                    exporter = await scrape(pod_proxy_url(server, pod.namespace, pod.name, 9400) + "/metrics")
                    dcgm_gpus.extend(gpus_from_dcgm(exporter, pod.node))
                except Exception as exc:  # one exporter down must not hide the others
                    problems.append(f"dcgm {pod.name}: {_message(exc)}")
            readings.append(GpuReading("dcgm", tuple(dcgm_gpus), None if dcgm_gpus else "no DCGM exporter data"))
            triton_gpus: list[GpuRecord] = []
            for pod in running_pods(runtime, "triton-system", ("triton-server", "triton")):
                try:
                    metrics = await scrape(pod_proxy_url(server, pod.namespace, pod.name, 8002) + "/metrics")
                    triton_gpus.extend(gpus_from_triton(metrics, pod.node, pod.name, pod.namespace))
                except Exception as exc:  # Triton down shows in its own pane
                    problems.append(f"triton metrics {pod.name}: {_message(exc)}")
            readings.append(GpuReading("triton", tuple(triton_gpus), None if triton_gpus else "no nv_gpu_* data"))
            gpu_nodes = [n.name for n in runtime.store.items("nodes") if n.gpu_capacity > 0]
            runtime.store.put("gpus", merge_gpu_readings(readings, gpu_nodes))
            point_api = api_interval(pairs) if pairs else None
            triton_view = runtime.store.value("triton")
            queue_ms = compute_ms = None
            if triton_view is not None:
                intervals = [m.interval for m in triton_view.models if m.interval and m.interval.requests]
                if intervals:
                    weight = sum(i.requests for i in intervals)
                    queue_ms = sum((i.avg_queue_us or 0) * i.requests for i in intervals) / weight / 1000
                    compute_ms = sum((i.avg_compute_us or 0) * i.requests for i in intervals) / weight / 1000
            history.add(
                LatencyPoint(
                    at=time.time(),
                    api_p95_s=point_api.p95_s if point_api else None,
                    api_error_ratio=point_api.error_ratio if point_api else None,
                    api_rps=point_api.rps if point_api else None,
                    queue_ms=queue_ms,
                    compute_ms=compute_ms,
                )
            )
            runtime.store.put("latency", history)
            if not api_now:
                raise RuntimeError("; ".join(problems) or "no running nimify-api pod to scrape")

        await poll_forever(runtime, "metrics", runtime.options.scrape_interval, poll)


async def metrics_api_loop(runtime: Runtime) -> None:
    from nimify_tui.kube.metrics_api import read_node_metrics, read_pod_metrics

    async def poll() -> None:
        pods = await asyncio.to_thread(read_pod_metrics, runtime.client, runtime.options.namespaces)
        nodes = await asyncio.to_thread(read_node_metrics, runtime.client)
        runtime.store.put("podmetrics", pods)
        runtime.store.put("nodemetrics", nodes)

    await poll_forever(runtime, "metrics-api", runtime.options.metrics_api_interval, poll)


async def alerts_loop(runtime: Runtime) -> None:
    """The runbook's three alert rules, evaluated with PromQL against the Prometheus given on the command line."""
    from nimify_tui.metrics.alerts import evaluate_alerts
    from nimify_tui.metrics.prom import PromClient

    async with http_client(runtime) as client:
        prom = PromClient(client, runtime.endpoints.prometheus.base_url)

        async def poll() -> None:
            runtime.store.put("alerts", await evaluate_alerts(prom))

        await poll_forever(runtime, "prometheus-alerts", max(runtime.options.scrape_interval, 10.0), poll)
