"""The Triton model drill-down's statistics: every figure in one column, each label apart from its value."""

from __future__ import annotations

import re

from nimify_tui.triton.latency import ModelInterval
from nimify_tui.triton.model_text import model_stats_text
from nimify_tui.triton.poller import ModelState, ServerState, TritonView


def test_every_label_is_apart_from_its_value_in_one_column() -> None:
    interval = ModelInterval(
        "nimify-model", "1", 2.0, False, 950, 3, 475.1, 475.1, 0.003,
        1.0, 707_900.0, 686_700.0, 1_200.0, 18_900.0, 1_100.0, None, 12,
    )  # fmt: skip
    view = TritonView(
        (ServerState("triton-0", True, True, ""),),
        (ModelState("nimify-model", "1", "READY", "", interval, ("triton-0",)),),
        0.0,
    )
    text = model_stats_text(view, "nimify-model")
    assert "compute output1.10 ms" not in text
    columns = set()
    for label in ("requests/s", "failures", "avg request", "queue", "compute input", "compute infer",
                  "compute output", "queue share", "avg batch size", "pending"):  # fmt: skip
        line = next((line for line in text.splitlines() if line.strip().startswith(label + " ")), "")
        match = re.match(r"(\s+" + re.escape(label) + r"\s{2,})\S", line)
        assert match, f"at least two spaces between the label and its value: {line!r}"
        columns.add(len(match.group(1)))
    assert len(columns) == 1, f"the values start in one column: {columns}"
