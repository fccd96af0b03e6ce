"""`?`: every key, per screen, taken from the bindings themselves with the keys the ``[keymap]`` of the config
file gives them (so the help never drifts from the keys)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

if TYPE_CHECKING:
    from nimify_tui.ui.app import NimifyApp

KEY_NAMES = {
    "slash": "/",
    "colon": ":",
    "question_mark": "?",
    "escape": "esc",
    "enter": "enter",
    "left_square_bracket": "[",
    "right_square_bracket": "]",
}


def key_label(key: str) -> str:
    return ", ".join(KEY_NAMES.get(k, k) for k in key.split(","))


def with_keymap(bindings: Iterable[BindingType], keymap: Mapping[str, str]) -> list[Binding]:
    """The bindings with the key the keymap gives their id in place of the default one."""
    return [
        binding.with_key(keymap[binding.id]) if binding.id is not None and binding.id in keymap else binding
        for binding in bindings
        if isinstance(binding, Binding)
    ]


def bindings_table(title: str, bindings: list[Binding]) -> Table:
    """Key, what it does, and the binding id the keymap rebinds it by."""
    table = Table(title=title, title_justify="left", show_header=False, box=None, pad_edge=False, expand=True)
    table.add_column(style="bold cyan", no_wrap=True)
    table.add_column()
    table.add_column(style="dim")
    for binding in bindings:
        if binding.description:
            table.add_row(Text(key_label(binding.key)), Text(binding.description), Text(binding.id or ""))
    return table


def all_sections() -> list[tuple[str, list[Binding]]]:
    """Every key of the app, per screen, with their default keys."""
    from nimify_tui.ui.app import NimifyApp
    from nimify_tui.ui.screens.action import ActionScreen
    from nimify_tui.ui.screens.deployment import DeploymentScreen
    from nimify_tui.ui.screens.detail import DetailScreen
    from nimify_tui.ui.screens.escalation_criteria import EscalationCriteriaScreen
    from nimify_tui.ui.screens.logs import LogsScreen
    from nimify_tui.ui.screens.main import MainScreen
    from nimify_tui.ui.screens.pod import PodScreen
    from nimify_tui.ui.screens.resources import ConfigMapScreen
    from nimify_tui.ui.screens.status_update import StatusUpdateScreen
    from nimify_tui.ui.widgets.log_view import LogLines, LogView
    from nimify_tui.ui.widgets.record_table import RecordTable

    def of(cls: Any) -> list[Binding]:
        return [b for b in cls.BINDINGS if isinstance(b, Binding)]

    text_keys = [b for b in of(LogLines) if b.action not in ("toggle_follow", "toggle_timestamps", "follow")]
    return [
        ("Everywhere", of(NimifyApp)),
        ("Main screen (1-5 panes, 0 runbook; d y l on any row)", of(MainScreen)),
        ("Tables (pods, events, nodes, models)", of(RecordTable)),
        ("Describe, YAML, other tabs (g top, G end)", of(DetailScreen) + of(LogView) + text_keys),
        ("Pod", of(PodScreen)),
        ("Deployment", of(DeploymentScreen)),
        ("nimify-config", of(ConfigMapScreen)),
        ("Logs", of(LogsScreen) + of(LogView) + of(LogLines)),
        ("Guarded action", of(ActionScreen)),
        ("Status update (c), escalation criteria (E)", of(StatusUpdateScreen) + of(EscalationCriteriaScreen)),
    ]


def binding_ids() -> set[str]:
    """The ids a ``[keymap]`` may rebind: those of every key of the app."""
    return {binding.id for _title, bindings in all_sections() for binding in bindings if binding.id}


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,q,question_mark", "dismiss", "Close")]
    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > VerticalScroll {
        width: 90%; max-width: 100; height: 90%; border: round $accent; background: $panel; padding: 0 1;
    }
    """

    @property
    def nimify(self) -> NimifyApp:
        return self.app  # type: ignore[return-value]

    def compose(self) -> ComposeResult:
        keymap = self.nimify.settings.keymap.keys
        with VerticalScroll():
            yield Static(Text("nimify-tui keys (k9s-compatible where they overlap)", style="bold"))
            for title, bindings in all_sections():
                yield Static(bindings_table(title, with_keymap(bindings, keymap)))
            yield Static(
                Text(
                    "\n:pods :events :nodes :models :latency  jump to a pane\n"
                    ":deploy [NAME]  a deployment's describe and rollout history\n"
                    ":ns NAME | :ns all  the namespace of the pods and events panes\n"
                    ":svc :ep :ing :pvc :pv :netpol  kubectl's table and a describe of each, in that namespace\n"
                    ":config  nimify-config's data (e edits it, guarded)\n"
                    ":alerts  the runbook's alert rules: pending or firing since when, by Prometheus or built in\n"
                    "/  filter and search: a regex, case ignored; one that does not compile is matched literally"
                    " (a note says so)\n"
                    "q  back on any other screen; on the main screen it asks first (y quits), as ctrl+c does\n"
                    "ctrl+p  the command palette\n"
                    '[keymap] in config.toml rebinds a key by the name on its right, e.g. scale = "K"',
                    style="dim",
                )
            )
