"""The incident journal: entry contents, durability across kill -9, redaction of secrets, session paths."""

from __future__ import annotations

import base64
import os
import queue
import re
import secrets
import signal
import stat
import subprocess
import sys
import threading
import warnings
from datetime import datetime, timezone
from pathlib import Path
from typing import IO, Any

import orjson
import pytest

from nimify_tui import __version__
from nimify_tui.journal.journal import JOURNAL_FILE_NAME, Journal, JournalError, TornLineWarning, read_journal
from nimify_tui.journal.paths import create_session_dir, path_safe_context, sessions_root
from nimify_tui.journal.redact import REDACTED, Redactor, kubeconfig_secret_values, redact_argv

from ..conftest import REAL_CAPTURES

REPO_ROOT = Path(__file__).resolve().parents[2]
K8S_FIXTURES = REAL_CAPTURES / "k8s"
TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")


def read_strictly(path: Path) -> list[dict[str, Any]]:
    """read_journal, failing on any warning (a torn line where none may be)."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return read_journal(path)


def without_ts(entry: dict[str, Any]) -> dict[str, Any]:
    assert isinstance(entry["ts"], str)
    assert TIMESTAMP.fullmatch(entry["ts"]), entry["ts"]
    return {key: value for key, value in entry.items() if key != "ts"}


# --- entries ------------------------------------------------------------------------------------------------


def test_each_kind_of_entry_is_written_with_its_fields(tmp_path: Path) -> None:
    with Journal.open(tmp_path / "session") as journal:
        journal.start(
            context="prod-eu",
            server="https://10.0.0.1:6443",
            user="oncall",
            namespaces=["nimify-system", "triton-system"],
            readonly=False,
            argv=["nimify-tui", "--context", "prod-eu"],
        )
        journal.finding(
            check="api.ready",
            state="fail",
            previous="pass",
            object_name="pod/nimify-system/nimify-api-7d9f",
            evidence="GET /ready -> 503",
        )
        journal.action(
            who="oncall",
            verb="scale",
            target_kind="Deployment",
            target_namespace="nimify-system",
            target_name="nimify-api",
            parameters={"replicas": 3},
            dry_run_diff="-  replicas: 1\n+  replicas: 3\n",
            result="ok",
            error=None,
            duration_ms=41.5,
            request_method="PATCH",
            request_path="/apis/apps/v1/namespaces/nimify-system/deployments/nimify-api/scale",
            request_body=b'{"spec": {"replicas": 3}}',
        )
        journal.note("raised replicas after the OOM storm")
        (journal.directory / "shots").mkdir()
        journal.screenshot(journal.directory / "shots" / "001.svg")
        journal.end("quit")

    entries = read_strictly(tmp_path / "session" / JOURNAL_FILE_NAME)
    assert [without_ts(entry) for entry in entries[:5]] == [
        {
            "seq": 1,
            "kind": "session_start",
            "version": __version__,
            "context": "prod-eu",
            "server": "https://10.0.0.1:6443",
            "user": "oncall",
            "namespaces": ["nimify-system", "triton-system"],
            "readonly": False,
            "argv": ["nimify-tui", "--context", "prod-eu"],
        },
        {
            "seq": 2,
            "kind": "finding",
            "check": "api.ready",
            "state": "fail",
            "previous": "pass",
            "object": "pod/nimify-system/nimify-api-7d9f",
            "evidence": "GET /ready -> 503",
        },
        {
            "seq": 3,
            "kind": "action",
            "who": "oncall",
            "verb": "scale",
            "target": {"kind": "Deployment", "namespace": "nimify-system", "name": "nimify-api"},
            "parameters": {"replicas": 3},
            "dry_run_diff": "-  replicas: 1\n+  replicas: 3\n",
            "result": "ok",
            "error": None,
            "duration_ms": 41.5,
            "request": {
                "method": "PATCH",
                "path": "/apis/apps/v1/namespaces/nimify-system/deployments/nimify-api/scale",
                "body": {"spec": {"replicas": 3}},
            },
        },
        {"seq": 4, "kind": "note", "text": "raised replicas after the OOM storm"},
        {"seq": 5, "kind": "screenshot", "path": "shots/001.svg"},
    ]
    end = without_ts(entries[5])
    assert end["kind"] == "session_end"
    assert end["reason"] == "quit"
    assert isinstance(end["duration_s"], float)
    assert 0 <= end["duration_s"] < 60
    assert [entry["ts"] for entry in entries] == sorted(entry["ts"] for entry in entries)


def test_each_line_is_one_compact_json_object(tmp_path: Path) -> None:
    with Journal.open(tmp_path) as journal:
        journal.note("two\nlines and a \x1b[31mcolour\x1b[0m escape")
        journal.note("second")
    raw = (tmp_path / JOURNAL_FILE_NAME).read_bytes()
    lines = raw.split(b"\n")
    assert lines[-1] == b""
    assert len(lines) == 3
    assert orjson.loads(lines[0])["text"] == "two\nlines and a \x1b[31mcolour\x1b[0m escape"
    assert b"\x1b" not in raw  # control characters are JSON-escaped, never raw in the file


def test_invalid_choices_are_refused_and_nothing_is_written(tmp_path: Path) -> None:
    with Journal.open(tmp_path) as journal:
        with pytest.raises(ValueError, match="state must be one of fail, warn, pass, unknown"):
            journal.finding(check="c", state="red", previous=None, object_name="o", evidence="e")  # type: ignore[arg-type]
        with pytest.raises(ValueError, match="result must be one of ok, error, cancelled"):
            journal.action(
                who="w",
                verb="v",
                target_kind="Pod",
                target_namespace="ns",
                target_name="p",
                parameters={},
                dry_run_diff=None,
                result="done",  # type: ignore[arg-type]
                error=None,
                duration_ms=0.0,
                request_method="DELETE",
                request_path="/api/v1/namespaces/ns/pods/p",
                request_body=None,
            )
        with pytest.raises(TypeError, match="cannot record a datetime"):
            journal.action(
                who="w",
                verb="v",
                target_kind="Pod",
                target_namespace="ns",
                target_name="p",
                parameters={"when": datetime.now(timezone.utc)},
                dry_run_diff=None,
                result="ok",
                error=None,
                duration_ms=0.0,
                request_method="DELETE",
                request_path="/api/v1/namespaces/ns/pods/p",
                request_body=None,
            )
        journal.note("only this one")
    assert [entry["seq"] for entry in read_strictly(tmp_path / JOURNAL_FILE_NAME)] == [1]


def test_screenshot_outside_the_session_directory_is_refused(tmp_path: Path) -> None:
    with Journal.open(tmp_path / "session") as journal:
        assert journal.screenshot("shot.svg")["path"] == "shot.svg"
        with pytest.raises(ValueError, match="outside the session directory"):
            journal.screenshot(tmp_path / "elsewhere.svg")
        with pytest.raises(ValueError, match="outside the session directory"):
            journal.screenshot("../escape.svg")


def test_an_existing_journal_is_never_appended_to(tmp_path: Path) -> None:
    with Journal.open(tmp_path) as journal:
        journal.note("first session")
    with pytest.raises(JournalError, match="already exists"):
        Journal.open(tmp_path)
    assert len(read_strictly(tmp_path / JOURNAL_FILE_NAME)) == 1


def test_a_record_directory_that_is_a_file_is_reported(tmp_path: Path) -> None:
    (tmp_path / "taken").write_text("not a directory")
    with pytest.raises(JournalError, match=r"cannot create .*taken: File exists"):
        Journal.open(tmp_path / "taken")


def test_journal_file_is_private_and_closed_journal_refuses_entries(tmp_path: Path) -> None:
    journal = Journal.open(tmp_path)
    assert stat.S_IMODE((tmp_path / JOURNAL_FILE_NAME).stat().st_mode) == 0o600
    journal.close()
    journal.close()
    with pytest.raises(JournalError, match="is closed"):
        journal.note("too late")


def test_entries_from_many_threads_keep_seq_in_file_order(tmp_path: Path) -> None:
    threads_count, per_thread = 4, 50
    with Journal.open(tmp_path) as journal:

        def write_notes(worker: int) -> None:
            for index in range(per_thread):
                journal.note(f"worker {worker} note {index}")

        threads = [threading.Thread(target=write_notes, args=(worker,)) for worker in range(threads_count)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    entries = read_strictly(tmp_path / JOURNAL_FILE_NAME)
    assert [entry["seq"] for entry in entries] == list(range(1, threads_count * per_thread + 1))
    assert len({entry["text"] for entry in entries}) == threads_count * per_thread
    assert [entry["ts"] for entry in entries] == sorted(entry["ts"] for entry in entries)


# --- crash safety -------------------------------------------------------------------------------------------

# The writer runs in its own process so that the test can kill -9 it. It wraps the real os.fsync with a
# counter (the call still reaches the disk) and reports "<seq> <fsyncs since open>" after each entry. In
# "step" mode it then waits for a line on stdin before the next entry; in "free" mode it writes at full speed.
WRITER = """
import os, sys
from pathlib import Path
from typing import IO, Any
from nimify_tui.journal.journal import Journal

fsyncs = 0
real_fsync = os.fsync

def counting_fsync(fd):
    global fsyncs
    real_fsync(fd)
    fsyncs += 1

os.fsync = counting_fsync
journal = Journal.open(Path(sys.argv[1]))
fsyncs = 0
step = sys.argv[2] == "step"
for index in range(1, 100_000):
    if index % 3 == 0:
        journal.note("note " + str(index) + " " + "x" * 500)
    else:
        journal.finding(check="triton.model", state="fail", previous="pass", object_name="model/resnet",
                        evidence="UNAVAILABLE: " + "y" * index)
    print(index, fsyncs, flush=True)
    if step:
        sys.stdin.readline()
"""


class LineReader:
    """Lines of a child's stdout, read on a thread so that waiting on them has a deadline."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        self._lines: queue.Queue[str] = queue.Queue()
        assert process.stdout is not None
        stdout = process.stdout
        threading.Thread(target=self._read, args=(stdout,), daemon=True).start()

    def _read(self, stdout: IO[str]) -> None:
        for line in stdout:
            self._lines.put(line)

    def next(self, deadline_s: float = 20.0) -> str:
        return self._lines.get(timeout=deadline_s).strip()


def start_writer(directory: Path, mode: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    return subprocess.Popen(
        [sys.executable, "-c", WRITER, str(directory), mode],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )


def test_kill_9_after_entry_k_leaves_exactly_k_complete_fsynced_entries(tmp_path: Path) -> None:
    entries_before_kill = 7
    writer = start_writer(tmp_path, "step")
    lines = LineReader(writer)
    try:
        for index in range(1, entries_before_kill + 1):
            assert lines.next() == f"{index} {index}"  # one fsync per entry, done before the call returned
            if index < entries_before_kill:
                assert writer.stdin is not None
                writer.stdin.write("\n")
                writer.stdin.flush()
    finally:
        writer.send_signal(signal.SIGKILL)
        writer.wait(timeout=20)
    assert writer.returncode == -signal.SIGKILL
    entries = read_strictly(tmp_path / JOURNAL_FILE_NAME)
    assert [entry["seq"] for entry in entries] == list(range(1, entries_before_kill + 1))
    assert entries[-1]["evidence"] == "UNAVAILABLE: " + "y" * entries_before_kill


def test_kill_9_while_writing_keeps_every_reported_entry(tmp_path: Path) -> None:
    reported = 200
    writer = start_writer(tmp_path, "free")
    lines = LineReader(writer)
    try:
        while int(lines.next().split()[0]) < reported:
            pass
    finally:
        writer.send_signal(signal.SIGKILL)
        writer.wait(timeout=20)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TornLineWarning)  # the kill may land inside a write
        entries = read_journal(tmp_path / JOURNAL_FILE_NAME)
    assert len(entries) >= reported
    assert [entry["seq"] for entry in entries] == list(range(1, len(entries) + 1))


def test_reader_skips_a_torn_last_line_and_says_so(tmp_path: Path) -> None:
    with Journal.open(tmp_path) as journal:
        for index in range(3):
            journal.note(f"note {index}")
    path = tmp_path / JOURNAL_FILE_NAME
    size = path.stat().st_size
    last_line_length = len(path.read_bytes().split(b"\n")[-2]) + 1
    os.truncate(path, size - last_line_length // 2)
    with pytest.warns(TornLineWarning, match="last line incomplete .* after entry 2"):
        entries = read_journal(path)
    assert [entry["text"] for entry in entries] == ["note 0", "note 1"]


def test_reader_refuses_a_damaged_line_before_the_last(tmp_path: Path) -> None:
    with Journal.open(tmp_path) as journal:
        for index in range(3):
            journal.note(f"note {index}")
    path = tmp_path / JOURNAL_FILE_NAME
    lines = path.read_bytes().split(b"\n")
    lines[1] = lines[1][:10]
    path.write_bytes(b"\n".join(lines))
    with pytest.raises(JournalError, match=r"journal.jsonl:2: not a JSON object"):
        read_journal(path)


# --- secrets ------------------------------------------------------------------------------------------------


def make_jwt() -> str:
    def part(document: dict[str, object]) -> str:
        return base64.urlsafe_b64encode(orjson.dumps(document)).decode().rstrip("=")

    header = part({"alg": "RS256", "kid": secrets.token_hex(4)})
    payload = part({"sub": "system:serviceaccount:nimify-system:default", "nonce": secrets.token_hex(8)})
    return f"{header}.{payload}.{secrets.token_urlsafe(32)}"


def test_planted_canaries_never_reach_the_file(tmp_path: Path) -> None:
    registered = "canary-" + secrets.token_hex(12)  # no pattern would recognise it: only registration can
    jwt = make_jwt()  # never registered: caught by its shape
    header_token = "hdr-" + secrets.token_hex(12)
    secret_data = base64.b64encode(("db-" + secrets.token_hex(8)).encode()).decode()
    secret_string = "plain-" + secrets.token_hex(8)
    private_key = base64.b64encode(
        b"-----BEGIN PRIVATE KEY-----\n" + secrets.token_hex(32).encode() + b"\n-----END PRIVATE KEY-----\n"
    ).decode()
    argv_token = "argv-" + secrets.token_hex(8)
    canaries = [registered, jwt, header_token, secret_data, secret_string, private_key, argv_token]
    assert Redactor().scrub_text(f"key {registered} here") == f"key {registered} here"

    secret_object = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "nimify-tls", "namespace": "nimify-system"},
        "data": {"tls.key": private_key, "db-password": secret_data},
        "stringData": {"api": secret_string},
    }
    with Journal.open(tmp_path) as journal:
        journal.register_secret(registered)
        journal.start(
            context="prod",
            server="https://api.prod:6443",
            user="oncall",
            namespaces=["nimify-system"],
            readonly=True,
            argv=["nimify-tui", "--token", argv_token, f"--password={argv_token}"],
        )
        journal.note(f"pasted from a chat: {registered}")
        journal.finding(
            check="api.auth",
            state="fail",
            previous=None,
            object_name=f"pod/nimify-system/{registered}",
            evidence=f"401 for token {jwt}; curl -H 'Authorization: Bearer {header_token}' http://api",
        )
        journal.action(
            who="oncall",
            verb="apply",
            target_kind="Secret",
            target_namespace="nimify-system",
            target_name="nimify-tls",
            parameters={"headers": {"Authorization": f"Bearer {header_token}"}, "trace": [registered]},
            dry_run_diff=f"+  db-password: {secret_data}\n+  api: {secret_string}\n",
            result="error",
            error=f"denied for {jwt}",
            duration_ms=3.0,
            request_method="PUT",
            request_path="/api/v1/namespaces/nimify-system/secrets/nimify-tls",
            request_body=orjson.dumps(secret_object).decode(),
        )
        journal.action(
            who="oncall",
            verb="create",
            target_kind="List",
            target_namespace="nimify-system",
            target_name="bundle",
            parameters={},
            dry_run_diff=None,
            result="cancelled",
            error=None,
            duration_ms=0.0,
            request_method="POST",
            request_path="/api/v1/namespaces/nimify-system/configmaps",
            request_body={"kind": "List", "items": [secret_object]},
        )
        journal.action(
            who="oncall",
            verb="patch",
            target_kind="Secret",
            target_namespace="nimify-system",
            target_name="nimify-tls",
            parameters={},
            dry_run_diff=None,
            result="ok",
            error=None,
            duration_ms=5.0,
            request_method="PATCH",
            request_path="/api/v1/namespaces/nimify-system/secrets/nimify-tls",
            request_body=[{"op": "replace", "path": "/data/db-password", "value": secret_data}],
        )

    raw = (tmp_path / JOURNAL_FILE_NAME).read_text()
    for canary in canaries:
        assert canary not in raw
    entries = read_strictly(tmp_path / JOURNAL_FILE_NAME)
    # what is not secret survives: the shape of the Secret, its key names, the words around the tokens
    put_body = entries[3]["request"]["body"]
    assert put_body["metadata"] == secret_object["metadata"]
    assert put_body["data"] == {"tls.key": REDACTED, "db-password": REDACTED}
    assert put_body["stringData"] == {"api": REDACTED}
    assert entries[3]["dry_run_diff"] == REDACTED
    assert entries[4]["request"]["body"]["items"][0]["data"]["db-password"] == REDACTED
    assert entries[5]["request"]["body"] == [{"op": "replace", "path": "/data/db-password", "value": REDACTED}]
    assert entries[0]["argv"] == ["nimify-tui", "--token", REDACTED, f"--password={REDACTED}"]
    assert entries[1]["text"] == f"pasted from a chat: {REDACTED}"
    assert entries[2]["evidence"] == f"401 for token {REDACTED}; curl -H 'Authorization: {REDACTED}' http://api"


def test_kubeconfig_secret_values_are_each_users_credentials() -> None:
    """What a session registers from each kubeconfig file (tests/core/test_session_redaction.py runs a session)."""
    token = "kc-" + secrets.token_hex(16)
    password = "pw-" + secrets.token_hex(8)
    key_data = base64.b64encode(b"-----BEGIN EC PRIVATE KEY-----\n" + secrets.token_bytes(32)).decode()
    exec_secret = "aws-" + secrets.token_hex(10)
    kubeconfig = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "prod", "cluster": {"server": "https://api.prod:6443"}}],
        "contexts": [{"name": "prod", "context": {"cluster": "prod", "user": "oncall"}}],
        "users": [
            {"name": "oncall", "user": {"token": token}},
            {"name": "basic", "user": {"username": "admin", "password": password}},
            {"name": "cert", "user": {"client-key-data": key_data}},
            {
                "name": "eks",
                "user": {
                    "exec": {
                        "command": "aws",
                        "env": [{"name": "AWS_SECRET_ACCESS_KEY", "value": exec_secret}],
                    }
                },
            },
        ],
    }
    assert kubeconfig_secret_values(kubeconfig) == {token, password, key_data, exec_secret}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Authorization: Bearer abc.def-ghi", f"Authorization: {REDACTED}"),
        ('{"authorization": "Basic dXNlcjpwYXNz"}', f'{{"authorization": "{REDACTED}"}}'),
        ("retry with bearer ZXhhbXBsZQ==", f"retry with bearer {REDACTED}"),
        ("token: abcd1234 (expired)", f"token: {REDACTED} (expired)"),
        ('"password":"hunter2"', f'"password":"{REDACTED}"'),
        ("HF_TOKEN=hf_abcdef started", f"HF_TOKEN={REDACTED} started"),
        ("client-key-data: LS0tLS1CRUdJTiBSU0E=", f"client-key-data: {REDACTED}"),
        ("pull https://bot:s3cret@registry.example/v2/", f"pull https://bot:{REDACTED}@registry.example/v2/"),
        (
            "key:\n-----BEGIN RSA PRIVATE KEY-----\nMIIE\n-----END RSA PRIVATE KEY-----\nok",
            f"key:\n{REDACTED}\nok",
        ),
        ("cut -----BEGIN CERTIFICATE-----\nMIIC", f"cut {REDACTED}"),
        ("readiness probe failed: HTTP probe failed with statuscode: 503", None),
        ("Back-off restarting failed container triton in pod triton-0", None),
        ("basic checks passed; secretName: nimify-tls", None),
    ],
)
def test_text_rules(text: str, expected: str | None) -> None:
    assert Redactor().scrub_text(text) == (text if expected is None else expected)


def test_scrubbing_adversarial_text() -> None:
    """Long runs of what the rules look for; how long they take is bench/bench_redaction.py's figure."""
    redactor = Redactor()
    redactor.register("registered-value")
    for harmless in ("a-" * 50_000, "a:" * 50_000, "x://a:" * 20_000):
        assert redactor.scrub_text(harmless) == harmless
    assert redactor.scrub_text("token=" * 20_000) == f"token={REDACTED}"
    assert redactor.scrub_text("eyJa." * 20_000) == ".".join([REDACTED] * 6667)  # three parts: a JWT each


def test_structure_rules_leave_ordinary_objects_alone_and_scrub_secret_fields() -> None:
    redactor = Redactor()
    container = {
        "name": "triton",
        "env": [
            {"name": "MODEL_REPO", "value": "s3://models"},
            {"name": "NGC_API_KEY", "value": "nvapi-123"},
        ],
        "volumeMounts": [{"name": "token", "mountPath": "/var/run/secrets/kubernetes.io/serviceaccount"}],
    }
    assert redactor.scrub(container) == {
        **container,
        "env": [{"name": "MODEL_REPO", "value": "s3://models"}, {"name": "NGC_API_KEY", "value": REDACTED}],
    }
    applied = orjson.dumps({"kind": "Secret", "metadata": {"name": "s"}, "data": {"k": "c2VjcmV0"}}).decode()
    last_applied = "kubectl.kubernetes.io/last-applied-configuration"
    scrubbed: Any = redactor.scrub({"metadata": {"annotations": {last_applied: applied}}})
    annotation = scrubbed["metadata"]["annotations"][last_applied]
    assert isinstance(annotation, str)
    assert orjson.loads(annotation) == {"kind": "Secret", "metadata": {"name": "s"}, "data": {"k": REDACTED}}
    with pytest.raises(TypeError, match="keys must be strings"):
        redactor.scrub({1: "x"})


def test_real_cluster_objects_pass_unchanged() -> None:
    redactor = Redactor()
    names = sorted(K8S_FIXTURES.glob("*.json"))
    assert names
    for path in names:
        document = orjson.loads(path.read_bytes())
        assert redactor.scrub(document) == document, path.name


def test_redact_argv_hides_values_of_secret_options_only() -> None:
    argv = ["nimify-tui", "--context", "prod", "--api-token", "t1", "--client-secret=s1", "--record", "/x"]
    assert redact_argv(argv) == [
        "nimify-tui",
        "--context",
        "prod",
        "--api-token",
        REDACTED,
        f"--client-secret={REDACTED}",
        "--record",
        "/x",
    ]


# --- where sessions are recorded ----------------------------------------------------------------------------


def test_default_session_directory_layout_under_xdg_state_home(tmp_path: Path) -> None:
    root = sessions_root({"XDG_STATE_HOME": str(tmp_path / "state"), "HOME": str(tmp_path / "home")})
    assert root == tmp_path / "state" / "nimify-tui" / "sessions"
    started = datetime(2024, 5, 1, 12, 0, 7, tzinfo=timezone.utc)
    first = create_session_dir(root, "arn:aws:eks:us-east-1:123456789012:cluster/prod", now=started)
    assert first == root / "20240501-120007-arn_aws_eks_us-east-1_123456789012_cluster_prod"
    assert stat.S_IMODE(first.stat().st_mode) == 0o700
    with Journal.open(first) as journal:
        journal.note("recorded by default")
    assert read_strictly(first / JOURNAL_FILE_NAME)[0]["text"] == "recorded by default"


def test_sessions_started_in_the_same_second_get_their_own_directories(tmp_path: Path) -> None:
    started = datetime(2024, 5, 1, 12, 0, 7, tzinfo=timezone.utc)
    made: list[Path] = []
    threads = [
        threading.Thread(target=lambda: made.append(create_session_dir(tmp_path, "kind-dev", now=started)))
        for _ in range(6)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(path.name for path in made) == sorted(
        ["20240501-120007-kind-dev"] + [f"20240501-120007-kind-dev-{n}" for n in range(2, 7)]
    )


def test_sessions_root_falls_back_to_home_and_ignores_a_relative_xdg_state_home(tmp_path: Path) -> None:
    expected = tmp_path / ".local" / "state" / "nimify-tui" / "sessions"
    assert sessions_root({"HOME": str(tmp_path)}) == expected
    assert sessions_root({"HOME": str(tmp_path), "XDG_STATE_HOME": "relative/state"}) == expected


@pytest.mark.parametrize(
    ("context", "expected"),
    [
        (None, "in-cluster"),
        ("gke_project_europe-west4_prod", "gke_project_europe-west4_prod"),
        ("admin@prod cluster", "admin_prod_cluster"),
        ("../../etc", "etc"),
        ("///", "context"),
        ("a" * 100 + "/prod", "a" * 59 + "_prod"),
    ],
)
def test_context_names_become_one_safe_path_component(context: str | None, expected: str) -> None:
    assert path_safe_context(context) == expected
