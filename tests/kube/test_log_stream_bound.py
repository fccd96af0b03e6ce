"""A container that logs 10 MB without a line ending: the log stream keeps the reader's memory bounded.

The reader runs in a process of its own, so that its peak resident memory is its own: it follows the container's
log as the logs screen does (``stream_log_lines`` into the store behind ``LogView.append_lines``) and reports
what it stored and its peak RSS. A reader of the same log before the long line was written is the baseline.
The peak is the kernel's VmHWM: ``ru_maxrss`` would also count the test process that started the reader, whose
simulator holds the long line.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from nimify_tui.kube.lines import LineSplitter
from nimify_tui.kube.logtext import DEFAULT_MAX_LINE_CHARS, cut_marker
from nimify_tui.sim.server import SimThread

LONG_LINE_CHARS = 10_000_000
MAX_GROWTH_KIB = 5 * 1024
READER_HANG_GUARD_S = 120

READER = """
import json, sys
from nimify_tui.kube.client import KubeClient
from nimify_tui.kube.logs import LogRequest, stream_log_lines
from nimify_tui.kube.logtext import LogStore

kubeconfig, namespace, pod, container, last_line = sys.argv[1:]
client = KubeClient.from_kubeconfig(kubeconfig, "sim-admin")
store = LogStore()
for line in stream_log_lines(client, LogRequest(namespace, pod, container)):
    store.append_lines([line])
    if line.endswith(last_line.encode()):
        break
kept = [store.line(number) for number in range(store.first_number, store.end_number)]
peak = next(field for field in open("/proc/self/status").read().splitlines() if field.startswith("VmHWM:"))
print(json.dumps({"peak_rss_kib": int(peak.split()[1]), "lines": [[line.timestamp, line.text] for line in kept]}))
"""


def read_log(kubeconfig: Path, container: tuple[str, str, str], last_line: str) -> dict[str, Any]:
    """Follow the container's log in a new process until ``last_line``; its peak RSS and the lines it stored."""
    finished = subprocess.run(
        [sys.executable, "-c", READER, str(kubeconfig), *container, last_line],
        capture_output=True,
        text=True,
        timeout=READER_HANG_GUARD_S,
        check=False,
    )
    assert finished.returncode == 0, finished.stderr
    result: dict[str, Any] = json.loads(finished.stdout)
    return result


def write_log(sim: SimThread, container: tuple[str, str, str], text: str) -> None:
    namespace, pod, name = container

    def write(world: Any) -> None:
        run = world.kubelet.runs[(namespace, pod)]
        next(c for c in run.containers if c.name == name).log.write(world.now(), text)

    sim.call(write)


def ready_api_container(world: Any) -> tuple[str, str, str] | None:
    """A ready nimify-api pod's first container, as (namespace, pod, container)."""
    for run in world.kubelet.runs.values():
        if run.name.startswith("nimify-api-") and run.ready:
            return str(run.namespace), str(run.name), str(run.containers[0].name)
    return None


def test_a_10_mb_line_without_newline_is_cut_as_it_arrives(
    sim_factory: Callable[..., SimThread], wait_for: Callable[..., Any], tmp_path: Path
) -> None:
    from nimify_tui.sim.k8s.kubeconfig import write_kubeconfig

    sim = sim_factory(scenario="healthy")
    kubeconfig = write_kubeconfig(sim, tmp_path / "kubeconfig")
    container = wait_for(lambda: sim.call(ready_api_container), "a ready nimify-api pod")

    write_log(sim, container, "baseline done")
    baseline = read_log(kubeconfig, container, "baseline done")
    write_log(sim, container, "x" * LONG_LINE_CHARS + "\nafter the long line\n\tindented détail ✓\nlong line done")
    long = read_log(kubeconfig, container, "long line done")

    growth_kib = long["peak_rss_kib"] - baseline["peak_rss_kib"]
    assert growth_kib < MAX_GROWTH_KIB, f"reading a 10 MB line raised the reader's peak RSS by {growth_kib} KiB"
    lines = long["lines"]
    cut = [index for index, (_, text) in enumerate(lines) if text.startswith("x")]
    assert len(cut) == 1, "the long line is one line"
    timestamp, text = lines[cut[0]]
    prefix_chars = len(timestamp) + 1  # the kubelet's timestamp and a space start the line as it is sent
    marker = cut_marker(prefix_chars + LONG_LINE_CHARS)
    assert timestamp and text == "x" * (DEFAULT_MAX_LINE_CHARS - len(marker) - prefix_chars) + marker
    assert [text for _, text in lines[cut[0] + 1 :]] == [
        "after the long line",
        "        indented détail ✓",
        "long line done",
    ]
    assert all(timestamp for timestamp, _ in lines[cut[0] + 1 :])


def test_lines_that_fit_pass_unchanged_whatever_the_chunks() -> None:
    lines = [b"short", "wide ✓ 模型".encode() * 10, b"", b"crlf\r", b"y" * 100]
    body = b"\n".join(lines) + b"\nunfinished"
    for chunk_size in (1, 3, 64, len(body)):
        splitter = LineSplitter(max_chars=100)
        received = [
            line
            for start in range(0, len(body), chunk_size)
            for line in splitter.feed(body[start : start + chunk_size])
        ]
        assert [*received, *splitter.finish()] == [*lines, b"unfinished"], chunk_size


def test_a_cut_line_fits_the_cap_with_its_marker_and_counts_characters() -> None:
    line = "é" * 1_000 + "end"
    splitter = LineSplitter(max_chars=100)
    received = [
        out for start in range(0, len(line.encode()), 7) for out in splitter.feed(line.encode()[start : start + 7])
    ]
    received += splitter.feed(b"\nnext\n")
    marker = cut_marker(1_003)
    assert received == [("é" * (100 - len(marker)) + marker).encode(), b"next"]
    assert len(received[0].decode()) == 100


def test_without_a_cap_lines_are_whole() -> None:
    splitter = LineSplitter()
    assert splitter.feed(b"a" * 300_000) == []
    assert splitter.feed(b"\nb") == [b"a" * 300_000]
    assert splitter.finish() == [b"b"]
    assert splitter.finish() == []
