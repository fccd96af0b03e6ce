"""Parameter checks, the configmap's editable text, and the readable diff: no cluster needed."""

from __future__ import annotations

from typing import cast

import pytest

from nimify_tui.actions.diff import ABSENT, FieldChange, changes_text, object_changes, yaml_diff
from nimify_tui.actions.kube_actions import ScaleAction, configmap_data_text, parse_configmap_text
from nimify_tui.actions.plan import ParameterError, Request, explain_kube_error, parse_count, parse_quantity_value
from nimify_tui.kube.client import KubeClient
from nimify_tui.kube.errors import error_from_response, error_from_transport

# --- parameter values ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["2Gi", "512Mi", "1.5", "500m", " 4Gi ", "0"])
def test_quantities_the_api_server_accepts_pass(text: str) -> None:
    assert parse_quantity_value("limits.memory", text).value >= 0


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("2 Gi", "no space between the number and its unit"),
        ("-1", "negative"),
        ("-512Mi", "negative"),
        ("2GB", "is not a quantity"),
        ("lots", "is not a quantity"),
        ("", "a value is needed"),
    ],
)
def test_bad_quantities_get_a_clear_message(text: str, says: str) -> None:
    with pytest.raises(ParameterError, match=says) as caught:
        parse_quantity_value("limits.memory", text)
    assert str(caught.value).startswith("limits.memory: ")
    assert "\n" not in str(caught.value)


def test_replica_counts_are_whole_numbers_of_zero_or_more() -> None:
    assert parse_count("replicas", " 3 ") == 3
    assert parse_count("replicas", "0") == 0
    for bad in ("-1", "1.5", "three", ""):
        with pytest.raises(ParameterError, match="not a whole number"):
            parse_count("replicas", bad)


def test_a_dry_run_adds_dry_run_all_and_keeps_the_body() -> None:
    request = Request("PATCH", "/apis/apps/v1/namespaces/ns/deployments/d", {"spec": {"replicas": 1}}, "x")
    dry = request.dry_run()
    assert dry.path_with_query == "/apis/apps/v1/namespaces/ns/deployments/d?dryRun=All"
    assert (dry.method, dry.body, dry.content_type) == (request.method, request.body, request.content_type)
    assert request.path_with_query == request.path


def test_kube_errors_read_as_one_line_with_the_servers_words() -> None:
    body = b'{"kind":"Status","reason":"NotFound","message":"deployments.apps \\"nope\\" not found","code":404}'
    error = error_from_response(404, body, "GET", "/apis/apps/v1/namespaces/ns/deployments/nope")
    assert explain_kube_error(error) == 'deployments.apps "nope" not found (HTTP 404)'
    refused = error_from_transport(ConnectionRefusedError("Connection refused"), "GET", "/x", "https://k:6443")
    assert explain_kube_error(refused) == "the API server at https://k:6443 refused the connection (is it up?)"


# --- configmap text ------------------------------------------------------------------------------------------


def test_configmap_data_survives_the_round_trip_through_its_text() -> None:
    data = {
        "LOG_LEVEL": "info",
        "PORT": "8000",
        "ENABLE_CACHE": "true",
        "EMPTY": "",
        "config.yaml": "server:\n  workers: 4\n  timeout: 30s\n",
        "weird": "tab\there: # not a comment",
    }
    text = configmap_data_text("nimify-system", "nimify-config", data)
    assert text.startswith("# The data of configmap nimify-system/nimify-config.")
    assert "config.yaml: |" in text  # multi-line values are literal blocks
    assert parse_configmap_text(text) == data


def test_numbers_and_booleans_typed_unquoted_stay_text() -> None:
    assert parse_configmap_text("PORT: 8000\nDEBUG: true\nRATIO: 0.5\nNOTHING:\n") == {
        "PORT": "8000",
        "DEBUG": "true",
        "RATIO": "0.5",
        "NOTHING": "",
    }


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("PORT: 8000\n  bad: [\n", "not valid YAML at line"),
        ("# only a comment\n", "empty"),
        ("- a\n- b\n", "must be a mapping"),
        ("nested:\n  key: value\n", "must be text"),
        ("bad key: x\n", "letters, digits"),
    ],
)
def test_bad_configmap_text_is_refused_with_where_and_why(text: str, says: str) -> None:
    with pytest.raises(ParameterError, match=says):
        parse_configmap_text(text)


def test_an_empty_mapping_is_written_and_read_as_braces() -> None:
    text = configmap_data_text("ns", "cm", {})
    assert text.rstrip().endswith("{}")
    assert parse_configmap_text(text) == {}


# --- diff ----------------------------------------------------------------------------------------------------


def _deployment(memory: str | None, image: str = "api:1.8.2") -> dict[str, object]:
    resources: dict[str, object] = {"requests": {"memory": "512Mi"}}
    if memory is not None:
        resources["limits"] = {"memory": memory}
    return {
        "metadata": {"name": "nimify-api", "resourceVersion": "10", "generation": 3, "managedFields": [{"a": 1}]},
        "spec": {
            "replicas": 3,
            "template": {
                "spec": {
                    "containers": [
                        {"name": "nimify-api", "image": image, "resources": resources},
                        {"name": "sidecar", "image": "envoy:1"},
                    ]
                }
            },
        },
        "status": {"replicas": 3},
    }


def test_changed_paths_name_containers_and_skip_server_set_fields() -> None:
    before = _deployment("1Gi")
    after = _deployment("2Gi")
    after["metadata"] = {**after["metadata"], "resourceVersion": "11", "generation": 4}  # type: ignore[dict-item]
    after["status"] = {"replicas": 4}
    changes = object_changes(before, after)
    assert changes == [FieldChange("spec.template.spec.containers[nimify-api].resources.limits.memory", "1Gi", "2Gi")]
    assert str(changes[0]) == "spec.template.spec.containers[nimify-api].resources.limits.memory: 1Gi -> 2Gi"


def test_an_added_section_is_listed_leaf_by_leaf() -> None:
    changes = object_changes(_deployment(None), _deployment("2Gi"))
    assert [str(change) for change in changes] == [
        "spec.template.spec.containers[nimify-api].resources.limits.memory: <none> -> 2Gi"
    ]
    assert changes[0].old is ABSENT


def test_lists_without_names_are_compared_by_index() -> None:
    before = {"spec": {"args": ["--port", "8000"]}}
    after = {"spec": {"args": ["--port", "9000", "--verbose"]}}
    assert changes_text(object_changes(before, after)) == (
        "spec.args[1]: 8000 -> 9000\nspec.args[2]: <none> -> --verbose"
    )
    assert changes_text([]) == "(no change)"


def test_values_from_the_cluster_are_shown_literally() -> None:
    before = {"data": {"motd": "hello"}}
    after = {"data": {"motd": "\x1b[31mred\x1b[0m\nsecond line [bold]x[/bold]"}}
    (change,) = object_changes(before, after)
    shown = str(change)
    assert "\x1b" not in shown and "\n" not in shown
    assert "red" in shown and "31m" not in shown and "[bold]x[/bold]" in shown
    unified = yaml_diff(before, after)
    assert "\x1b" not in unified
    assert unified.startswith("--- before\n+++ after\n")


def test_the_yaml_diff_is_empty_for_equal_objects_and_unified_otherwise() -> None:
    assert yaml_diff(_deployment("1Gi"), _deployment("1Gi")) == ""
    unified = yaml_diff(_deployment("1Gi"), _deployment("2Gi"))
    assert "\n-            memory: 1Gi\n+            memory: 2Gi\n" in unified
    assert "resourceVersion" not in unified and "managedFields" not in unified


def test_a_statefulset_is_scaled_through_its_own_scale_subresource() -> None:
    client = cast(KubeClient, None)  # planning the request reads nothing
    action = ScaleAction(client, "statefulsets", "nimify-system", "postgres", 1, 3)
    assert str(action.target) == "StatefulSet nimify-system/postgres"
    assert action.request().path == "/apis/apps/v1/namespaces/nimify-system/statefulsets/postgres/scale"
    assert str(action.access_checks()[0]) == "patch statefulsets.apps/scale postgres in nimify-system"
    assert action.done_message(None) == "statefulset.apps/postgres scaled"
