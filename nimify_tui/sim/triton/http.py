"""The simulated Triton's HTTP API on port 8000 (KServe v2): server and model metadata, health, statistics,
and the model repository's index, load and unload.

Answers as Triton's own HTTP endpoint does, its error messages included; a load completes before it answers.
"""

from __future__ import annotations

import json

from nimify_tui.sim.contract import HTTPReply
from nimify_tui.sim.triton.models import (
    NEVER_LOADED,
    READY,
    VERSION,
    Model,
    ModelSpec,
    TensorSpec,
    models_ready,
)

SERVER_VERSION = "2.53.0"  # Triton 24.12
EXTENSIONS = (
    "classification",
    "sequence",
    "model_repository",
    "model_repository(unload_dependents)",
    "schedule_policy",
    "model_configuration",
    "system_shared_memory",
    "cuda_shared_memory",
    "binary_tensor_data",
    "parameters",
    "statistics",
    "trace",
    "logging",
)


def _json_reply(status: int, payload: object) -> HTTPReply:
    return HTTPReply(status, json.dumps(payload, separators=(",", ":")).encode())


def _error(status: int, message: str) -> HTTPReply:
    return _json_reply(status, {"error": message})


def _shape(spec: ModelSpec, tensor: TensorSpec) -> list[int]:
    batch = [-1] if spec.max_batch_size > 0 else []
    return [*batch, *tensor.dims]


def _metadata_json(spec: ModelSpec) -> dict[str, object]:
    return {
        "name": spec.name,
        "versions": [VERSION],
        "platform": spec.platform or spec.backend,
        "inputs": [{"name": t.name, "datatype": t.datatype, "shape": _shape(spec, t)} for t in spec.inputs],
        "outputs": [{"name": t.name, "datatype": t.datatype, "shape": _shape(spec, t)} for t in spec.outputs],
    }


def _config_type(datatype: str) -> str:
    return "TYPE_STRING" if datatype == "BYTES" else f"TYPE_{datatype}"


def _config_json(spec: ModelSpec) -> dict[str, object]:
    """The model configuration as Triton prints it after auto-completion (the fields operators read)."""
    return {
        "name": spec.name,
        "platform": spec.platform,
        "backend": spec.backend,
        "runtime": "",
        "version_policy": {"latest": {"num_versions": 1}},
        "max_batch_size": spec.max_batch_size,
        "input": [
            {
                "name": t.name,
                "data_type": _config_type(t.datatype),
                "format": "FORMAT_NONE",
                "dims": list(t.dims),
                "is_shape_tensor": False,
                "allow_ragged_batch": False,
                "optional": False,
            }
            for t in spec.inputs
        ],
        "output": [
            {
                "name": t.name,
                "data_type": _config_type(t.datatype),
                "dims": list(t.dims),
                "label_filename": "",
                "is_shape_tensor": False,
            }
            for t in spec.outputs
        ],
        "batch_input": [],
        "batch_output": [],
        "optimization": {
            "priority": "PRIORITY_DEFAULT",
            "input_pinned_memory": {"enable": True},
            "output_pinned_memory": {"enable": True},
            "gather_kernel_buffer_threshold": 0,
            "eager_batching": False,
        },
        "dynamic_batching": {
            "preferred_batch_size": [spec.max_batch_size // 4, spec.max_batch_size // 2],
            "max_queue_delay_microseconds": 2000,
            "preserve_ordering": False,
            "priority_levels": 0,
            "default_priority_level": 0,
            "priority_queue_policy": {},
        },
        "instance_group": [
            {
                "name": f"{spec.name}_0",
                "kind": "KIND_GPU",
                "count": 1,
                "gpus": [0],
                "secondary_devices": [],
                "profile": [],
                "passive": False,
                "host_policy": "",
            }
        ],
        "default_model_filename": spec.default_model_filename,
        "cc_model_filenames": {},
        "metric_tags": {},
        "parameters": {},
        "model_warmup": [],
    }


def connection_refused() -> HTTPReply:
    """What a port nobody listens on gives the proxy."""
    return HTTPReply(503, b"connection refused", "text/plain; charset=utf-8")


def handle_v2(models: dict[str, Model], method: str, path: str, body: bytes) -> HTTPReply:
    """Answer one request to the KServe v2 API of a server process holding ``models``."""
    parts = [part for part in path.split("/") if part]
    if not parts or parts[0] != "v2":
        return _error(404, "Not Found")
    if len(parts) >= 2 and parts[1] == "repository":
        if method != "POST":
            return _error(405, "Method Not Allowed")
        return _repository(models, parts[2:], body)
    if method != "GET":
        return _error(405, "Method Not Allowed")
    return _get(models, parts[1:])


def _get(models: dict[str, Model], parts: list[str]) -> HTTPReply:
    if not parts:
        return _json_reply(200, {"name": "triton", "version": SERVER_VERSION, "extensions": list(EXTENSIONS)})
    if parts[0] == "health" and len(parts) == 2 and parts[1] in ("live", "ready"):
        ok = parts[1] == "live" or models_ready(models)
        return HTTPReply(200 if ok else 400, b"")
    if parts[0] != "models" or len(parts) < 2:
        return _error(404, "Not Found")
    if parts[1:] == ["stats"]:
        ready = [model for model in models.values() if model.state == READY]
        return _json_reply(200, {"model_stats": [_stats_json(model) for model in ready]})
    return _get_model(models, parts[1], parts[2:])


def _get_model(models: dict[str, Model], name: str, rest: list[str]) -> HTTPReply:
    model = models.get(name)
    if model is None:
        return _error(404, f"Request for unknown model: '{name}' is not found")
    if rest[:1] == ["versions"]:
        if len(rest) < 2:
            return _error(404, "Not Found")
        if rest[1] != VERSION:
            return _error(404, f"Request for unknown model: '{name}' version {rest[1]} is not found")
        rest = rest[2:]
    if len(rest) > 1 or (rest and rest[0] not in ("ready", "config", "stats")):
        return _error(404, "Not Found")
    endpoint = rest[0] if rest else ""
    if model.state != READY:
        if endpoint == "ready":
            return _error(400, f"Request for unknown model: '{name}' is not ready")
        if endpoint == "stats":
            return _error(400, f"requested model '{name}' is not available")
        return _error(400, f"Request for unknown model: '{name}' has no available versions")
    if endpoint == "ready":
        return HTTPReply(200, b"")
    if endpoint == "config":
        return _json_reply(200, _config_json(model.spec))
    if endpoint == "stats":
        return _json_reply(200, {"model_stats": [_stats_json(model)]})
    return _json_reply(200, _metadata_json(model.spec))


def _repository(models: dict[str, Model], parts: list[str], body: bytes) -> HTTPReply:
    try:
        request = json.loads(body) if body.strip() else {}
    except ValueError as exc:
        return _error(400, f"failed to parse the request JSON buffer: {exc}")
    if not isinstance(request, dict):
        return _error(400, "failed to parse the request JSON buffer: expected an object")
    if parts == ["index"]:
        ready_only = request.get("ready", False)
        if not isinstance(ready_only, bool):
            return _error(400, "Unable to parse 'ready', expected boolean")
        return _json_reply(200, _index(models, ready_only))
    if len(parts) != 3 or parts[0] != "models" or parts[2] not in ("load", "unload"):
        return _error(404, "Not Found")
    name, action = parts[1], parts[2]
    model = models.get(name)
    if model is None:
        return _error(404, f"Request for unknown model: '{name}' is not found")
    if action == "load":
        model.finish_load()
    elif model.state != NEVER_LOADED:
        model.make_unavailable("unloaded", wanted=False)
    return HTTPReply(200, b"")


def _index(models: dict[str, Model], ready_only: bool) -> list[dict[str, str]]:
    entries: list[dict[str, str]] = []
    for name in sorted(models):
        model = models[name]
        if ready_only and model.state != READY:
            continue
        if model.state == NEVER_LOADED:
            entries.append({"name": name})
            continue
        entry = {"name": name, "version": VERSION, "state": model.state}
        if model.reason:
            entry["reason"] = model.reason
        entries.append(entry)
    return entries


def _stats_json(model: Model) -> dict[str, object]:
    stats = model.stats
    return {
        "name": model.spec.name,
        "version": VERSION,
        "last_inference": stats.last_inference_ms,
        "inference_count": stats.inference_count,
        "execution_count": stats.execution_count,
        "inference_stats": {
            "success": stats.success.as_json(),
            "fail": stats.fail.as_json(),
            "queue": stats.queue.as_json(),
            "compute_input": stats.compute_input.as_json(),
            "compute_infer": stats.compute_infer.as_json(),
            "compute_output": stats.compute_output.as_json(),
            "cache_hit": stats.cache_hit.as_json(),
            "cache_miss": stats.cache_miss.as_json(),
        },
        "response_stats": {},
        "batch_stats": [
            {
                "batch_size": size,
                "compute_input": batch.compute_input.as_json(),
                "compute_infer": batch.compute_infer.as_json(),
                "compute_output": batch.compute_output.as_json(),
            }
            for size, batch in sorted(stats.batches.items())
        ],
        "memory_usage": [],
    }
