"""Text for the Triton model drill-down: its config (asked from Triton) and its statistics (from the last polls)."""

from __future__ import annotations

import orjson

from nimify_tui.triton.client import TritonClient, TritonError, model_config
from nimify_tui.triton.poller import TritonView


def model_config_text(client: TritonClient, model: str) -> str:
    """The model's configuration as Triton has it, as indented JSON, or why it could not be read."""
    try:
        config = client.call(model_config(model))
    except TritonError as exc:
        return f"Could not load: {exc}"
    return orjson.dumps(config, option=orjson.OPT_INDENT_2).decode()


LABEL_WIDTH = 18  # the longest label, "  compute output", and a space


def _figure(label: str, value: str) -> str:
    """One line of figures: the label (indented under the interval), then its value in a column of its own."""
    return f"  {label:<{LABEL_WIDTH}}{value}"


def model_stats_text(view: TritonView | None, model: str) -> str:
    """The model's state on each server and what it did over the last interval, then the servers."""
    if view is None:
        return "Triton has not been reached yet."
    lines = []
    for state in view.models:
        if state.name != model:
            continue
        lines.append(f"{state.name} version {state.version or '-'}: {state.state or 'never loaded'}")
        if state.reason:
            lines.append(f"  reason: {state.reason}")
        lines.append(f"  served by: {', '.join(state.servers) or '-'}")
        interval = state.interval
        if interval is None:
            lines.append("  no statistics over the last interval yet")
            continue
        lines.append(f"  over the last {interval.seconds:.1f} s" + (" (counters were reset)" if interval.reset else ""))
        lines.append(_figure("requests/s", f"{interval.request_rate:.2f}   inferences/s {interval.inference_rate:.2f}"))
        failure_rate = f" ({interval.failure_rate:.1%})" if interval.failure_rate else ""
        lines.append(_figure("failures", f"{interval.failures}{failure_rate}"))
        for label, value in (
            ("avg request", interval.avg_request_us),
            ("  queue", interval.avg_queue_us),
            ("  compute input", interval.avg_compute_input_us),
            ("  compute infer", interval.avg_compute_infer_us),
            ("  compute output", interval.avg_compute_output_us),
        ):
            lines.append(_figure(label, "-" if value is None else f"{value / 1000:.2f} ms"))
        if interval.queue_share is not None:
            verdict = "waiting in the queue (saturated)" if interval.queue_share > 0.5 else "computing (model-bound)"
            lines.append(_figure("queue share", f"{interval.queue_share:.0%}: time is spent {verdict}"))
        if interval.avg_batch_size is not None:
            lines.append(_figure("avg batch size", f"{interval.avg_batch_size:.2f}"))
        if interval.pending is not None:
            lines.append(_figure("pending", f"{interval.pending}"))
    servers = [f"{s.name}: live={s.live} ready={s.ready} {s.error}" for s in view.servers]
    return (
        "\n".join(lines or [f"{model}: not in the repository index"]) + "\n\nTriton servers:\n  " + "\n  ".join(servers)
    )
