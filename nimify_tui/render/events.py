"""The events table: LAST SEEN, TYPE, REASON, OBJECT, MESSAGE; newest first, warnings marked, repeats folded."""

from __future__ import annotations

from collections.abc import Sequence

from nimify_tui.kube.records import EventRecord
from nimify_tui.render.kubectl import event_row, event_sort_key
from nimify_tui.render.row import Row

EVENT_COLUMNS = ("LAST SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE")


MAX_EVENT_ROWS = 500


def event_rows(
    events: Sequence[EventRecord], now: float, *, namespace: str | None, warnings_only: bool = False
) -> list[Row]:
    """Newest first. Events with the same object, reason and message fold into one row with their total count
    (the API server aggregates repeats into one Event with a count; several Events can still say the same)."""
    folded: dict[tuple[str, str, str, str], tuple[EventRecord, int]] = {}
    for event in events:
        if namespace is not None and event.namespace != namespace:
            continue
        if warnings_only and event.type != "Warning":
            continue
        key = (event.namespace, event.object_kind + "/" + event.object_name, event.reason, event.message)
        current = folded.get(key)
        count = max(event.count, 1)
        if current is None:
            folded[key] = (event, count)
        else:
            newest = event if event_sort_key(event) > event_sort_key(current[0]) else current[0]
            folded[key] = (newest, current[1] + count)
    ordered = sorted(folded.values(), key=lambda item: event_sort_key(item[0]), reverse=True)[:MAX_EVENT_ROWS]
    rows = []
    for event, count in ordered:
        cells = event_row(event, now)
        message = cells.message if count <= 1 else f"{cells.message} (x{count})"
        rows.append(
            Row(
                f"{event.namespace}/{event.name}",
                (cells.last_seen, cells.type, cells.reason, cells.object, message),
                "yellow" if event.type == "Warning" else "",
            )
        )
    return rows
