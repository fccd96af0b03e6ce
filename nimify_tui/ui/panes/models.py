"""Triton models: state and reason, and over the last poll interval req/s, average latency split into queue and
compute, and failures."""

from __future__ import annotations

from nimify_tui.live.keys import TRITON
from nimify_tui.live.store import Store
from nimify_tui.render.models import MODEL_COLUMNS, model_rows, server_summary
from nimify_tui.triton.poller import TritonView
from nimify_tui.ui.panes.table_pane import OverflowTitledPane


class ModelsPane(OverflowTitledPane):
    TABLE_COLUMNS = MODEL_COLUMNS
    SOURCES = (TRITON,)
    HEALTH = ("triton",)

    def __init__(self) -> None:
        super().__init__("Triton models", id="models-pane")

    def update_view(self, store: Store, now: float) -> None:
        view: TritonView | None = store.value(TRITON)
        if view is None:
            self.table.show_rows([])
            self.set_title("Triton models · no server")
            return
        self.table.show_rows(model_rows(view.models))
        self.set_title(f"Triton models · {server_summary(view)}")

    def selected_model(self) -> str | None:
        key = self.table.selected_key
        return key.rsplit("/", 1)[0] if key else None
