"""Which pods need attention, and why: the rule behind "faulty first", the faulty-only filter and the triage."""

from __future__ import annotations

from nimify_tui.kube.duration import age
from nimify_tui.kube.records import PodRecord


def pod_fault(
    pod: PodRecord,
    now: float,
    *,
    recent_restart_s: float = 600.0,
    settle_s: float = 120.0,
    terminating_grace_s: float = 30.0,
) -> str | None:
    """Why a pod needs attention (None when healthy): not running, not all ready, restarted lately, stuck.

    A restart is a fault for ``recent_restart_s`` (the kubelet forgets a crash loop's back-off after 10 minutes
    up), unless the pod recovered: every container that restarted runs again, ready, and none has ended for
    ``settle_s`` (its restarts came before the container now running started, and it has held up since). A crash
    loop's containers end again within seconds of their start: they do not settle.

    A Terminating pod is faulty once ``terminating_grace_s`` have passed after its deletion time (which the
    API server sets to the end of the grace period).
    """
    if pod.status == "Terminating":
        if pod.deleted_at is not None and now - pod.deleted_at > terminating_grace_s:
            return f"Terminating for {age(pod.deleted_at, now)} past its grace period"
        return None
    if pod.status in ("Completed", "Succeeded"):
        return None
    if pod.status != "Running":
        return pod.status
    if pod.ready < pod.total:
        return f"{pod.ready}/{pod.total} ready"
    recent = pod.last_restart_at is not None and now - pod.last_restart_at < recent_restart_s
    if recent and not _settled(pod, now - settle_s):
        return f"restarted {age(pod.last_restart_at, now)} ago"
    return None


def _settled(pod: PodRecord, since: float) -> bool:
    """Every container that restarted runs and is ready, and its last end is before ``since``."""
    for container in pod.containers:
        if not container.restart_count:
            continue
        if container.state != "running" or not container.ready:
            return False
        ended = container.last_termination.finished_at if container.last_termination is not None else None
        if ended is None or ended > since:
            return False
    return pod.last_restart_at is not None and pod.last_restart_at <= since


def is_faulty(pod: PodRecord, now: float) -> bool:
    """True when :func:`pod_fault` finds something wrong with the pod (k9s' "faulty" filter)."""
    return pod_fault(pod, now) is not None
