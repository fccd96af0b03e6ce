"""The triage without a screen: start every source read-only, wait until the checks have what they need, check.

``nimify-tui triage`` uses it. The sources are the TUI's (a :class:`~nimify_tui.live.runtime.Runtime`), the
figures polled every second so that one run ends within seconds; the checks are the TUI's (a
:class:`~nimify_tui.triage.source.TriageSource` run on the caller's thread).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from nimify_tui.config import Settings
from nimify_tui.kube.client import KubeClient
from nimify_tui.live.keys import LATENCY, TRITON
from nimify_tui.live.runtime import Runtime, RuntimeOptions
from nimify_tui.live.store import Store
from nimify_tui.triage.source import Triage, TriageSource

POLL_INTERVAL_S = 1.0  # the polled figures' interval: the second round of the interval figures comes a second later
FIRST_SOURCES_WAIT_S = 1.0  # the longest the other sources wait for the first ones' answers


def runtime_options(settings: Settings, *, index_post: bool = False) -> RuntimeOptions:
    """The TUI's sources for these settings; the probes, Triton, the scrape and metrics.k8s.io every
    :data:`POLL_INTERVAL_S`, the other pollers at their own intervals (their first answer is what a report uses).
    The scrape starts with the first sources: its first poll (the one its second, a second later, is compared
    with) waits only for the pod lists."""
    return RuntimeOptions(
        namespaces=settings.watched_namespaces,
        main_namespace=settings.namespace,
        prometheus_url=settings.prometheus_url,
        triton_url=settings.triton_url,
        nimify_api_url=settings.nimify_api_url,
        probe_interval=POLL_INTERVAL_S,
        triton_interval=POLL_INTERVAL_S,
        scrape_interval=POLL_INTERVAL_S,
        metrics_api_interval=POLL_INTERVAL_S,
        triton_index_post=index_post,
        # the pods lists, Triton and the scrape first: the second round of the interval figures, a second after
        # the first, is what a report waits for longest; the other sources start once those have their first
        # answers (or after this long), and have that second to answer
        scrape_first=True,
        first_sources_wait_s=FIRST_SOURCES_WAIT_S,
    )


def interval_figures_measured(store: Store) -> bool:
    """Triton's request rates and queue/compute times, and nimify-api's p95 and 5xx ratio, are differences between
    two polls: Triton polled twice (one view published per poll), the metrics scraped twice (one latency point per
    scrape), and Triton's queue/compute time in the latest point once a model has an interval with requests."""
    if store.version(TRITON) < 2:
        return False
    history = store.value(LATENCY)
    latest = history.latest() if history is not None and len(history.points) >= 2 else None
    if latest is None:
        return False
    view = store.value(TRITON)
    busy = view is not None and any(m.interval is not None and m.interval.requests for m in view.models)
    return not busy or latest.queue_ms is not None


@dataclass(frozen=True)
class NotChecked:
    """Why the cluster could not be checked: one line."""

    reason: str


class HeadlessTriage:
    """Every source of one cluster, read-only, and the checks over them."""

    def __init__(self, client: KubeClient, settings: Settings, *, timeout_s: float) -> None:
        # no mutating request leaves; Triton's repository index (a POST that changes nothing) is asked for as the
        # TUI would: only where the context is not read-only and the access review allows it
        index_post = not settings.context_policy(client.identity.context).readonly
        client.readonly = True
        # no request outlives the wait by more than the wait itself: one stuck in a worker thread holds the exit
        client.connect_timeout = min(client.connect_timeout, timeout_s)
        client.read_timeout = min(client.read_timeout, timeout_s)
        self.runtime = Runtime(client, runtime_options(settings, index_post=index_post))
        self.main_namespace = settings.namespace
        self.source = TriageSource(self.runtime.store, main_namespace=settings.namespace)
        # each poller registers its one source when it starts, the later ones only once the first data is in
        self.poller_count = len(self.runtime.first_pollers()) + len(self.runtime.later_pollers())
        self.started_at = time.monotonic()

    def start(self) -> None:
        self.started_at = time.monotonic()
        self.runtime.start()

    def stop(self) -> None:
        self.runtime.stop()

    def _pollers_not_started(self) -> int:
        informers = {informer.source for informer in self.runtime.informers}
        started = [name for name in self.runtime.store.health() if name not in informers]
        return max(self.poller_count - len(started), 0)

    def ready(self) -> bool:
        """Every source answered once (live, stale or unavailable) and the interval figures are measured."""
        store = self.runtime.store
        answered = all(health.loaded for health in store.health().values())
        return answered and not self._pollers_not_started() and interval_figures_measured(store)

    def wait_until_ready(self, timeout_s: float) -> bool:
        """Wait (at most ``timeout_s``) until :meth:`ready`; False when the time ran out first."""
        store = self.runtime.store
        deadline = time.monotonic() + timeout_s
        seen = store.changes
        while not self.ready():
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            seen = store.wait_for_change(seen, left)
        return True

    def waiting_for(self) -> list[str]:
        """What :meth:`ready` still waits for: the sources that have not answered, the pollers not started yet,
        or the second poll of the interval figures."""
        store = self.runtime.store
        waiting = sorted(name for name, health in store.health().items() if not health.loaded)
        not_started = self._pollers_not_started()
        if not_started:
            waiting.append(f"{not_started} poller{'s' if not_started > 1 else ''} not started")
        if not waiting and not interval_figures_measured(store):
            waiting.append("the second poll of Triton and the metrics")
        return waiting

    def check(self) -> Triage | NotChecked:
        """Run the checks on what the sources have now; :class:`NotChecked` when that says nothing of the cluster."""
        not_checked = self.not_checked()
        if not_checked is not None:
            return not_checked
        triage = self.source.run_once()
        if triage.overall == "UNKNOWN":
            return NotChecked("no check could be answered")
        return triage

    def not_checked(self) -> NotChecked | None:
        """The cluster cannot be checked without the pods of the main namespace, nor when every source failed."""
        store = self.runtime.store
        pods = f"pods/{self.main_namespace}"
        server = self.runtime.client.identity.server
        health = store.health()
        listed = health.get(pods)
        if listed is None or listed.state == "syncing":
            waited = time.monotonic() - self.started_at
            return NotChecked(
                f"no answer from the API server at {server} to the pod list of {self.main_namespace} in {waited:.0f} s"
            )
        if listed.state != "live" and listed.last_ok is None:
            return NotChecked(f"cannot list the pods of {self.main_namespace}: {listed.error or listed.state}")
        if not any(h.state == "live" for h in health.values()):
            errors = [h.error for h in health.values() if h.error]
            return NotChecked("every source failed" + (f": {errors[0]}" if errors else ""))
        return None
