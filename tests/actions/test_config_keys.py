"""Taking one key out of a ConfigMap's configuration: only that key's lines go, the rest stays as written, and
anything ambiguous or not cleanly cut is refused (to be edited by hand)."""

from __future__ import annotations

import pytest

from nimify_tui.actions.config_keys import KeyNotRemovable, without_key

CONFIG = """\
# nimify-api, edited 2026-11-30
server:
  port: 8000
triton:
  url: "http://triton:8000"   # the service, not a pod
  max_batch_sise: 32
  retry:
    attempts: 3

    backoff_s: 0.5
logging:
  level: info
"""


def test_the_key_named_with_its_section_goes_and_nothing_else() -> None:
    entry, data = without_key({"config.yaml": CONFIG, "other": "x: 1\n"}, "triton.max_batch_sise")
    assert entry == "config.yaml"
    assert data == {"config.yaml": CONFIG.replace("  max_batch_sise: 32\n", ""), "other": "x: 1\n"}


def test_a_section_goes_with_the_lines_nested_under_it_blank_ones_included() -> None:
    _, data = without_key({"config.yaml": CONFIG}, "triton.retry")
    assert data["config.yaml"] == CONFIG.replace("  retry:\n    attempts: 3\n\n    backoff_s: 0.5\n", "")


def test_a_plain_name_is_found_in_its_section_when_it_is_there_once() -> None:
    _, data = without_key({"config.yaml": CONFIG}, "max_batch_sise")
    assert "max_batch_sise" not in data["config.yaml"]


def test_a_plain_name_in_two_sections_is_ambiguous() -> None:
    twice = CONFIG + "cache:\n  level: 2\n"
    with pytest.raises(KeyNotRemovable, match=r"more than one place \(config.yaml: logging.level, config.yaml: cache"):
        without_key({"config.yaml": twice}, "level")


def test_a_key_in_two_entries_is_ambiguous() -> None:
    with pytest.raises(KeyNotRemovable, match="more than one place"):
        without_key({"a.yaml": "triton:\n  x: 1\n", "b.yaml": "triton:\n  x: 2\n"}, "triton.x")


def test_a_key_not_there_is_refused() -> None:
    with pytest.raises(KeyNotRemovable, match=r"no entry of the configmap holds the key triton\.nope"):
        without_key({"config.yaml": CONFIG}, "triton.nope")


def test_an_environment_style_entry_is_removed_whole() -> None:
    assert without_key({"LOG_LEVEL": "debug", "BATCH_SISE": "32"}, "BATCH_SISE") == (
        "BATCH_SISE",
        {"LOG_LEVEL": "debug"},
    )


def test_a_key_written_in_flow_style_cannot_be_cut_and_is_left_to_the_person() -> None:
    with pytest.raises(KeyNotRemovable, match="not one line of YAML that can be cut"):
        without_key({"config.yaml": "triton: {url: x, max_batch_sise: 32}\n"}, "triton.max_batch_sise")


def test_a_quoted_key_is_cut_too() -> None:
    _, data = without_key({"config.yaml": 'triton:\n  "max_batch_sise": 32\n  url: x\n'}, "triton.max_batch_sise")
    assert data["config.yaml"] == "triton:\n  url: x\n"
