"""kubectl's rollout rules on real objects (a Deployment and its ReplicaSet as an API server served them)."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from nimify_tui.actions.plan import ActionError
from nimify_tui.actions.rollout import (
    CHANGE_CAUSE_ANNOTATION,
    REVISION_ANNOTATION,
    history_of,
    plan_undo,
    replicaset_for_revision,
    rollout_status,
    templates_match,
    undo_patch,
)

from ..conftest import real_json


def _fixture(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = real_json(f"k8s/{name}")
    return loaded


@pytest.fixture
def deployment() -> dict[str, Any]:
    return _fixture("05_deployment_healthy__k9s_dp.json")


@pytest.fixture
def replicaset() -> dict[str, Any]:
    return _fixture("06_replicaset_revision__k9s_rs.json")


def _revision(replicaset: dict[str, Any], number: int, image: str, cause: str = "") -> dict[str, Any]:
    """Another revision of the same ReplicaSet: a different image (and so a different hash)."""
    copied = copy.deepcopy(replicaset)
    copied["metadata"]["name"] = f"icx-db-rev{number}"
    copied["metadata"]["annotations"][REVISION_ANNOTATION] = str(number)
    if cause:
        copied["metadata"]["annotations"][CHANGE_CAUSE_ANNOTATION] = cause
    copied["spec"]["template"]["metadata"]["labels"]["pod-template-hash"] = f"hash{number}"
    copied["spec"]["template"]["spec"]["containers"][0]["image"] = image
    return copied


def test_the_served_replicaset_matches_its_deployment_ignoring_the_hash(
    deployment: dict[str, Any], replicaset: dict[str, Any]
) -> None:
    rs_template = replicaset["spec"]["template"]
    assert rs_template != deployment["spec"]["template"]  # the hash label differs
    assert templates_match(rs_template, deployment["spec"]["template"])
    changed = copy.deepcopy(rs_template)
    changed["spec"]["containers"][0]["image"] = "postgres:99"
    assert not templates_match(changed, deployment["spec"]["template"])


def test_quantities_compare_by_value_and_zero_fields_by_absence() -> None:
    first = {"spec": {"containers": [{"name": "a", "resources": {"limits": {"memory": "1Gi", "cpu": "1"}}}]}}
    second = {
        "metadata": {"creationTimestamp": None},
        "spec": {
            "hostNetwork": False,
            "containers": [{"name": "a", "resources": {"limits": {"memory": "1024Mi", "cpu": "1000m"}}}],
        },
    }
    assert templates_match(first, second)
    second["spec"]["containers"][0]["resources"]["limits"]["memory"] = "2Gi"  # type: ignore[index]
    assert not templates_match(first, second)


def test_revision_zero_is_the_one_before_the_newest(replicaset: dict[str, Any]) -> None:
    owner = {"metadata": {"name": "icx-db"}}
    sets = [_revision(replicaset, n, f"postgres:{n}") for n in (2, 5, 3, 4)]
    assert replicaset_for_revision(owner, sets, 0)["metadata"]["name"] == "icx-db-rev4"
    assert replicaset_for_revision(owner, sets, 3)["metadata"]["name"] == "icx-db-rev3"
    with pytest.raises(ActionError, match=r"^unable to find specified revision 7 in history$"):
        replicaset_for_revision(owner, sets, 7)
    with pytest.raises(ActionError, match=r'^no rollout history found for deployment "icx-db"$'):
        replicaset_for_revision(owner, sets[:1], 0)


def test_the_undo_patch_is_kubectls_two_replace_operations(
    deployment: dict[str, Any], replicaset: dict[str, Any]
) -> None:
    deployment["metadata"]["annotations"][REVISION_ANNOTATION] = "2"
    deployment["metadata"]["annotations"]["team"] = "db"  # the deployment's own: dropped, as kubectl does
    old = _revision(replicaset, 1, "postgres:10", cause="first release")
    patch = undo_patch(deployment, old)
    assert [(op["op"], op["path"]) for op in patch] == [
        ("replace", "/spec/template"),
        ("replace", "/metadata/annotations"),
    ]
    template = patch[0]["value"]
    assert "pod-template-hash" not in template["metadata"]["labels"]
    assert template["spec"]["containers"][0]["image"] == "postgres:10"
    annotations = patch[1]["value"]
    assert annotations[REVISION_ANNOTATION] == "2"  # kept from the deployment
    assert "deployment.kubernetes.io/desired-replicas" not in annotations  # never copied from the ReplicaSet
    assert "kubectl.kubernetes.io/last-applied-configuration" in annotations
    assert annotations[CHANGE_CAUSE_ANNOTATION] == "first release"  # copied from the ReplicaSet
    assert "team" not in annotations


def test_the_plan_checks_history_then_paused_then_skip(deployment: dict[str, Any], replicaset: dict[str, Any]) -> None:
    current = _revision(replicaset, 2, deployment["spec"]["template"]["spec"]["containers"][0]["image"])
    previous = _revision(replicaset, 1, "postgres:9")
    plan = plan_undo(deployment, [current, previous], 0)
    assert (plan.revision, plan.replicaset, plan.paused) == (1, "icx-db-rev1", False)
    assert plan.patch is not None
    skipped = plan_undo(deployment, [current, previous], 2)
    assert skipped.patch is None  # the template already matches revision 2
    deployment["spec"]["paused"] = True
    assert plan_undo(deployment, [current, previous], 0).paused
    with pytest.raises(ActionError, match="no rollout history"):
        plan_undo(deployment, [current], 0)


def test_history_lists_revisions_oldest_first_with_cause_and_images(replicaset: dict[str, Any]) -> None:
    sets = [_revision(replicaset, 3, "postgres:12", "bump"), _revision(replicaset, 1, "postgres:10")]
    history = history_of(sets)
    assert [(r.number, r.change_cause, r.images) for r in history] == [
        (1, "", ("postgres:10",)),
        (3, "bump", ("postgres:12",)),
    ]


def test_status_of_a_real_healthy_deployment_is_rolled_out(deployment: dict[str, Any]) -> None:
    step = rollout_status(deployment)
    assert (step.message, step.done, step.failed) == ('deployment "icx-db" successfully rolled out', True, False)


def test_status_follows_kubectls_order_of_checks(deployment: dict[str, Any]) -> None:
    deployment["spec"]["replicas"] = 3
    deployment["metadata"]["generation"] = 2
    assert rollout_status(deployment).message == "Waiting for deployment spec update to be observed..."
    deployment["status"] |= {"observedGeneration": 2, "replicas": 4, "updatedReplicas": 2, "availableReplicas": 2}
    assert rollout_status(deployment).message.endswith("2 out of 3 new replicas have been updated...")
    deployment["status"] |= {"updatedReplicas": 3}
    assert rollout_status(deployment).message.endswith("1 old replicas are pending termination...")
    deployment["status"] |= {"replicas": 3}
    assert rollout_status(deployment).message.endswith("2 of 3 updated replicas are available...")
    progressing = next(c for c in deployment["status"]["conditions"] if c["type"] == "Progressing")
    progressing["reason"] = "ProgressDeadlineExceeded"
    step = rollout_status(deployment)
    assert (step.message, step.done, step.failed) == ('deployment "icx-db" exceeded its progress deadline', True, True)
