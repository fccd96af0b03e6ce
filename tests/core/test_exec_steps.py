"""What the in-pod steps' output says: psql's rows, df's Use% on the volume's mount, the channel-3 Status's exit code,
and which steps the runbook pane offers under a diagnosis."""

from __future__ import annotations

from nimify_tui.actions.exec_steps import StepResult, database_verdict, disk_usage, disk_verdict, helper_pod
from nimify_tui.kube.exec import ExecResult, ExecTarget, ending_of
from nimify_tui.live.store import Store
from nimify_tui.triage.checks import STEP_FRESH_S, Finding, check_database
from nimify_tui.triage.diagnosis import Diagnosis
from nimify_tui.triage.in_pod import record_step, steps_called_for

PSQL = ("psql", "-h", "postgres", "-U", "nimify", "-c", "SELECT 1;")
DF = """Filesystem                                   Size  Used Avail Use% Mounted on
overlay                                       80G   19G   62G  23% /
10.0.1.31:6789:/volumes/csi/csi-vol-1/2      100G  100G     0 100% /models
/dev/nvme0n1p1                                80G   19G   62G  23% /etc/hosts
"""


def result(stdout: str = "", stderr: str = "", exit_code: int | None = 0, error: str = "") -> ExecResult:
    return ExecResult(PSQL, stdout, stderr, exit_code, error)


def test_select_1_passes_only_with_a_row_and_fails_with_psqls_first_line() -> None:
    assert database_verdict(result(" ?column? \n----------\n        1\n(1 row)\n")).state == "pass"
    assert database_verdict(result(" ?column? \n----------\n(0 rows)\n")).state == "fail"
    refused = result(
        stderr='psql: error: connection to server at "postgres" (10.0.0.5), port 5432 failed: Connection refused\n'
        "\tIs the server running on that host and accepting TCP/IP connections?\n",
        exit_code=2,
    )
    verdict = database_verdict(refused)
    assert verdict.state == "fail"
    assert (
        verdict.line
        == 'psql: error: connection to server at "postgres" (10.0.0.5), port 5432 failed: Connection refused'
    )
    unreachable = database_verdict(result(exit_code=None, error="unable to upgrade connection: container not found"))
    assert unreachable.line == "unable to upgrade connection: container not found"


def test_df_over_95_percent_on_the_mount_fails_and_other_mounts_do_not_count() -> None:
    assert disk_usage(DF, "/models") == 100
    assert disk_usage(DF, "/models/") == 100
    assert disk_usage(DF, "/") == 23
    assert disk_usage(DF, "/cache") is None
    assert disk_verdict(result(DF), "model-storage", "/models").state == "fail"
    assert disk_verdict(result(DF.replace("100% /models", " 95% /models")), "model-storage", "/models").state == "pass"
    assert disk_verdict(result(DF), "model-storage", "/cache").state == "info"


def test_the_exit_code_comes_from_the_status_cause_and_other_failures_have_none() -> None:
    assert ending_of({"metadata": {}, "status": "Success"}).exit_code == 0
    failed = {
        "status": "Failure",
        "reason": "NonZeroExitCode",
        "message": "command terminated with non-zero exit code: error executing command [sh -c false], exit code 1",
        "details": {"causes": [{"reason": "ExitCode", "message": "1"}]},
    }
    assert ending_of(failed).exit_code == 1
    internal = ending_of({"status": "Failure", "reason": "InternalError", "message": "OCI runtime exec failed"})
    assert internal.exit_code is None and internal.error == "OCI runtime exec failed"


def test_the_helper_pod_mounts_the_claim_where_the_pod_does_and_where_the_runbook_expects_it() -> None:
    like = {
        "name": "nimify-api",
        "image": "ghcr.io/nimify/nimify-api:1.8.2",
        "volumeMounts": [
            {"name": "config", "mountPath": "/etc/nimify"},
            {"name": "store", "mountPath": "/models"},
            {"name": "store", "mountPath": "/data/shards", "subPath": "cache/embeddings"},
        ],
    }
    pod = helper_pod("nimify-system", "model-storage", like, {"store"}, "/cache")
    container = pod["spec"]["containers"][0]
    assert container["image"] == like["image"] and container["command"][0] == "sleep"
    assert container["volumeMounts"] == [
        {"name": "data", "mountPath": "/models"},
        {"name": "data", "mountPath": "/data/shards", "subPath": "cache/embeddings"},
        {"name": "data", "mountPath": "/cache"},
    ]
    assert pod["spec"]["volumes"] == [{"name": "data", "persistentVolumeClaim": {"claimName": "model-storage"}}]
    assert pod["spec"]["restartPolicy"] == "Never" and pod["spec"]["activeDeadlineSeconds"] > 0


def test_the_steps_offered_are_the_top_diagnosiss_else_the_failing_checks() -> None:
    def diagnosis(component: str) -> Diagnosis:
        return Diagnosis("storage", "Scenario 3: Storage Issues", component, "full", (), (), None)

    failing_ready = Finding("api-ready", "nimify-api /ready", "fail", "503", "1. Confirm the outage")
    assert steps_called_for([failing_ready], [diagnosis("storage")]) == ("step-disk", "step-cleanup")
    assert steps_called_for([failing_ready], [diagnosis("nimify-api")]) == ("step-database",)
    assert steps_called_for([failing_ready], []) == ("step-database",)
    assert steps_called_for([], []) == ()


def test_a_psql_answer_feeds_the_database_check_for_two_minutes_then_asks_to_be_run_again() -> None:
    store = Store()
    assert check_database(store, 1000.0) is None, "no check until the step ran"
    refused = result(stderr="psql: error: connection refused\n", exit_code=2)
    place = ExecTarget("nimify-system", "nimify-api-0", "nimify-api")
    record_step(store, StepResult("step-database", place, refused, database_verdict(refused), 1000.0))
    failing = check_database(store, 1000.0 + 10)
    assert failing is not None and failing.state == "fail" and "psql: error: connection refused" in failing.evidence
    stale = check_database(store, 1000.0 + STEP_FRESH_S)
    assert stale is not None and stale.state == "unknown" and "D checks again" in stale.evidence
