"""What the simulated containers do: resource use, start-up time, and the lines they log.

Each app (the pod's ``app`` label) has a :class:`Workload`. Log lines are written in the app's own format
(uvicorn, Triton's glog, klog, PostgreSQL, logfmt) with the simulated time in them.
"""

from __future__ import annotations

import datetime as dt
import itertools
import random
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

LOG_LINES_KEPT = 5_000
MIB = 2**20
DATABASE_HOST = "postgres.nimify-system.svc.cluster.local"
DATABASE_PORT = 5432


class ContainerLog:
    """The log of one container instance: (time, line) pairs, the newest ``LOG_LINES_KEPT`` of them."""

    def __init__(self) -> None:
        self.lines: deque[tuple[float, str]] = deque(maxlen=LOG_LINES_KEPT)
        self.written = 0  # lines ever written, so followers can tell which lines are new

    def write(self, t: float, text: str) -> None:
        for line in text.split("\n"):
            self.lines.append((t, line))
            self.written += 1

    def write_lines(self, lines: list[tuple[float, str]]) -> None:
        """Append (time, line) pairs, each one line."""
        self.lines.extend(lines)
        self.written += len(lines)

    def keep(self, count: int) -> None:
        """Keep at least the newest ``count`` lines from now on."""
        if (self.lines.maxlen or 0) < count:
            self.lines = deque(self.lines, maxlen=count)

    def since(self, written: int) -> list[tuple[float, str]]:
        """Lines written after the first ``written`` lines (the ones still kept)."""
        fresh = min(self.written - written, len(self.lines))
        if fresh <= 0:
            return []
        newest_first = list(itertools.islice(reversed(self.lines), fresh))  # no walk over the older lines
        newest_first.reverse()
        return newest_first


@dataclass(frozen=True)
class LogContext:
    """What a log line may mention."""

    t: float
    pod: str
    node: str
    rng: random.Random
    predict_ok: bool = True  # whether nimify-api's calls to Triton succeed right now
    database_error: str = ""  # why connections to the database fail right now ("" when they succeed)
    in_service: bool = True  # whether its service routes requests to this pod (its labels match the selector)


LineMaker = Callable[[LogContext], list[str]]


@dataclass(frozen=True)
class Workload:
    """How an app's container behaves."""

    memory_mib: float  # steady memory use
    cpu_cores: float  # CPU use when idle
    cpu_per_rps: float  # extra CPU per request per second it serves
    ready_after_s: float  # from container start to passing its readiness probe
    startup: LineMaker
    periodic: LineMaker | None = None
    period_s: float = 10.0


def _clock(t: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(t, dt.timezone.utc)


def glog(t: float, level: str, source: str, message: str, pid: int = 1) -> str:
    """Triton's and klog's prefix: ``I1128 19:50:00.123456 1 file.cc:42] message``."""
    return f"{level}{_clock(t).strftime('%m%d %H:%M:%S.%f')} {pid:>7} {source}] {message}"


def _py(t: float, level: str, logger: str, message: str) -> str:
    return f"{_clock(t).strftime('%Y-%m-%d %H:%M:%S,%f')[:-3]} {level} {logger}: {message}"


def _logfmt(t: float, level: str, message: str, extra: str = "") -> str:
    stamp = _clock(t).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    return f'time={stamp} level={level} msg="{message}"' + (f" {extra}" if extra else "")


def _pg(t: float, message: str) -> str:
    return f"{_clock(t).strftime('%Y-%m-%d %H:%M:%S.%f')[:-3]} UTC [1] LOG:  {message}"


# --- nimify-api -------------------------------------------------------------------------------


def _api_startup(c: LogContext) -> list[str]:
    if c.database_error:
        database = [
            *_database_error_lines(c.t, "nimify.db", c.database_error),
            _py(c.t, "WARNING", "nimify.api", "database unavailable at startup; /ready fails until it connects"),
        ]
    else:
        database = [_py(c.t, "INFO", "nimify.api", f"database {DATABASE_HOST}:{DATABASE_PORT} connected")]
    return [
        "INFO:     Started server process [1]",
        "INFO:     Waiting for application startup.",
        _py(c.t, "INFO", "nimify.api", "loading configuration from /etc/nimify/config.yaml"),
        _py(c.t, "INFO", "nimify.api", "model cache at /models (volume model-storage)"),
        _py(c.t, "INFO", "nimify.api", "triton endpoint triton-server.triton-system.svc.cluster.local:8000"),
        *database,
        "INFO:     Application startup complete.",
        "INFO:     Uvicorn running on http://0.0.0.0:8000 (Press CTRL+C to quit)",
    ]


def _client_ip(c: LogContext) -> str:
    return f"10.244.{c.rng.randint(0, 3)}.{c.rng.randint(2, 250)}:{c.rng.randint(32768, 60999)}"


def _database_error_lines(t: float, logger: str, error: str) -> list[str]:
    """libpq's refusal, as the app logs it: the message, then libpq's hint on a line of its own."""
    return [
        _py(t, "ERROR", logger, error),
        "\tIs the server running on that host and accepting TCP/IP connections?",
    ]


def _api_periodic(c: LogContext) -> list[str]:
    if c.database_error:
        return [
            *_database_error_lines(c.t, "nimify.db", c.database_error),
            f'INFO:     {_client_ip(c)} - "GET /ready HTTP/1.1" 503 Service Unavailable',
        ]
    lines = [f'INFO:     {_client_ip(c)} - "GET /ready HTTP/1.1" 200 OK']
    if not c.in_service:
        return lines
    if c.predict_ok:
        lines.append(f'INFO:     {_client_ip(c)} - "POST /v1/predict HTTP/1.1" 200 OK')
    else:
        lines.append(
            _py(c.t, "ERROR", "nimify.api", "inference failed: triton model 'nimify-model' is not ready (HTTP 400)")
        )
        lines.append(f'INFO:     {_client_ip(c)} - "POST /v1/predict HTTP/1.1" 503 Service Unavailable')
    return lines


# --- nimify-worker ----------------------------------------------------------------------------


def _worker_startup(c: LogContext) -> list[str]:
    return [
        _py(c.t, "INFO", "nimify.worker", "starting worker (concurrency=4)"),
        _py(c.t, "INFO", "nimify.worker", f"connected to {DATABASE_HOST}:{DATABASE_PORT}"),
        _py(c.t, "INFO", "nimify.worker", "polling job queue 'batch-inference'"),
    ]


def _worker_periodic(c: LogContext) -> list[str]:
    if c.database_error:
        return _database_error_lines(
            c.t, "nimify.worker", f"polling job queue 'batch-inference' failed: {c.database_error}"
        )
    job = c.rng.randint(100_000, 999_999)
    return [
        _py(
            c.t,
            "INFO",
            "nimify.worker",
            f"job {job} done: {c.rng.randint(8, 512)} items in {c.rng.uniform(0.4, 9):.1f}s",
        )
    ]


# --- postgres ---------------------------------------------------------------------------------


def _postgres_startup(c: LogContext) -> list[str]:
    return [
        _pg(c.t, "starting PostgreSQL 16.4 (Debian 16.4-1.pgdg120+2) on x86_64-pc-linux-gnu"),
        _pg(c.t, 'listening on IPv4 address "0.0.0.0", port 5432'),
        _pg(c.t, 'listening on Unix socket "/var/run/postgresql/.s.PGSQL.5432"'),
        _pg(c.t, "database system is ready to accept connections"),
    ]


def _postgres_periodic(c: LogContext) -> list[str]:
    return [
        _pg(c.t, "checkpoint starting: time"),
        _pg(c.t, f"checkpoint complete: wrote {c.rng.randint(3, 90)} buffers; write={c.rng.uniform(0.1, 4):.3f} s"),
    ]


# --- triton-server ----------------------------------------------------------------------------


def _triton_startup(c: LogContext) -> list[str]:
    return [
        glog(
            c.t,
            "I",
            "pinned_memory_manager.cc:277",
            "\"Pinned memory pool is created at '0x7f2a3c000000' with size 268435456\"",
        ),
        glog(c.t, "I", "cuda_memory_manager.cc:107", '"CUDA memory pool is created on device 0 with size 67108864"'),
        glog(c.t, "I", "model_lifecycle.cc:472", '"loading: nimify-model:1"'),
        glog(c.t, "I", "onnxruntime.cc:2900", '"TRITONBACKEND_ModelInstanceInitialize: nimify-model_0 (GPU device 0)"'),
        glog(c.t, "I", "model_lifecycle.cc:838", "\"successfully loaded 'nimify-model'\""),
        glog(c.t, "I", "grpc_server.cc:2558", '"Started GRPCInferenceService at 0.0.0.0:8001"'),
        glog(c.t, "I", "http_server.cc:4725", '"Started HTTPService at 0.0.0.0:8000"'),
        glog(c.t, "I", "http_server.cc:358", '"Started Metrics Service at 0.0.0.0:8002"'),
    ]


# --- monitoring -------------------------------------------------------------------------------


def _prometheus_startup(c: LogContext) -> list[str]:
    stamp = _clock(c.t).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    return [
        f'ts={stamp} caller=main.go:645 level=info msg="Starting Prometheus Server" mode=server '
        'version="(version=2.53.1)"',
        f'ts={stamp} caller=web.go:571 level=info component=web msg="Start listening for connections" '
        "address=0.0.0.0:9090",
        f'ts={stamp} caller=main.go:1180 level=info msg="Server is ready to receive web requests."',
    ]


def _dcgm_startup(c: LogContext) -> list[str]:
    return [
        _logfmt(c.t, "info", "Starting dcgm-exporter", 'Version="3.3.8-3.6.0"'),
        _logfmt(c.t, "info", "DCGM successfully initialized!"),
        _logfmt(c.t, "info", "Collecting DCP Metrics"),
        _logfmt(c.t, "info", "Kubernetes metrics collection enabled!"),
        _logfmt(c.t, "info", "Starting webserver"),
        _logfmt(c.t, "info", "Listening on", 'address="[::]:9400"'),
    ]


# --- ingress-nginx ----------------------------------------------------------------------------


def _nginx_startup(c: LogContext) -> list[str]:
    rule = "-" * 79
    return [
        rule,
        "NGINX Ingress controller",
        "  Release:       v1.11.3",
        "  Build:         0106de65cfccb74405a6dfa7d9daffc6f0a6ef1a",
        "  Repository:    https://github.com/kubernetes/ingress-nginx",
        "  nginx version: nginx/1.25.5",
        "",
        rule,
        "",
        glog(c.t, "I", "main.go:205", '"Creating API client" host="https://10.96.0.1:443"'),
        glog(c.t, "I", "main.go:248", '"Running in Kubernetes cluster" major="1" minor="32" git="v1.32.4"'),
        glog(c.t, "I", "controller.go:193", '"Configuration changes detected, backend reload required"'),
        glog(c.t, "I", "controller.go:213", '"Backend successfully reloaded"'),
        glog(
            c.t,
            "I",
            "leaderelection.go:268",
            '"successfully acquired lease" lease="ingress-nginx/ingress-nginx-leader"',
        ),
    ]


def _nginx_periodic(c: LogContext) -> list[str]:
    stamp = _clock(c.t).strftime("%d/%b/%Y:%H:%M:%S +0000")
    status = 200 if c.predict_ok else 503
    took = c.rng.uniform(0.008, 0.04)
    return [
        f'10.0.{c.rng.randint(0, 9)}.{c.rng.randint(2, 250)} - - [{stamp}] "POST /v1/predict HTTP/1.1" {status} 93 '
        f'"-" "python-httpx/0.27.0" 421 {took:.3f} [nimify-system-nimify-api-8000] [] '
        f"10.244.{c.rng.randint(0, 1)}.{c.rng.randint(2, 250)}:8000 93 {took:.3f} {status} "
        f"{c.rng.getrandbits(128):032x}"
    ]


def nginx_wedged_lines(t: float) -> list[str]:
    """What a wedged ingress controller logs: it lost the API server and serves no backends."""
    return [
        glog(
            t,
            "E",
            "leaderelection.go:340",
            "error retrieving resource lock ingress-nginx/ingress-nginx-leader: Get "
            '"https://10.96.0.1:443/apis/coordination.k8s.io/v1/namespaces/ingress-nginx/leases/'
            'ingress-nginx-leader": dial tcp 10.96.0.1:443: i/o timeout',
        ),
        glog(
            t,
            "W",
            "controller.go:1214",
            'Error obtaining Endpoints for Service "nimify-system/nimify-api": no object matching key '
            '"nimify-system/nimify-api" in local store',
        ),
        glog(t, "E", "controller.go:221", '"Unexpected failure reloading the backend" err="exit status 1"'),
    ]


def nginx_expired_certificate_lines(t: float, host: str, not_after: float) -> list[str]:
    """What the ingress controller logs at a sync when a server's certificate has expired."""
    expiry = _clock(not_after).strftime("%Y-%m-%d %H:%M:%S +0000 UTC")
    return [
        glog(t, "I", "controller.go:193", '"Configuration changes detected, backend reload required"'),
        glog(t, "W", "controller.go:1628", f'SSL certificate for server "{host}" expired ({expiry})'),
        glog(t, "I", "controller.go:213", '"Backend successfully reloaded"'),
    ]


def _worker_like_startup(c: LogContext) -> list[str]:
    return [_logfmt(c.t, "info", "load generator started", f"pod={c.pod}")]


WORKLOADS: dict[str, Workload] = {
    "nimify-api": Workload(620, 0.04, 0.0025, 11.0, _api_startup, _api_periodic, 5.0),
    "nimify-worker": Workload(1200, 0.25, 0.0, 4.0, _worker_startup, _worker_periodic, 12.0),
    "postgres": Workload(410, 0.03, 0.0004, 6.0, _postgres_startup, _postgres_periodic, 300.0),
    "triton-server": Workload(5800, 0.35, 0.004, 9.0, _triton_startup),
    "prometheus": Workload(1450, 0.12, 0.0, 5.0, _prometheus_startup),
    "dcgm-exporter": Workload(230, 0.02, 0.0, 3.0, _dcgm_startup),
    "nginx-ingress-controller": Workload(160, 0.02, 0.0008, 4.0, _nginx_startup, _nginx_periodic, 5.0),
}
LOAD_GENERATOR = Workload(8, 0.001, 0.0, 2.0, _worker_like_startup)
LOG_GENERATOR_APP = "log-gen"  # its lines are written by the world at the --log-rate (see World.log_rate)


def log_gen_lines(t: float, first_seq: int, count: int) -> list[tuple[float, str]]:
    """``count`` lines of the log generator written at ``t``, numbered from ``first_seq`` so that a reader can tell
    when a line is missing (logfmt, one timestamp for the batch)."""
    stamp = _clock(t).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    head = f'time={stamp} level=info msg="synthetic load" seq='
    return [(t, f"{head}{seq}") for seq in range(first_seq, first_seq + count)]


def workload(app: str) -> Workload:
    return WORKLOADS.get(app, LOAD_GENERATOR)


# --- crash causes -----------------------------------------------------------------------------


def oom_lines(t: float, using_mib: float, limit_mib: float) -> list[str]:
    return [
        _py(t, "INFO", "nimify.api", "warming tokenizer and embedding caches for nimify-model"),
        _py(t, "WARNING", "nimify.api", f"resident memory {using_mib:.0f} MiB, container limit {limit_mib:.0f} MiB"),
    ]


def bad_config_lines(t: float, image: str) -> list[str]:
    return [
        _py(t, "INFO", "nimify.api", f"nimify-api {image.rpartition(':')[2]} starting"),
        _py(t, "ERROR", "nimify.api", "invalid configuration in /etc/nimify/config.yaml"),
        "Traceback (most recent call last):",
        '  File "/app/nimify/settings.py", line 141, in load',
        "    return Settings.model_validate(raw)",
        "pydantic_core._pydantic_core.ValidationError: 1 validation error for Settings",
        "triton.grpc_url",
        "  Field required [type=missing, input_value={'url': 'http://triton-server...'}, input_type=dict]",
    ]


def config_error_lines(t: float, app: str, error: str) -> list[str]:
    """What an app that refuses its configuration file logs before it exits."""
    refused = _py(t, "ERROR", "nimify.config", error)
    if app != "nimify-api":
        return [refused]
    return [
        "INFO:     Started server process [1]",
        "INFO:     Waiting for application startup.",
        _py(t, "INFO", "nimify.api", "loading configuration from /etc/nimify/config.yaml"),
        refused,
        "ERROR:    Application startup failed. Exiting.",
    ]


def no_space_lines(t: float) -> list[str]:
    return [
        _py(t, "INFO", "nimify.api", "syncing model cache to /models/cache"),
        "Traceback (most recent call last):",
        '  File "/app/nimify/cache.py", line 88, in sync',
        "    shutil.copyfileobj(src, dst, length=16 * 1024 * 1024)",
        "OSError: [Errno 28] No space left on device: '/models/cache/nimify-model/1/model.onnx.part'",
    ]


def triton_load_failed_lines(t: float, model: str, reason: str) -> list[str]:
    return [
        glog(t, "I", "model_lifecycle.cc:472", f'"loading: {model}:1"'),
        glog(t, "E", "model_lifecycle.cc:641", f"\"failed to load '{model}' version 1: {reason}\""),
        glog(t, "E", "model_repository_manager.cc:703", f"\"Invalid argument: load failed for model '{model}'\""),
    ]


def gpu_lost_lines(t: float, bus_id: str) -> list[str]:
    return [
        glog(t, "E", "backend_model_instance.cc:111", '"CUDA error: unspecified launch failure"'),
        f"NVRM: Xid (PCI:{bus_id}): 79, pid=1, GPU has fallen off the bus.",
    ]
