"""The renewed certificate put into the ingress's TLS Secret from files: checked before anything is sent (valid now,
the key its own, the ingress's host covered), dry-run, applied, and the key never shown nor journaled."""

from __future__ import annotations

import base64
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from nimify_tui.actions.plan import ActionError, ParameterError
from nimify_tui.actions.runner import ActionRunner
from nimify_tui.actions.tls_secret import plan_replace_tls
from nimify_tui.journal.redact import REDACTED
from nimify_tui.sim.k8s.layout import API_HOST, TLS_SECRET
from nimify_tui.sim.k8s.tls import expiry, self_signed

NS = "nimify-system"
PATH = f"/api/v1/namespaces/{NS}/secrets/{TLS_SECRET}"
DAY = 86400.0


def write_pair(folder: Path, host: str = API_HOST, *, starts: float = -60.0, days: float = 90.0) -> tuple[str, str]:
    folder.mkdir(parents=True, exist_ok=True)
    now = time.time()
    cert, key = self_signed(host, now + starts, now + days * DAY)
    (folder / "tls.crt").write_bytes(cert)
    (folder / "tls.key").write_bytes(key)
    return str(folder / "tls.crt"), str(folder / "tls.key")


def test_the_renewed_files_replace_the_expired_certificate_and_the_key_is_never_written_down(
    start_cluster: Callable[..., Any], tmp_path: Path
) -> None:
    cluster = start_cluster("tls-expired")
    client = cluster.client()
    runner = ActionRunner(client, cluster.journal())
    action = plan_replace_tls(client, NS, TLS_SECRET)
    assert action.hosts == (API_HOST,)
    assert action.current.not_after is not None and action.current.not_after < time.time()
    cert, key = write_pair(tmp_path / "renewed")
    planned = action.with_values({"cert": cert, "key": key})
    assert [str(check) for check in planned.access_checks()] == [f"patch secrets {TLS_SECRET} in {NS}"]

    with cluster.clock_stopped():
        version = cluster.store_version()
        prepared = runner.prepare(planned)
        assert cluster.store_version() == version, "the dry run wrote nothing"
    assert "tls.key: (not shown) -> (replaced, not shown)" in prepared.preview.text
    key_pem = Path(key).read_bytes()
    key_b64 = base64.b64encode(key_pem).decode()
    for shown in (prepared.preview.text, prepared.preview.yaml_diff, str(prepared.preview.before), planned.summary()):
        assert "PRIVATE KEY" not in shown and key_b64[:40] not in shown

    outcome = runner.execute(prepared)
    assert outcome.message == f"secret/{TLS_SECRET} patched"
    data = client.get_json(PATH)["data"]
    assert base64.b64decode(data["tls.crt"]) == Path(cert).read_bytes()
    assert base64.b64decode(data["tls.key"]) == key_pem
    assert (expiry(base64.b64decode(data["tls.crt"])) or 0) > time.time() + 80 * DAY
    journal = (cluster.journal_dir / "journal.jsonl").read_text()
    assert key_b64[:40] not in journal and "PRIVATE KEY" not in journal
    entry = next(e for e in cluster.journal_entries() if e["verb"] == "replace-tls")
    assert entry["request"]["body"]["data"] == {"tls.crt": REDACTED, "tls.key": REDACTED}
    assert entry["parameters"]["cert"] == cert
    cluster.wait_healthy(timeout_s=30)


@pytest.mark.parametrize(
    ("make", "refusal"),
    [
        (lambda folder: write_pair(folder, days=-1.0, starts=-90 * DAY), r"cert: it expired .*: not a renewed"),
        (lambda folder: write_pair(folder, starts=2 * DAY), r"cert: it is not valid before"),
        (lambda folder: write_pair(folder, "other.example.com"), rf"cert: it does not cover {API_HOST}"),
        (
            lambda folder: (write_pair(folder / "a")[0], write_pair(folder / "b")[1]),
            r"key: the key does not belong to the certificate",
        ),
        (lambda folder: (str(folder / "missing.crt"), str(folder / "missing.key")), r"cert: cannot read .*missing"),
        (
            lambda folder: (write_pair(folder)[1], write_pair(folder)[1]),
            r"cert: tls.crt is not a PEM certificate",
        ),
    ],
    ids=["expired", "not-yet-valid", "other-host", "other-key", "missing-file", "key-as-cert"],
)
def test_wrong_files_are_refused_before_any_request(
    make: Callable[[Path], tuple[str, str]], refusal: str, start_cluster: Callable[..., Any], tmp_path: Path
) -> None:
    cluster = start_cluster("tls-expired")
    client = cluster.client()
    action = plan_replace_tls(client, NS, TLS_SECRET)
    cert, key = make(tmp_path)
    sent = len(cluster.requests())
    with pytest.raises(ParameterError, match=refusal):
        action.with_values({"cert": cert, "key": key})
    assert cluster.mutations(sent) == []


def test_a_secret_changed_since_it_was_read_is_a_conflict(start_cluster: Callable[..., Any], tmp_path: Path) -> None:
    cluster = start_cluster("tls-expired")
    client = cluster.client()
    cert, key = write_pair(tmp_path)
    planned = plan_replace_tls(client, NS, TLS_SECRET).with_values({"cert": cert, "key": key})
    touch = {"metadata": {"labels": {"touched": "yes"}}}
    client.request("PATCH", PATH, None, touch, content_type="application/merge-patch+json")
    with pytest.raises(ActionError, match="changed since it was read"):
        ActionRunner(client, None).prepare(planned)


def test_a_secret_that_is_not_a_tls_secret_is_refused(start_cluster: Callable[..., Any]) -> None:
    cluster = start_cluster()
    client = cluster.client()
    opaque = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "db"}, "type": "Opaque", "data": {}}
    client.request("POST", f"/api/v1/namespaces/{NS}/secrets", None, opaque)
    with pytest.raises(ActionError, match=r"is of type 'Opaque', not kubernetes\.io/tls"):
        plan_replace_tls(client, NS, "db")
