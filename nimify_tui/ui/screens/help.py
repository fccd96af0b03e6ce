"""`?`: every key, per screen, taken from the bindings themselves with the keys the ``[keymap]`` of the config
file gives them (so the help never drifts from the keys)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

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
    "exclamation_mark": "!",
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


def bindings_text(title: str, bindings: list[Binding]) -> Text:
    """The section's title, then a line a key: the key, what it does, and the binding id the keymap rebinds it by,
    in aligned columns (one Text: a Rich table costs twice as much to lay out, and the help opens on a key)."""
    rows = [(key_label(b.key), b.description, b.id or "") for b in bindings if b.description]
    key_width = max((len(key) for key, _, _ in rows), default=0)
    what_width = max((len(what) for _, what, _ in rows), default=0)
    text = Text(title, style="italic")
    for key, what, binding_id in rows:
        text.append("\n")
        text.append(key.ljust(key_width + 1), style="bold cyan")
        text.append(what.ljust(what_width + 1))
        text.append(binding_id, style="dim")
    return text


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
    from nimify_tui.ui.screens.recovery import RecoveryScreen
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
        ("Recovery verification (V)", of(RecoveryScreen)),
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
    HelpScreen .help-section { text-wrap: nowrap; text-overflow: ellipsis; margin-top: 1; }
    """

    @property
    def nimify(self) -> NimifyApp:
        return self.app  # type: ignore[return-value]

    def compose(self) -> ComposeResult:
        keymap = self.nimify.settings.keymap.keys
        with VerticalScroll():
            yield Static(Text("nimify-tui keys (k9s-compatible where they overlap)", style="bold"))
            for title, bindings in all_sections():
                yield Static(bindings_text(title, with_keymap(bindings, keymap)), classes="help-section")
            yield Static(
                Text(
                    "\n:pods :events :nodes :models :latency  jump to a pane\n"
                    ":deploy [NAME]  a deployment's describe and rollout history\n"
                    ":ns NAME | :ns all  the namespace of the pods and events panes\n"
                    ":ctx | :ctx NAME  the kubeconfig's contexts, or the session moved to another one\n"
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
