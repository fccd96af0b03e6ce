"""An API server that lists malformed pods (wrong types, unknown values, an item that is not an object) and then
watches them: the informer keeps every object it can key, each record saying what it could not read, and the
source is live, not stale. The server is a real one on loopback, answering what a broken or hostile API might."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml

from nimify_tui.kube.client import KubeClient
from nimify_tui.kube.records import PodRecord
from nimify_tui.live.informer import KINDS, Informer
from nimify_tui.live.keys import PODS
from nimify_tui.live.store import Store

from ..conftest import real_k8s_object
from ..waiting import wait_for

GOOD = real_k8s_object("01_pod_oomkilled_restarted__kuberay_issue4356.converted.json")
ITEMS: list[Any] = [
    {**GOOD, "metadata": {**GOOD["metadata"], "name": "good", "namespace": "x"}},
    {"metadata": {"name": "mistyped", "namespace": "x", "labels": {"app": 7}}, "status": {"phase": ["Running"]}},
    {"metadata": {"name": "unknown-phase", "namespace": "x"}, "status": {"phase": "Hibernating"}},
    {"metadata": "not a mapping", "spec": 3},
    ["not", "an", "object"],
]
WATCHED = {"type": "ADDED", "object": {"metadata": {"name": "watched", "namespace": "x"}, "spec": {"containers": 5}}}


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        if "watch=true" in self.path:
            body = (json.dumps(WATCHED) + "\n").encode()
        else:
            body = json.dumps({"kind": "PodList", "metadata": {"resourceVersion": "1"}, "items": ITEMS}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def malformed_api(tmp_path: Path) -> Iterator[KubeClient]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "current-context": "c",
        "clusters": [{"name": "c", "cluster": {"server": url}}],
        "users": [{"name": "u", "user": {"token": "t"}}],
        "contexts": [{"name": "c", "context": {"cluster": "c", "user": "u"}}],
    }
    path = tmp_path / "kubeconfig"
    path.write_text(yaml.safe_dump(config))
    yield KubeClient.from_kubeconfig(str(path), "c")
    server.shutdown()
    server.server_close()


def test_an_informer_keeps_what_it_can_read_of_malformed_objects(malformed_api: KubeClient) -> None:
    store = Store()
    informer = Informer(malformed_api, KINDS["pods"], "x", store, PodRecord.from_raw, watch_seconds=1)
    informer.start()
    try:
        wait_for(lambda: store.get(PODS, ("x", "watched")), "the watched pod")
        records = {record.name: record for record in store.items(PODS)}
        assert set(records) == {"good", "mistyped", "unknown-phase", "", "watched"}
        assert records["good"].unreadable == () and records["good"].status
        assert "metadata.labels.app: a number, not text" in records["mistyped"].unreadable
        assert "status.phase: a list, not text" in records["mistyped"].unreadable
        assert records["unknown-phase"].unreadable == ("status.phase: unknown value 'Hibernating'",)
        assert records["unknown-phase"].phase == "Hibernating"  # kept, and shown literally
        assert records[""].unreadable == ("metadata: text, not a mapping", "spec: a number, not a mapping")
        assert records["watched"].unreadable == ("spec.containers: a number, not a list",)
        assert store.health()[informer.source].state == "live"
    finally:
        informer.stop()
        informer.join(5)
