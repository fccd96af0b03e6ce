"""Pod rows exactly as kubectl prints them: real captures, then one hand-built pod per rule of printPod."""

from __future__ import annotations

import copy
import re
from datetime import datetime, timezone
from typing import Any

import pytest

from nimify_tui.kube.duration import parse_timestamp
from nimify_tui.kube.faults import is_faulty, pod_fault
from nimify_tui.kube.records import PodRecord
from nimify_tui.kube.status import pod_status
from nimify_tui.render.kubectl import PodRow, pod_row

from ..conftest import REAL_CAPTURES, real_json

K8S_FIXTURES = REAL_CAPTURES / "k8s"
NOW = datetime(2026, 1, 8, 12, 0, 0, tzinfo=timezone.utc).timestamp()


def real(name: str) -> Any:
    return real_json(f"k8s/{name}")


def transcript_rows(pod_name: str) -> list[list[str]]:
    """Every row kubectl printed for ``pod_name`` in the real transcript, split into columns."""
    path = K8S_FIXTURES / "01_kubectl_get_po_transcript__kuberay_issue4356.txt"
    lines = path.read_text().splitlines()
    return [re.split(r"\s{2,}", line.strip()) for line in lines if line.startswith(pod_name + " ")]


def at(text: str) -> float:
    stamp = parse_timestamp(text)
    assert stamp is not None
    return stamp


def iso(seconds_before_now: float) -> str:
    return datetime.fromtimestamp(NOW - seconds_before_now, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def running(name: str = "app", *, ready: bool = True, restarts: int = 0, **extra: Any) -> dict[str, Any]:
    return {
        "name": name,
        "ready": ready,
        "started": True,
        "restartCount": restarts,
        "state": {"running": {"startedAt": iso(300)}},
        **extra,
    }


def waiting(name: str = "app", reason: str = "ContainerCreating", *, restarts: int = 0, **extra: Any) -> dict[str, Any]:
    return {
        "name": name,
        "ready": False,
        "restartCount": restarts,
        "state": {"waiting": {"reason": reason}},
        **extra,
    }


def terminated(name: str = "app", reason: str = "", *, exit_code: int = 0, signal: int = 0) -> dict[str, Any]:
    state: dict[str, Any] = {"exitCode": exit_code, "reason": reason, "finishedAt": iso(30)}
    if signal:
        state["signal"] = signal
    return {"name": name, "ready": False, "restartCount": 0, "state": {"terminated": state}}


def last_terminated(seconds_ago: float, reason: str = "Error", exit_code: int = 1) -> dict[str, Any]:
    return {"terminated": {"reason": reason, "exitCode": exit_code, "finishedAt": iso(seconds_ago)}}


def make_pod(
    statuses: list[dict[str, Any]] | None = None,
    *,
    containers: tuple[str, ...] = ("app",),
    init: list[dict[str, Any]] | None = None,
    init_statuses: list[dict[str, Any]] | None = None,
    phase: str = "Running",
    conditions: list[dict[str, Any]] | None = None,
    **status_extra: Any,
) -> dict[str, Any]:
    status: dict[str, Any] = {"phase": phase, "conditions": conditions or [], **status_extra}
    if statuses is not None:
        status["containerStatuses"] = statuses
    if init_statuses is not None:
        status["initContainerStatuses"] = init_statuses
    spec: dict[str, Any] = {"containers": [{"name": name, "image": f"{name}:1"} for name in containers]}
    if init is not None:
        spec["initContainers"] = init
    return {
        "metadata": {"name": "p", "namespace": "nimify-system", "creationTimestamp": iso(600)},
        "spec": spec,
        "status": status,
    }


def condition(kind: str, status: str = "True", reason: str = "") -> dict[str, Any]:
    return {"type": kind, "status": status, "reason": reason}


def columns(pod: dict[str, Any], now: float = NOW) -> tuple[str, str, str]:
    """READY, STATUS and RESTARTS of a raw pod."""
    row = pod_row(PodRecord.from_raw(pod), now)
    return row.ready, row.status, row.restarts


# -- the real captures ---------------------------------------------------------------------------------------


def test_restarted_oomkilled_pod_row_is_what_kubectl_printed() -> None:
    pod = PodRecord.from_raw(real("01_pod_oomkilled_restarted__kuberay_issue4356.converted.json"))
    printed = transcript_rows("raycluster-auth-token-head-vbjrq")[-1]
    assert printed == ["raycluster-auth-token-head-vbjrq", "0/1", "Running", "1 (2s ago)", "32s"]
    row = pod_row(pod, at("2026-01-08T08:07:12Z"))
    assert list(row[:5]) == printed
    assert row[5:] == ("172.20.0.57", "cn-hongkong.10.83.23.72", "<none>", "<none>")


def test_oomkilled_moment_of_the_same_pod_is_what_kubectl_printed() -> None:
    """A second earlier the container was still terminated with OOMKilled and not yet restarted."""
    raw = real("01_pod_oomkilled_restarted__kuberay_issue4356.converted.json")
    container = raw["status"]["containerStatuses"][0]
    container["state"] = {"terminated": container["lastState"]["terminated"]}
    container["lastState"] = {}
    container["restartCount"] = 0
    printed = transcript_rows("raycluster-auth-token-head-vbjrq")[2]
    assert printed[2] == "OOMKilled"
    assert list(pod_row(PodRecord.from_raw(raw), at("2026-01-08T08:07:11Z"))[:5]) == printed


def test_pod_waiting_for_its_init_container_is_what_kubectl_printed() -> None:
    """The worker pod of the same transcript (hand-built from its row: init container still running)."""
    worker = make_pod(
        [waiting("ray-worker", "PodInitializing")],
        containers=("ray-worker",),
        init=[{"name": "wait-gcs-ready", "image": "rayproject/ray:2.46.0"}],
        init_statuses=[running("wait-gcs-ready", ready=False)],
        phase="Pending",
        conditions=[condition("Initialized", "False", "ContainersNotInitialized")],
    )
    worker["metadata"].update(
        name="raycluster-auth-token-small-group-worker-ksgpt", creationTimestamp="2026-01-08T08:06:40Z"
    )
    printed = transcript_rows("raycluster-auth-token-small-group-worker-ksgpt")[0]
    assert printed[2] == "Init:0/1"
    assert list(pod_row(PodRecord.from_raw(worker), at("2026-01-08T08:06:55Z"))[:5]) == printed


def test_crashloopbackoff_pod_row() -> None:
    raw = real("01b_pod_crashloopbackoff__kubesphere_issue4920.converted.json")
    pod = PodRecord.from_raw(raw)
    now = at("2022-05-30T04:02:00Z")
    assert pod_row(pod, now) == PodRow(
        "redis-ha-haproxy-7d6d8885cc-rd7qd",
        "0/1",
        "CrashLoopBackOff",
        "518 (7s ago)",  # the kubectl of that transcript (1.19) printed restarts without the age
        "25h",
        "100.99.106.212",
        "e1",
        "<none>",
        "<none>",
    )
    assert pod.owner_kind == "ReplicaSet"
    assert pod.owner_name == "redis-ha-haproxy-7d6d8885cc"
    assert pod_fault(pod, now) == "CrashLoopBackOff"
    assert [c.type for c in pod.unmet_conditions] == ["Ready", "ContainersReady"]
    assert pod.unmet_conditions[0].message == "containers with unready status: [haproxy]"


@pytest.mark.parametrize(
    "name",
    ["redis-ha-haproxy-7d6d8885cc-b4c5g", "redis-ha-haproxy-7d6d8885cc-hkzz9", "redis-ha-haproxy-7d6d8885cc-rd7qd"],
)
def test_haproxy_rows_of_the_same_transcript(name: str) -> None:
    """The crash-looping pod's capture, set to the restart count and state each sibling had in the transcript.

    That kubectl (1.19) printed RESTARTS without the age of the last restart, so only the count is compared.
    """
    printed = transcript_rows(name)[0]
    raw = real("01b_pod_crashloopbackoff__kubesphere_issue4920.converted.json")
    raw["metadata"]["name"] = name
    container = raw["status"]["containerStatuses"][0]
    container["restartCount"] = int(printed[3])
    if printed[2] == "Running":
        container.update(ready=True, started=True, state={"running": {"startedAt": "2022-05-30T04:02:00Z"}})
    printed_age = re.fullmatch(r"(?:(\d+)d)?(\d+)h", printed[4])
    assert printed_age is not None
    days, hours = printed_age.groups()
    now = at(raw["metadata"]["creationTimestamp"]) + int(days or 0) * 86400 + int(hours) * 3600 + 59
    row = pod_row(PodRecord.from_raw(raw), now)
    assert [row.name, row.ready, row.status, row.restarts.split(" ")[0], row.age] == printed


def test_hmcts_oomkilled_row_with_restart_age() -> None:
    raw = make_pod(
        [
            {
                **terminated("app", "OOMKilled", exit_code=137),
                "restartCount": 4,
                "lastState": last_terminated(57),
            }
        ]
    )
    raw["metadata"]["name"] = "tax-tribunals-application-base-74464f6b98-2kj6g"
    raw["metadata"]["creationTimestamp"] = iso(160)
    printed = transcript_rows("tax-tribunals-application-base-74464f6b98-2kj6g")[0]
    assert printed == [
        "tax-tribunals-application-base-74464f6b98-2kj6g",
        "0/1",
        "OOMKilled",
        "4 (57s ago)",
        "2m40s",
    ]
    assert list(pod_row(PodRecord.from_raw(raw), NOW)[:5]) == printed


def test_pending_pod_without_container_statuses() -> None:
    raw = make_pod(None, containers=("redis", "sentinel"), phase="Pending")
    raw["metadata"].update(name="redis-ha-server-0", creationTimestamp=iso(4 * 86400 + 15 * 3600 + 7))
    printed = transcript_rows("redis-ha-server-0")[0]
    assert (
        list(pod_row(PodRecord.from_raw(raw), NOW)[:5])
        == printed
        == [
            "redis-ha-server-0",
            "0/2",
            "Pending",
            "0",
            "4d15h",
        ]
    )


# -- one hand-built pod per rule ---------------------------------------------------------------------------


def test_healthy_pod() -> None:
    assert columns(make_pod([running()], conditions=[condition("Ready")])) == ("1/1", "Running", "0")


def test_status_reason_overrides_phase() -> None:
    for reason in ("Evicted", "NodeLost", "UnexpectedAdmissionError"):
        assert columns(make_pod([], phase="Failed", reason=reason))[1] == reason


def test_evicted_pod_whose_container_status_is_unknown_shows_that_as_kubectl_does() -> None:
    evicted = make_pod([terminated("app", "ContainerStatusUnknown", exit_code=137)], phase="Failed", reason="Evicted")
    assert columns(evicted)[1] == "ContainerStatusUnknown"


def test_scheduling_gated() -> None:
    gated = make_pod(None, phase="Pending", conditions=[condition("PodScheduled", "False", "SchedulingGated")])
    assert columns(gated) == ("0/1", "SchedulingGated", "0")


@pytest.mark.parametrize(
    ("init_statuses", "status"),
    [
        ([running("a", ready=False), waiting("b", "PodInitializing")], "Init:0/2"),
        ([terminated("a", "Completed"), running("b", ready=False)], "Init:1/2"),
        ([terminated("a", "Completed"), waiting("b", "PodInitializing")], "Init:1/2"),
        ([waiting("a", "CrashLoopBackOff"), waiting("b", "PodInitializing")], "Init:CrashLoopBackOff"),
        ([waiting("a", "ErrImagePull"), waiting("b", "PodInitializing")], "Init:ErrImagePull"),
        ([terminated("a", "Error", exit_code=1), waiting("b")], "Init:Error"),
        ([terminated("a", "", exit_code=3), waiting("b")], "Init:ExitCode:3"),
        ([terminated("a", "", exit_code=137, signal=9), waiting("b")], "Init:Signal:9"),
        ([terminated("a", "Completed"), terminated("b", "Completed")], "PodInitializing"),
    ],
)
def test_init_containers(init_statuses: list[dict[str, Any]], status: str) -> None:
    pod = make_pod(
        [waiting("app", "PodInitializing")],
        init=[{"name": "a"}, {"name": "b"}],
        init_statuses=init_statuses,
        phase="Pending",
    )
    assert columns(pod)[1] == status


def test_init_restarts_count_while_initializing_and_main_restarts_after() -> None:
    crashing = make_pod(
        [waiting("app", "PodInitializing", restarts=0)],
        init=[{"name": "fetch"}],
        init_statuses=[waiting("fetch", "CrashLoopBackOff", restarts=3, lastState=last_terminated(10))],
        phase="Pending",
    )
    assert columns(crashing) == ("0/1", "Init:CrashLoopBackOff", "3 (10s ago)")
    initialized = make_pod(
        [running("app", restarts=2, lastState=last_terminated(90))],
        init=[{"name": "fetch"}],
        init_statuses=[{**terminated("fetch", "Completed"), "restartCount": 5, "lastState": last_terminated(5)}],
        conditions=[condition("Initialized"), condition("Ready")],
    )
    # Once initialized only sidecars and main containers count, as kubectl does.
    assert columns(initialized) == ("1/1", "Running", "2 (90s ago)")


def test_sidecars_count_towards_ready_and_restarts() -> None:
    pod = make_pod(
        [running("app")],
        init=[{"name": "proxy", "restartPolicy": "Always"}, {"name": "migrate"}],
        init_statuses=[
            running("proxy", restarts=1, lastState=last_terminated(200)),
            terminated("migrate", "Completed"),
        ],
        conditions=[condition("Initialized"), condition("Ready")],
    )
    assert columns(pod) == ("2/2", "Running", "1 (3m20s ago)")
    record = PodRecord.from_raw(pod)
    assert [(c.name, c.init, c.sidecar) for c in record.init_containers] == [
        ("proxy", True, True),
        ("migrate", True, False),
    ]


def test_started_sidecar_that_is_not_ready_does_not_block_init_but_is_not_ready() -> None:
    pod = make_pod(
        [waiting("app", "ContainerCreating")],
        init=[{"name": "proxy", "restartPolicy": "Always"}],
        init_statuses=[running("proxy", ready=False)],
        phase="Pending",
    )
    assert columns(pod) == ("0/2", "ContainerCreating", "0")


@pytest.mark.parametrize(
    ("statuses", "status"),
    [
        ([terminated("app", "", exit_code=2)], "ExitCode:2"),
        ([terminated("app", "", exit_code=143, signal=15)], "Signal:15"),
        ([terminated("app", "Error", exit_code=1)], "Error"),
        ([waiting("app", "CreateContainerConfigError")], "CreateContainerConfigError"),
        ([waiting("app", "ImagePullBackOff")], "ImagePullBackOff"),
        ([running("app", ready=False)], "Running"),
    ],
)
def test_container_states(statuses: list[dict[str, Any]], status: str) -> None:
    assert columns(make_pod(statuses))[1] == status


def test_first_listed_container_decides_because_the_walk_is_reversed() -> None:
    pod = make_pod(
        [waiting("a", "CrashLoopBackOff"), waiting("b", "ImagePullBackOff")],
        containers=("a", "b"),
    )
    assert columns(pod)[1] == "CrashLoopBackOff"


def test_completed_container_beside_a_running_one_is_running_or_notready() -> None:
    statuses = [terminated("job", "Completed"), running("server")]
    ready = make_pod(statuses, containers=("job", "server"), conditions=[condition("Ready")])
    assert columns(ready) == ("1/2", "Running", "0")
    not_ready = make_pod(statuses, containers=("job", "server"), conditions=[condition("Ready", "False")])
    assert columns(not_ready) == ("1/2", "NotReady", "0")
    alone = make_pod([terminated("job", "Completed")], containers=("job",), phase="Succeeded")
    assert columns(alone) == ("0/1", "Completed", "0")


def test_deleted_pods_are_terminating_unless_finished_or_their_node_is_lost() -> None:
    deleting = make_pod([running()])
    deleting["metadata"]["deletionTimestamp"] = iso(5)
    assert columns(deleting)[1] == "Terminating"
    finished = make_pod([terminated("app", "Completed")], phase="Succeeded")
    finished["metadata"]["deletionTimestamp"] = iso(5)
    assert columns(finished)[1] == "Completed"
    lost = make_pod([running()], reason="NodeLost")
    lost["metadata"]["deletionTimestamp"] = iso(5)
    assert columns(lost)[1] == "Unknown"


def test_restarts_without_a_termination_time_have_no_age() -> None:
    pod = make_pod([running(restarts=5, lastState={"terminated": {"exitCode": 1, "reason": "Error"}})])
    assert columns(pod)[2] == "5"


def test_restart_age_is_the_newest_termination_of_all_containers() -> None:
    pod = make_pod(
        [
            running("a", restarts=2, lastState=last_terminated(3600)),
            running("b", restarts=1, lastState=last_terminated(57)),
        ],
        containers=("a", "b"),
    )
    assert columns(pod) == ("2/2", "Running", "3 (57s ago)")


def test_wide_columns_ip_node_nominated_node_and_readiness_gates() -> None:
    raw = make_pod(
        [running()],
        conditions=[
            condition("Ready"),
            condition("example.com/lb", "True"),
            condition("example.com/dns", "False"),
        ],
        podIPs=[{"ip": "10.244.1.7"}, {"ip": "fd00::7"}],
        nominatedNodeName="gpu-node-2",
    )
    raw["spec"]["nodeName"] = "gpu-node-1"
    raw["spec"]["readinessGates"] = [
        {"conditionType": "example.com/lb"},
        {"conditionType": "example.com/dns"},
    ]
    assert pod_row(PodRecord.from_raw(raw), NOW)[5:] == ("10.244.1.7", "gpu-node-1", "gpu-node-2", "1/2")


def test_ages_follow_now_without_rebuilding_the_record() -> None:
    record = PodRecord.from_raw(make_pod([running(restarts=1, lastState=last_terminated(57))]))
    assert (pod_row(record, NOW).age, pod_row(record, NOW).restarts) == ("10m", "1 (57s ago)")
    later = NOW + 3 * 3600
    assert (pod_row(record, later).age, pod_row(record, later).restarts) == ("3h10m", "1 (3h ago)")


def test_cluster_text_is_shown_literally() -> None:
    raw = make_pod([waiting("app", "\x1b[2J\x1b[31mBoom[/bold]")])
    row = pod_row(PodRecord.from_raw(raw), NOW)
    assert not re.search(r"[\x00-\x1f\x7f-\x9f]", row.status)  # nothing reaches the terminal as a control
    assert "Boom[/bold]" in row.status  # and markup stays text


def test_pod_status_reads_a_raw_pod_without_building_a_record() -> None:
    summary = pod_status(make_pod([running(restarts=1, lastState=last_terminated(57))]))
    assert (summary.reason, summary.ready, summary.total, summary.restarts) == ("Running", 1, 1, 1)
    assert summary.last_restart_at == NOW - 57


# -- faulty pods, last termination, resources, default container ---------------------------------------------


def test_faulty_pods() -> None:
    healthy = PodRecord.from_raw(make_pod([running()], conditions=[condition("Ready")]))
    assert pod_fault(healthy, NOW) is None
    assert not is_faulty(healthy, NOW)
    pending = PodRecord.from_raw(make_pod(None, phase="Pending"))
    assert pod_fault(pending, NOW) == "Pending"
    unready = PodRecord.from_raw(make_pod([running(ready=False)]))
    assert pod_fault(unready, NOW) == "0/1 ready"
    restarted = PodRecord.from_raw(make_pod([running(restarts=1, lastState=last_terminated(57))]))
    assert pod_fault(restarted, NOW) == "restarted 57s ago"
    assert pod_fault(restarted, NOW + 3600) is None  # an old restart is history, not a fault
    completed = PodRecord.from_raw(make_pod([terminated("app", "Completed")], phase="Succeeded"))
    assert not is_faulty(completed, NOW)


def test_terminating_pod_is_faulty_only_once_stuck() -> None:
    raw = make_pod([running()])
    raw["metadata"]["deletionTimestamp"] = iso(10)  # the end of its grace period, 10 s ago
    pod = PodRecord.from_raw(raw)
    assert pod_fault(pod, NOW) is None
    assert pod_fault(pod, NOW + 60) == "Terminating for 70s past its grace period"


def test_last_termination_resources_and_default_container() -> None:
    pod = PodRecord.from_raw(real("01_pod_oomkilled_restarted__kuberay_issue4356.converted.json"))
    name, termination = pod.last_termination() or ("", None)
    assert name == "ray-head"
    assert termination is not None
    assert (termination.reason, termination.exit_code) == ("OOMKilled", 137)
    assert termination.finished_at == at("2026-01-08T08:07:10Z")
    container = pod.containers[0]
    assert (container.cpu_request, container.cpu_limit) == ("300m", "500m")
    assert (container.memory_request, container.memory_limit) == ("1G", "2G")
    assert (container.gpu_request, container.gpu_limit) == (None, None)
    assert (container.state, container.restart_count, container.image) == (
        "running",
        1,
        "rayproject/ray:2.46.0",
    )
    assert pod.default_container == "ray-head"


def test_default_container_annotation_and_gpu_resources() -> None:
    raw = make_pod([running("server"), running("sidecar")], containers=("sidecar", "server"))
    raw["metadata"]["annotations"] = {"kubectl.kubernetes.io/default-container": "server"}
    raw["spec"]["containers"][1]["resources"] = {
        "requests": {"nvidia.com/gpu": "1"},
        "limits": {"nvidia.com/gpu": "1", "memory": "16Gi"},
    }
    pod = PodRecord.from_raw(raw)
    assert pod.default_container == "server"
    server = pod.containers[1]
    assert (server.name, server.gpu_request, server.gpu_limit, server.memory_limit) == (
        "server",
        "1",
        "1",
        "16Gi",
    )
    assert PodRecord.from_raw(make_pod([running()])).default_container == "app"
    assert pod.last_termination() is None


def test_records_do_not_depend_on_the_raw_dict_being_left_alone() -> None:
    raw = real("01b_pod_crashloopbackoff__kubesphere_issue4920.converted.json")
    before = PodRecord.from_raw(copy.deepcopy(raw))
    raw["status"]["containerStatuses"][0]["restartCount"] = 0
    assert before.restarts == 518
    assert PodRecord.from_raw(raw).restarts == 0
