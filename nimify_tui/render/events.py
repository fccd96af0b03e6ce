"""The events table: LAST SEEN, TYPE, REASON, OBJECT, MESSAGE; newest first, warnings marked, repeats folded.

Every namespace at once (``namespace`` None) puts a NAMESPACE column first, as ``kubectl get events -A`` does.
"""

from __future__ import annotations

from collections.abc import Sequence

from nimify_tui.kube.records import EventRecord
from nimify_tui.render.kubectl import event_row, event_sort_key
from nimify_tui.render.row import Column, Row
from nimify_tui.text import literal

# TYPE goes first when the pane is narrow (warnings are marked by their colour); OBJECT and MESSAGE are cut
EVENT_COLUMNS = (
    Column("LAST SEEN", stable_width=len("2m40s")),
    Column("TYPE", priority=2),
    Column("REASON"),
    Column("OBJECT", cut_to=20, cut_middle=True),
    Column("MESSAGE", cut_to=16),
)
ALL_NAMESPACES_EVENT_COLUMNS = (Column("NAMESPACE", cut_to=8, cut_middle=True), *EVENT_COLUMNS)


def event_columns(namespace: str | None) -> tuple[Column, ...]:
    """The columns of the events of one namespace, or of all of them (``None``)."""
    return EVENT_COLUMNS if namespace is not None else ALL_NAMESPACES_EVENT_COLUMNS


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
                (
                    *((literal(event.namespace),) if namespace is None else ()),
                    cells.last_seen,
                    cells.type,
                    cells.reason,
                    cells.object,
                    message,
                ),
                "yellow" if event.type == "Warning" else "",
            )
        )
    return rows
