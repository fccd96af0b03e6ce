"""The Triton models table: state and reason, and over the last poll interval req/s, average latency split into
queue and compute, and failures."""

from __future__ import annotations

from collections.abc import Sequence

from nimify_tui.render.row import Column, Row
from nimify_tui.triton.poller import ModelState, TritonView

MODEL_COLUMNS = (
    Column("MODEL", pinned=True, cut_to=12, cut_middle=True),
    Column("STATE"),
    Column("REQ/S", priority=1),
    Column("QUEUE ms", priority=3),
    Column("COMPUTE ms", priority=3),
    Column("FAIL", priority=1),
    Column("AVG ms", priority=2),
    Column("VER", priority=4),
    Column("REASON", priority=5, cut_to=12),
)
_NOT_READY, _FAILING = "bold red", "yellow"


def _ms(us: float | None) -> str:
    return "-" if us is None else f"{us / 1000:.1f}"


def model_row(model: ModelState) -> Row:
    interval = model.interval
    figures: tuple[str, ...] = ("-", "-", "-", "-", "-")
    style = "" if model.state in ("READY", "") else _NOT_READY
    if interval is not None:
        failures = f"{interval.failures}" + (f" {interval.failure_rate:.0%}" if interval.failure_rate else "")
        figures = (
            f"{interval.request_rate:.1f}",
            _ms(interval.avg_queue_us),
            _ms(interval.avg_compute_us),
            failures,
            _ms(interval.avg_request_us),
        )
        if not style and interval.failures:
            style = _FAILING
    cells = (model.name, model.state or "(not loaded)", *figures, model.version or "-", model.reason)
    return Row(f"{model.name}/{model.version}", cells, style)


def model_rows(models: Sequence[ModelState]) -> list[Row]:
    """The models' rows, faulty first: not ready, then failing requests, then the others; by name within each."""
    rank = {_NOT_READY: 0, _FAILING: 1}
    rows = [model_row(model) for model in models]
    return sorted(rows, key=lambda row: (rank.get(row.style, 2), row.cells[0], row.key))


def server_summary(view: TritonView) -> str:
    live = sum(1 for s in view.servers if s.live)
    ready = sum(1 for s in view.servers if s.ready)
    total = len(view.servers)
    text = f"{total} server{'s' if total != 1 else ''}: {live} live, {ready} ready"
    errors = [s.error for s in view.servers if s.error]
    return text + (f" · {errors[0]}" if errors else "")
