"""The describe text of a real OOMKilled pod, and the rollout history lines."""

from __future__ import annotations

import time

from nimify_tui.kube.records import EventRecord, ReplicaSetRecord
from nimify_tui.render.describe import describe_pod, object_yaml, rollout_history_lines

from ..conftest import real_k8s_object


def test_describe_answers_why_the_container_last_died() -> None:
    pod = real_k8s_object("01_pod_oomkilled_restarted__kuberay_issue4356.converted.json")
    event = EventRecord.from_raw(
        {
            "metadata": {"name": "e1", "namespace": pod["metadata"]["namespace"]},
            "involvedObject": {"kind": "Pod", "name": pod["metadata"]["name"]},
            "type": "Warning",
            "reason": "BackOff",
            "message": "Back-off restarting failed container \x1b[31mray-head\x1b[0m",
            "count": 4,
            "firstTimestamp": "2026-01-08T08:07:00Z",
            "lastTimestamp": "2026-01-08T08:07:30Z",
            "source": {"component": "kubelet"},
        }
    )
    text = describe_pod(pod, [event], time.time())
    lines = text.splitlines()
    last_state = lines.index(next(line for line in lines if line.strip().startswith("Last State:")))
    assert "Terminated" in lines[last_state]
    assert lines[last_state + 1].split() == ["Reason:", "OOMKilled"]
    assert lines[last_state + 2].split() == ["Exit", "Code:", "137"]
    assert lines[last_state + 1].index("OOMKilled") == lines[last_state].index("Terminated"), "values aligned"
    assert "Limits:" in text and "memory: 2G" in text and "Restart Count:        1" in text
    assert "BackOff" in text and "(x4 over" in text
    assert "\x1b" not in text, "escape sequences from the cluster never reach the screen"


def test_rollout_history_of_a_real_replicaset() -> None:
    record = ReplicaSetRecord.from_raw(real_k8s_object("06_replicaset_revision__k9s_rs.json"))
    newer = real_k8s_object("06_replicaset_revision__k9s_rs.json")  # the next revision, its pod still starting
    newer["metadata"]["annotations"]["deployment.kubernetes.io/revision"] = "2"
    newer["status"]["readyReplicas"] = 0
    assert rollout_history_lines([ReplicaSetRecord.from_raw(newer), record]) == [
        "REVISION  CHANGE-CAUSE                            REPLICAS  IMAGES",
        "1         <none>                                  1/1       postgres:9.2-alpine",
        "2         <none>                                  0/1       postgres:9.2-alpine",
    ]
    assert rollout_history_lines([]) == ["no rollout history found"]


def test_yaml_leaves_out_managed_fields() -> None:
    pod = real_k8s_object("01_pod_oomkilled_restarted__kuberay_issue4356.converted.json")
    pod["metadata"]["managedFields"] = [{"manager": "kubectl"}]
    text = object_yaml(pod)
    assert "managedFields" not in text and "apiVersion: v1" in text
