"""The pollers against the simulator's 429s: once the API server asked the connection for quiet, none of them asks
it (nor its proxies) again before the Retry-After, whatever its own interval."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from nimify_tui.kube.client import KubeClient
from nimify_tui.live.runtime import Runtime, RuntimeOptions
from nimify_tui.sim.faults import FaultPlan, parse_faults
from nimify_tui.sim.k8s.kubeconfig import write_kubeconfig
from nimify_tui.sim.server import SimThread

from ..waiting import wait_for

POLL_S = 0.3  # every poller's interval
RETRY_AFTER_S = 2


def test_pollers_wait_for_the_retry_after_of_a_429(tmp_path: Path) -> None:
    with SimThread(scenario="healthy") as sim:
        client = KubeClient.from_kubeconfig(str(write_kubeconfig(sim, tmp_path / "kubeconfig")), "sim-admin")
        options = RuntimeOptions(
            kinds=("pods",),
            probe_interval=POLL_S,
            triton_interval=POLL_S,
            scrape_interval=POLL_S,
            metrics_api_interval=POLL_S,
            alerts_interval=POLL_S,
        )
        runtime = Runtime(client, options)
        runtime.start()
        try:
            store = runtime.store
            sources = ("probes", "triton", "metrics", "metrics-api", "alerts")
            wait_for(lambda: all(store.health().get(s) and store.health()[s].state == "live" for s in sources), "live")
            log = sim.request_log
            start = len(log)
            sim.set_faults(parse_faults(f"429=1:retry-after={RETRY_AFTER_S}"))

            def refused() -> Counter[str]:
                return Counter(r.path for r in log[start:] if r.status == 429)

            # three Retry-Afters of the server's own clock: a poller that ignored them would ask about twenty times
            began = log[start].at if len(log) > start else log[-1].at
            wait_for(lambda: log[-1].at - began >= 3 * RETRY_AFTER_S, "three Retry-Afters", timeout_s=60)
            window = log[-1].at - began
            counts = refused()
            allowed = window / RETRY_AFTER_S + 2  # one each Retry-After, and the ones already on their way
            assert max(counts.values()) <= allowed, (counts, window)
            stale = [s for s in sources if store.health()[s].state == "stale"]
            assert stale, "the sources not asked are stale meanwhile"
            assert any("429" in (store.health()[s].error or "") for s in stale), {s: store.health()[s] for s in stale}
            sim.set_faults(FaultPlan())
            wait_for(lambda: all(store.health()[s].state == "live" for s in sources), "all live again", timeout_s=30)
        finally:
            runtime.stop()
