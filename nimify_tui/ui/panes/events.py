"""The events pane: LAST SEEN, TYPE, REASON, OBJECT, MESSAGE; newest first, warnings highlighted, repeats folded."""

from __future__ import annotations

from nimify_tui.live.keys import EVENTS
from nimify_tui.live.store import Store
from nimify_tui.render.events import EVENT_COLUMNS, MAX_EVENT_ROWS, event_columns, event_rows
from nimify_tui.ui.panes.table_pane import OverflowTitledPane

# The rows the events table keeps prepared besides those it shows. Each new event is a new row key: a table that
# kept every row it once showed (as the pods table keeps 50,000 for a filter cleared) would grow with every event
# of a long session.
KEPT_EVENT_ROWS = 2 * MAX_EVENT_ROWS


class EventsPane(OverflowTitledPane):
    TABLE_COLUMNS = EVENT_COLUMNS
    SOURCES = (EVENTS,)
    HEALTH = ("events",)

    def __init__(self, namespace: str | None) -> None:
        super().__init__("Events", id="events-pane")
        self.namespace = namespace  # None: every watched namespace
        self.warnings_only = False

    def on_mount(self) -> None:
        self.table.KEPT_PREPARED = KEPT_EVENT_ROWS

    def update_view(self, store: Store, now: float) -> None:
        rows = event_rows(store.items(EVENTS), now, namespace=self.namespace, warnings_only=self.warnings_only)
        self.table.set_columns(event_columns(self.namespace))
        self.table.show_rows(rows)
        warnings = sum(1 for r in rows if r.style)
        scope = self.namespace or "all namespaces"
        title = f"Events · {scope} · {len(rows)}" + (f", {warnings} warnings" if warnings else "")
        self.set_title(title + (" (warnings only)" if self.warnings_only else ""))
