"""When a pod that restarted is still a fault, and when it has recovered (Running, ready, and held up since)."""

from __future__ import annotations

from nimify_tui.kube.faults import is_faulty, pod_fault
from nimify_tui.kube.records import PodRecord

from .test_kube_pod_status import NOW, condition, last_terminated, make_pod, running, waiting


def restarted(seconds_ago: float, *, ready: bool = True, containers: int = 1) -> PodRecord:
    statuses = [running(ready=ready, restarts=3, lastState=last_terminated(seconds_ago, "OOMKilled", 137))]
    statuses += [running(f"side-{i}") for i in range(1, containers)]
    names = ("app", *(f"side-{i}" for i in range(1, containers)))
    return PodRecord.from_raw(make_pod(statuses, containers=names, conditions=[condition("Ready")]))


def test_a_pod_that_recovered_from_its_restarts_is_not_faulty() -> None:
    pod = restarted(180)  # OOMKilled 3 minutes ago, running and ready since
    assert pod.ready == pod.total and pod.status == "Running"
    assert pod_fault(pod, NOW) is None and not is_faulty(pod, NOW)


def test_a_fresh_restart_is_a_fault_until_the_container_has_held_up() -> None:
    assert pod_fault(restarted(20), NOW) == "restarted 20s ago"  # a crash loop's next run, up a few seconds
    assert pod_fault(restarted(119), NOW) == "restarted 119s ago"
    assert pod_fault(restarted(121), NOW) is None


def test_a_restarted_container_that_is_not_ready_or_not_running_is_a_fault() -> None:
    assert pod_fault(restarted(300, ready=False), NOW) == "0/1 ready"
    backing_off = waiting(reason="CrashLoopBackOff", restarts=4, lastState=last_terminated(300))
    pod = PodRecord.from_raw(make_pod([backing_off]))
    assert pod_fault(pod, NOW) == "CrashLoopBackOff"


def test_an_old_restart_is_history_whatever_the_settling() -> None:
    assert pod_fault(restarted(20), NOW + 3600) is None
    assert pod_fault(restarted(20), NOW, settle_s=900) == "restarted 20s ago"
    assert pod_fault(restarted(700), NOW, settle_s=900) is None, "ten minutes up: the kubelet forgot it too"
