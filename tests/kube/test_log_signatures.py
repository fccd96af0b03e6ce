"""Known causes in a crashed container's last lines: the simulator's crash logs, and real software's messages."""

from __future__ import annotations

import random

import pytest

from nimify_tui.kube.log_signatures import MAX_LINE_CHARS, LogSignature, SignatureMatch, scan_log
from nimify_tui.sim.k8s.workloads import LogContext, bad_config_lines, no_space_lines, oom_lines, workload

AT = 1_767_225_600.0  # 2026-01-01T00:00:00Z


def test_the_simulated_crash_logs_each_show_their_cause() -> None:
    assert scan_log(oom_lines(AT, 1420, 1434)) == (
        SignatureMatch(
            "out-of-memory",
            "2026-01-01 00:00:00,000 WARNING nimify.api: resident memory 1420 MiB, container limit 1434 MiB",
        ),
    )
    assert scan_log(no_space_lines(AT)) == (
        SignatureMatch(
            "disk-full", "OSError: [Errno 28] No space left on device: '/models/cache/nimify-model/1/model.onnx.part'"
        ),
    )
    # the line says "invalid configuration"; the key is in pydantic's error a few lines further
    assert scan_log(bad_config_lines(AT, "nvcr.io/nimify/nimify-api:1.9.0")) == (
        SignatureMatch(
            "config-error",
            "2026-01-01 00:00:00,000 ERROR nimify.api: invalid configuration in /etc/nimify/config.yaml",
            "triton.grpc_url",
        ),
    )


@pytest.mark.parametrize(
    ("lines", "kind", "detail"),
    [
        # libpq up to PostgreSQL 13, through psycopg2: host and port on the indented lines after the refusal
        (
            [
                "psycopg2.OperationalError: could not connect to server: Connection refused",
                '\tIs the server running on host "postgres.db.svc" (10.96.41.7) and accepting',
                "\tTCP/IP connections on port 5432?",
            ],
            "database-unreachable",
            "postgres.db.svc:5432",
        ),
        # libpq 14 and later
        (
            [
                'psycopg.OperationalError: connection to server at "pg-primary" (10.0.3.4), port 5432 failed: '
                "Connection refused",
                "\tIs the server running on that host and accepting TCP/IP connections?",
            ],
            "database-unreachable",
            "pg-primary:5432",
        ),
        (
            ["ERROR 2003 (HY000): Can't connect to MySQL server on 'mysql.shop:3306' (111)"],
            "database-unreachable",
            "mysql.shop:3306",
        ),
        (
            ["ConnectionRefusedError: [Errno 111] Connect call failed ('10.96.12.7', 5432)"],
            "database-unreachable",
            "10.96.12.7:5432",
        ),
        (
            [
                "failed to connect to `host=postgres user=app database=app`: dial error "
                "(dial tcp 10.96.12.7:5432: connect: connection refused)"
            ],
            "database-unreachable",
            "10.96.12.7:5432",
        ),
        (["OSError: [Errno 28] No space left on device"], "disk-full", ""),
        (
            [
                'ERROR:  could not extend file "base/16384/16385": No space left on device',
                "HINT:  Check free disk space.",
            ],
            "disk-full",
            "",
        ),
        (["Error: ENOSPC: no space left on device, write"], "disk-full", ""),
        (
            [
                "torch.cuda.OutOfMemoryError: CUDA out of memory. Tried to allocate 20.00 MiB (GPU 0; 15.78 GiB total "
                "capacity; 14.56 GiB already allocated; 3.44 MiB free; 14.70 GiB reserved in total by PyTorch)"
            ],
            "cuda-oom",
            "",
        ),
        (["RuntimeError: CUDA error: out of memory"], "cuda-oom", ""),
        (
            [
                "Out of memory: Killed process 4242 (python3) total-vm:8123456kB, anon-rss:2012345kB, file-rss:0kB, "
                "shmem-rss:0kB, UID:0 pgtables:4520kB oom_score_adj:0"
            ],
            "out-of-memory",
            "",
        ),
        (["Memory cgroup out of memory: Killed process 4021 (python) total-vm:3187788kB"], "out-of-memory", ""),
        (["/docker-entrypoint.sh: line 7:    12 Killed                  python serve.py"], "out-of-memory", ""),
        (["Killed"], "out-of-memory", ""),
        (["MemoryError"], "out-of-memory", ""),
        (['Exception in thread "main" java.lang.OutOfMemoryError: Java heap space'], "out-of-memory", ""),
        (["fatal error: runtime: out of memory"], "out-of-memory", ""),
        (
            [
                "yaml.scanner.ScannerError: while scanning a simple key",
                '  in "/etc/app/config.yaml", line 12, column 1',
                "could not find expected ':'",
            ],
            "config-error",
            "",
        ),
        (
            [
                "Traceback (most recent call last):",
                '  File "/app/server/config.py", line 31, in load_config',
                '    url = raw["database_url"]',
                "KeyError: 'database_url'",
            ],
            "config-error",
            "database_url",
        ),
        # Prometheus (Go's strict YAML decoding) names the unknown field on the line it reports it
        (
            [
                'ts=2024-05-02T10:00:00.000Z caller=main.go:1159 level=error msg="Error loading config '
                '(--config.file=/etc/prometheus/prometheus.yml)" err="parsing YAML file /etc/prometheus/prometheus.yml:'
                ' yaml: unmarshal errors:\\n  line 3: field scrape_interva not found in type config.plain"'
            ],
            "config-error",
            "scrape_interva",
        ),
        (["config: unknown key 'tritonUrl' in /etc/nimify/config.yaml"], "config-error", "tritonUrl"),
        (["FATAL could not parse config file /etc/worker.toml"], "config-error", ""),
    ],
)
def test_real_messages_are_recognized(lines: list[str], kind: str, detail: str) -> None:
    (match,) = scan_log(lines)
    assert (match.kind, match.detail) == (kind, detail)
    kept = lines[-1] if lines[-1].startswith("KeyError") else lines[0]  # a KeyError is its traceback's last line
    assert match.line == kept.strip()


@pytest.mark.parametrize(
    "line",
    [
        "dial tcp 10.96.0.1:443: connect: connection refused",  # the API server, not a database
        "upstream connect error or disconnect/reset before headers. reset reason: connection refused",
        "killed 3 idle workers",
        "2026-01-01 00:00:00,000 INFO nimify.api: database postgres.nimify-system.svc.cluster.local:5432 connected",
        "used 12.1 GiB of 16 GiB GPU memory",
    ],
)
def test_ordinary_lines_show_no_cause(line: str) -> None:
    assert scan_log([line]) == ()


def test_a_key_error_outside_configuration_loading_is_no_config_error() -> None:
    lines = [
        "Traceback (most recent call last):",
        '  File "/app/server/handlers.py", line 88, in predict',
        "    model = self.models[request.model]",
        "KeyError: 'resnet50'",
    ]
    assert scan_log(lines) == ()


def test_a_refusal_followed_by_an_unrelated_database_line_is_not_a_database_refusal() -> None:
    lines = [
        "dial tcp 10.96.0.1:443: connect: connection refused",
        "database postgres.nimify-system.svc.cluster.local:5432 connected",  # not indented: a line of its own
    ]
    assert scan_log(lines) == ()


def test_the_healthy_apps_lines_show_no_cause() -> None:
    for app in ("nimify-api", "nimify-worker", "postgres", "triton-server", "prometheus", "dcgm-exporter"):
        context = LogContext(AT, "pod-1", "node-1", random.Random(1))
        work = workload(app)
        lines = work.startup(context) + (work.periodic(context) if work.periodic else [])
        assert scan_log(lines) == (), app


def test_cuda_out_of_memory_is_not_the_containers_memory() -> None:
    lines = ["torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB"]
    assert [match.kind for match in scan_log(lines)] == ["cuda-oom"]


def test_each_kind_keeps_its_last_line_in_the_order_written() -> None:
    lines = [
        "OSError: [Errno 28] No space left on device: '/data/a'",
        "psycopg2.OperationalError: could not connect to server: Connection refused",
        '\tIs the server running on host "db-1" (10.0.0.1) and accepting',
        "\tTCP/IP connections on port 5432?",
        "OSError: [Errno 28] No space left on device: '/data/b'",
    ]
    assert scan_log(lines) == (
        SignatureMatch("database-unreachable", lines[1], "db-1:5432"),
        SignatureMatch("disk-full", lines[4]),
    )


def test_kept_lines_are_cut_and_safe_to_show() -> None:
    line = "\x1b[31mOSError: [Errno 28] No space left on device\x1b[0m " + "x" * 1000
    (match,) = scan_log([line])
    assert len(match.line) == MAX_LINE_CHARS and match.line.endswith("…")
    assert match.line.startswith("OSError: [Errno 28]") and "\x1b" not in match.line


def test_the_summary_says_unknown_when_the_log_could_not_be_read() -> None:
    read = LogSignature("ns", "pod", "app", 3, (SignatureMatch("disk-full", "OSError: [Errno 28]"),))
    assert read.summary == "disk-full"
    assert LogSignature("ns", "pod", "app", 3).summary == "no known signature"
    refused = LogSignature("ns", "pod", "app", 3, unreadable='pods "pod" is forbidden')
    assert refused.summary == 'unknown: pods "pod" is forbidden' and refused.kinds == ()


@pytest.mark.parametrize(
    ("lines", "key", "unknown_key"),
    [
        # the simulator's nimify-api: the section named after the key
        (
            [
                "ERROR nimify.config: unknown key 'max_batch_sise' in /etc/nimify/config.yaml (section 'triton'; "
                "did you mean 'max_batch_size'?)"
            ],
            "triton.max_batch_sise",
            True,
        ),
        (["ERROR unknown section 'tritn' in /etc/nimify/config.yaml; did you mean 'triton'?"], "tritn", True),
        # Go's strict YAML decoding
        (["error: field max_batch_sise not found in type config.Triton"], "max_batch_sise", True),
        # pydantic with extra="forbid": the field's path, then the reason
        (
            [
                "ERROR nimify.api: invalid configuration in /etc/nimify/config.yaml",
                "pydantic_core._pydantic_core.ValidationError: 1 validation error for Settings",
                "triton.max_batch_sise",
                "  Extra inputs are not permitted [type=extra_forbidden, input_value=32, input_type=int]",
            ],
            "triton.max_batch_sise",
            True,
        ),
        # a missing key is no key to take out
        (["INFO loading config from /etc/nimify/config.yaml", "KeyError: 'grpc_url'"], "grpc_url", False),
        (["ERROR /etc/nimify/config.yaml is not valid YAML (line 3, column 5): mapping values"], "", False),
    ],
)
def test_a_key_the_app_does_not_know_is_told_from_a_missing_or_wrong_one(
    lines: list[str], key: str, unknown_key: bool
) -> None:
    (match,) = [m for m in scan_log(lines) if m.kind == "config-error"]
    assert (match.detail, match.unknown_key) == (key, unknown_key)
