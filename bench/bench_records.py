"""Benchmark: turn 5,000 raw pods (as orjson decodes a list) into records, then into kubectl rows.

The pods are built here: a deployment-like mix of Running, CrashLoopBackOff (with a last OOMKilled
termination), Pending and init-container pods, two containers each, with the fields a real server sends.
Prints the median of several runs for: decoding the list bytes, building records, building rows.

Usage: python bench/bench_records.py [--pods 5000] [--runs 5]
"""

from __future__ import annotations

import argparse
import gc
import random
import statistics
import time
from datetime import datetime, timedelta, timezone
from typing import Any

import orjson

from nimify_tui.kube.records import PodRecord
from nimify_tui.render.kubectl import pod_row

START = datetime(2026, 1, 8, 8, 0, tzinfo=timezone.utc)


def _stamp(offset_s: float) -> str:
    return (START + timedelta(seconds=offset_s)).strftime("%Y-%m-%dT%H:%M:%SZ")


def _condition(kind: str, status: str, at: float) -> dict[str, Any]:
    return {"type": kind, "status": status, "lastProbeTime": None, "lastTransitionTime": _stamp(at)}


def _container_spec(name: str, image: str, gpu: bool) -> dict[str, Any]:
    limits = {"cpu": "2", "memory": "4Gi"} | ({"nvidia.com/gpu": "1"} if gpu else {})
    return {
        "name": name,
        "image": image,
        "ports": [{"containerPort": 8000, "name": "http", "protocol": "TCP"}],
        "resources": {"requests": {"cpu": "500m", "memory": "2Gi"}, "limits": limits},
        "terminationMessagePath": "/dev/termination-log",
        "imagePullPolicy": "IfNotPresent",
    }


def _container_status(name: str, image: str, kind: str, at: float, restarts: int) -> dict[str, Any]:
    status: dict[str, Any] = {
        "name": name,
        "image": image,
        "imageID": f"docker.io/{image}@sha256:{'ab' * 32}",
        "containerID": f"containerd://{'cd' * 32}",
        "restartCount": restarts,
        "started": kind == "running",
        "ready": kind == "running",
        "lastState": {},
    }
    if kind == "running":
        status["state"] = {"running": {"startedAt": _stamp(at + 5)}}
    else:
        status["state"] = {"waiting": {"reason": "CrashLoopBackOff", "message": "back-off 5m0s restarting"}}
        status["lastState"] = {
            "terminated": {
                "exitCode": 137,
                "reason": "OOMKilled",
                "startedAt": _stamp(at + 100),
                "finishedAt": _stamp(at + 160),
                "containerID": f"containerd://{'ef' * 32}",
            }
        }
    return status


def synthetic_pod(index: int, rng: random.Random) -> dict[str, Any]:
    """One pod as the API server serves it (metadata, spec, status), in one of four states."""
    created = rng.uniform(0, 3600 * 24)
    deployment = f"nimify-api-{index % 40}"
    name = f"{deployment}-7d4b578979-{index:05d}"
    state = rng.choices(["running", "crash", "pending", "init"], weights=[80, 10, 5, 5])[0]
    gpu = index % 3 == 0
    containers = [
        _container_spec("server", "nvcr.io/nvidia/tritonserver:24.05-py3", gpu),
        _container_spec("sidecar", "nimify/metrics-agent:1.4.2", False),
    ]
    spec: dict[str, Any] = {
        "containers": containers,
        "restartPolicy": "Always",
        "serviceAccountName": "default",
        "terminationGracePeriodSeconds": 30,
        "tolerations": [{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}],
    }
    status: dict[str, Any] = {"phase": "Running", "qosClass": "Burstable", "startTime": _stamp(created)}
    if state == "pending":
        status["phase"] = "Pending"
        status["conditions"] = [
            {
                **_condition("PodScheduled", "False", created),
                "reason": "Unschedulable",
                "message": "0/6 nodes are available: 6 Insufficient nvidia.com/gpu.",
            }
        ]
    else:
        spec["nodeName"] = f"gpu-node-{index % 16}"
        status["hostIP"] = f"10.0.{index % 16}.1"
        status["podIP"] = f"10.244.{index // 250}.{index % 250}"
        status["podIPs"] = [{"ip": status["podIP"]}]
        ready = "True" if state == "running" else "False"
        status["conditions"] = [
            _condition("PodReadyToStartContainers", "True", created + 1),
            _condition("Initialized", "True" if state != "init" else "False", created + 1),
            _condition("Ready", ready, created + 6),
            _condition("ContainersReady", ready, created + 6),
            _condition("PodScheduled", "True", created),
        ]
        if state == "init":
            spec["initContainers"] = [_container_spec("fetch-model", "nimify/model-fetch:0.9", False)]
            status["phase"] = "Pending"
            status["initContainerStatuses"] = [
                {
                    "name": "fetch-model",
                    "image": "nimify/model-fetch:0.9",
                    "imageID": "",
                    "restartCount": 0,
                    "started": True,
                    "ready": False,
                    "state": {"running": {"startedAt": _stamp(created + 2)}},
                    "lastState": {},
                }
            ]
            status["containerStatuses"] = [
                {
                    "name": c["name"],
                    "image": c["image"],
                    "imageID": "",
                    "restartCount": 0,
                    "started": False,
                    "ready": False,
                    "state": {"waiting": {"reason": "PodInitializing"}},
                    "lastState": {},
                }
                for c in containers
            ]
        else:
            first = "running" if state == "running" else "crash"
            restarts = 0 if state == "running" else rng.randrange(1, 40)
            status["containerStatuses"] = [
                _container_status("server", containers[0]["image"], first, created, restarts),
                _container_status("sidecar", containers[1]["image"], "running", created, 0),
            ]
    return {
        "metadata": {
            "name": name,
            "generateName": f"{deployment}-7d4b578979-",
            "namespace": "nimify-system",
            "uid": f"{index:08d}-0000-4000-8000-000000000000",
            "resourceVersion": str(100000 + index),
            "creationTimestamp": _stamp(created),
            "labels": {"app": deployment, "pod-template-hash": "7d4b578979"},
            "annotations": {"kubectl.kubernetes.io/default-container": "server"},
            "ownerReferences": [
                {
                    "apiVersion": "apps/v1",
                    "kind": "ReplicaSet",
                    "name": f"{deployment}-7d4b578979",
                    "uid": "11111111-2222-4333-8444-555555555555",
                    "controller": True,
                    "blockOwnerDeletion": True,
                }
            ],
        },
        "spec": spec,
        "status": status,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pods", type=int, default=5000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()

    rng = random.Random(7)
    body = orjson.dumps({"kind": "PodList", "items": [synthetic_pod(i, rng) for i in range(args.pods)]})
    now = (START + timedelta(days=1)).timestamp()
    decode_s, records_s, rows_s = [], [], []
    for _ in range(args.runs):
        gc.collect()  # every run starts from the same heap: only the JSON bytes
        began = time.perf_counter()
        items = orjson.loads(body)["items"]
        decoded = time.perf_counter()
        records = [PodRecord.from_raw(item) for item in items]
        built = time.perf_counter()
        rows = [pod_row(record, now) for record in records]
        done = time.perf_counter()
        decode_s.append(decoded - began)
        records_s.append(built - decoded)
        rows_s.append(done - built)
        assert len(rows) == args.pods
        del items, records, rows
    print(f"{args.pods} pods ({len(body) / 1e6:.1f} MB of JSON), median of {args.runs} runs:")
    print(f"  orjson.loads         {statistics.median(decode_s) * 1000:7.1f} ms")
    print(f"  records (from_raw)   {statistics.median(records_s) * 1000:7.1f} ms")
    print(f"  rows (pod_row)       {statistics.median(rows_s) * 1000:7.1f} ms")
    both_s = [records + rows for records, rows in zip(records_s, rows_s, strict=True)]
    print(f"  records + rows       {statistics.median(both_s) * 1000:7.1f} ms")


if __name__ == "__main__":
    main()
