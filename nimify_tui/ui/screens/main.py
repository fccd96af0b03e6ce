"""The main screen: header, health strip, runbook checks, and the five live panes."""

from __future__ import annotations

import gc
import time
from typing import TYPE_CHECKING

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.css.query import NoMatches
from textual.events import Resize
from textual.reactive import Reactive
from textual.screen import Screen
from textual.timer import Timer
from textual.widget import Widget
from textual.widgets import Input

from nimify_tui.actions.exec_steps import SHELL_ID
from nimify_tui.actions.registry import MODEL_NAMESPACE, REMEDY_BY_ID
from nimify_tui.kube.access import READ_ONLY_REASON
from nimify_tui.kube.records import PodRecord
from nimify_tui.live.keys import PODS, PROBES, PVCS, TLS_CERTIFICATES
from nimify_tui.ui.exec_shell import open_shell
from nimify_tui.ui.in_pod_steps import (
    IN_POD_IDS,
    run_in_pod_step,
    shell_binding,
    step_bindings,
    step_hint,
    step_key,
)
from nimify_tui.ui.navigation import no_deployment_why, owning_deployment
from nimify_tui.ui.panes.base import Pane
from nimify_tui.ui.panes.events import EventsPane
from nimify_tui.ui.panes.header import StatusHeader
from nimify_tui.ui.panes.health_strip import HealthStrip
from nimify_tui.ui.panes.latency import LatencyPane
from nimify_tui.ui.panes.models import ModelsPane
from nimify_tui.ui.panes.nodes import NodesPane
from nimify_tui.ui.panes.pods import PodsPane
from nimify_tui.ui.panes.runbook import NARROW_ROWS as NARROW_RUNBOOK_ROWS
from nimify_tui.ui.panes.runbook import RunbookPane
from nimify_tui.ui.remediation import offer, offer_fix, remedy_bindings
from nimify_tui.ui.screens.help import key_label
from nimify_tui.ui.widgets.escalation_banner import EscalationBanner
from nimify_tui.ui.widgets.key_footer import KeyFooter
from nimify_tui.ui.widgets.record_table import RecordTable

if TYPE_CHECKING:
    from nimify_tui.ui.app import NimifyApp

# Until the first data of the tables is in (the runtime's first sources), each source's first load is shown as soon
# as it lands rather than at the next refresh (every 0.5 s): checked this often, for at most that long.
FIRST_LOAD_CHECK_S = 0.02
FIRST_LOAD_WATCH_S = 15.0
NARROW_WIDTH = 120
NARROW_HEIGHT = 32
PANE_ORDER = ("pods-pane", "events-pane", "nodes-pane", "models-pane", "latency-pane")
FIX_KEY = "f"  # the top diagnosis's fix; rebound by the id "fix"
# the footer shows the focused pane's keys first: its actions, and the remedies acting on what its rows are
PANE_KEYS: dict[str, frozenset[str]] = {
    "runbook-pane": frozenset({"fix", "zoom"}),
    "pods-pane": frozenset({"fix", "logs", "previous_logs", "describe", "yaml", "shell", "filter", "faulty_only"}),
    "events-pane": frozenset({"describe", "yaml", "logs", "warnings_only"}),
    "nodes-pane": frozenset({"describe", "yaml"}),
    "models-pane": frozenset({"describe", "yaml"}),
    "latency-pane": frozenset({"zoom"}),
}
PANE_REMEDY_TARGETS: dict[str, frozenset[str]] = {
    "pods-pane": frozenset({"deployment", "pod", "pvc"}),
    "nodes-pane": frozenset({"node"}),
    "models-pane": frozenset({"model"}),
}


class MainScreen(Screen[None]):
    """Everything the runbook's first fifteen minutes ask for, live."""

    BINDINGS = [
        Binding("enter", "drill", "Open", show=False, id="drill"),
        Binding(FIX_KEY, "fix", "Fix", id="fix"),
        Binding("l", "logs", "Logs", id="logs"),
        Binding("p", "previous_logs", "Prev logs", id="previous-logs"),
        Binding("d", "describe", "Describe", id="describe"),
        Binding("y", "yaml", "YAML", id="yaml"),
        shell_binding(),  # k9s' s: a shell in the selected pod
        Binding("slash", "filter", "Filter", id="filter"),
        Binding("colon", "jump", "Jump", id="jump"),
        Binding("w", "warnings_only", "Warnings", id="warnings-only"),
        Binding("ctrl+z", "faulty_only", "Faulty", id="faulty-only"),
        Binding("N", "next_namespace", "Namespace", id="next-namespace"),
        Binding("1", "pane(0)", "Pods", show=False),
        Binding("2", "pane(1)", "Events", show=False),
        Binding("3", "pane(2)", "Nodes", show=False),
        Binding("4", "pane(3)", "Models", show=False),
        Binding("5", "pane(4)", "Latency", show=False),
        Binding("0", "runbook", "Runbook", show=False, id="runbook"),
        Binding("z", "zoom", "Zoom", id="zoom"),
        Binding("V", "verify", "Verify", id="verify"),
        Binding("c", "status_update", "Status update", id="status-update"),
        Binding("a", "acknowledge", "Acknowledge", show=False, id="acknowledge"),
        Binding("E", "escalation_criteria", "Escalation", id="escalation-criteria"),
        *remedy_bindings(),
        *step_bindings(),
        Binding("escape", "back", "Back", show=False),
    ]

    # Textual's Screen repaints itself whole whenever the focus moves; the widgets that gain and lose the focus
    # restyle and repaint themselves anyway, so this screen does without that repaint (tens of ms per key).
    focused: Reactive[Widget | None] = Reactive(None, repaint=False)

    def __init__(self) -> None:
        super().__init__()
        self.prompt_mode = ""  # "filter" or "jump" while the prompt is open
        self.active_pane = "pods-pane"
        self.zoomed: str | None = None  # the one pane shown, when one is
        self._first_loads: tuple[int, ...] = ()
        self._first_load_until = 0.0
        self._first_load_timer: Timer | None = None

    @property
    def nimify(self) -> NimifyApp:
        return self.app  # type: ignore[return-value]

    def compose(self) -> ComposeResult:
        yield StatusHeader(id="header")
        yield EscalationBanner(id="escalation-banner")
        yield HealthStrip(id="health")
        yield RunbookPane()
        shown = self.nimify.namespace_shown
        namespace = None if shown == "all" else shown
        with Horizontal(id="body"):
            with Vertical(id="left"):
                yield PodsPane(namespace)
                yield EventsPane(namespace)
            with Vertical(id="right"):
                yield NodesPane()
                yield ModelsPane()
                yield LatencyPane()
        yield Input(id="prompt", classes="-hidden")
        yield KeyFooter()

    def on_mount(self) -> None:
        self.query_one("#pods-table").focus()
        self.set_interval(0.5, self.refresh_panes)
        self.set_interval(2.0, lambda: self.refresh_panes(force=True))
        self.refresh_panes(force=True)
        if self.nimify.start_sources:
            self._first_load_until = time.monotonic() + FIRST_LOAD_WATCH_S
            self._first_load_timer = self.set_interval(FIRST_LOAD_CHECK_S, self._show_first_loads)

    def _show_first_loads(self) -> None:
        """Refresh as soon as a source of the tables has its first data (or failed to get it)."""
        if time.monotonic() > self._first_load_until:
            self._stop_first_loads()
            return
        if not self.is_current:
            return  # a dialog is on top: shown once this screen is back
        store = self.nimify.runtime.store
        first = self.nimify.runtime.first_sources
        loaded = tuple(sum(health.loaded for health in store.health_of(prefix)) for prefix in first)
        if loaded != self._first_loads:
            self._first_loads = loaded
            self.refresh_panes()
        if store.have_loaded(first):
            self._stop_first_loads()

    def _stop_first_loads(self) -> None:
        if self._first_load_timer is not None:
            self._first_load_timer.stop()
            self._first_load_timer = None
            # Everything made so far (modules, widgets, the first lists) lives for the session: out of the cycle
            # collector's sight, a full collection scans what came since instead of everything (100+ ms pauses).
            # The launcher turned the collector off for the start: it runs from now on.
            gc.freeze()
            gc.enable()

    # --- refresh ------------------------------------------------------------------------------------------
    def panes(self) -> list[Pane]:
        return list(self.query(Pane))

    def refresh_panes(self, force: bool = False) -> None:
        store = self.nimify.runtime.store
        now = self.nimify.clock()
        try:
            for pane in self.panes():
                pane.refresh_from(store, now, force=force)
            probes = store.value(PROBES)
            self.query_one(HealthStrip).show(probes if probes is not None else ())
            runbook = self.query_one(RunbookPane)
            runbook.spare_rows = self._spare_rows(runbook)
            findings, diagnoses, unusable = self.nimify.findings, self.nimify.diagnoses, self.unusable_keys()
            steps = step_hint(findings, diagnoses, self.nimify.settings.keymap.keys, unusable)
            runbook.show(findings, diagnoses, self.fix_key(), unusable, steps)
            self.query_one(StatusHeader).show(self.nimify.header_info(), now)
            self.show_escalations()
        except NoMatches:  # a timer fired while the screen is being taken down
            return

    def _spare_rows(self, runbook: RunbookPane) -> int:
        """In a narrow terminal, the rows the one table shown would leave empty below the runbook pane's share:
        the checks take them before the table does."""
        if not self.has_class("-narrow") or self.has_class("-zoomed"):
            return 0
        tables = self.query_one(f"#{self.active_pane}", Pane).query(RecordTable)
        if not tables:
            return 0
        parts = [self.query_one(f"#{part}") for part in ("header", "escalation-banner", "health")]
        above = sum(part.outer_size.height for part in parts if part.display) + 1  # +footer
        body = self.size.height - above - NARROW_RUNBOOK_ROWS
        return max(0, body - (tables.first().row_count + 3))  # the table's rows, its header and border

    def on_resize(self, event: Resize) -> None:
        narrow = event.size.width < NARROW_WIDTH or event.size.height < NARROW_HEIGHT
        was_narrow = self.has_class("-narrow")
        self.set_class(narrow, "-narrow")
        if narrow:
            self.show_only(self.active_pane)
        elif was_narrow:
            self.show_only(None)
        self.query_one(RunbookPane).refit()

    # --- the incident: escalation prompts, criteria, status updates -------------------------------------------
    def show_escalations(self) -> None:
        desk = self.nimify.incident
        keys = self.nimify.settings.keymap.keys
        ack, update = (
            key_label(keys.get(i, k).split(",")[0]) for i, k in (("acknowledge", "a"), ("status-update", "c"))
        )
        self.query_one(EscalationBanner).show(desk.tracker.escalations.open(), desk.reminder_due, ack, update)

    def action_acknowledge(self) -> None:
        prompt = self.nimify.incident.acknowledge()
        if prompt is None:
            self.notify("No escalation to acknowledge.")
        else:
            self.notify(f"Acknowledged (journaled): escalate to {prompt.who}, {prompt.why}.", markup=False)
        self.show_escalations()

    def action_escalation_criteria(self) -> None:
        from nimify_tui.ui.screens.escalation_criteria import EscalationCriteriaScreen

        self.app.push_screen(EscalationCriteriaScreen())

    def action_status_update(self) -> None:
        from nimify_tui.ui.screens.status_update import StatusUpdateScreen

        self.app.push_screen(StatusUpdateScreen(), lambda _: self.show_escalations())

    def show_only(self, pane_id: str | None) -> None:
        """One pane fills the body (narrow terminals, zoom); None shows them all again."""
        self.zoomed = pane_id
        for pane in self.query(Pane):
            pane.display = pane_id is None or pane.id == pane_id
        for column in self.query("#left, #right"):
            column.display = any(child.display for child in column.query(Pane))

    def on_descendant_focus(self) -> None:
        """Mark the pane holding the focus (a class on two panes, not a restyle of the whole screen). The prompt
        is in no pane: the pane it works on stays marked."""
        focused = self.focused_pane()
        if focused is not None:
            self._mark_active(focused)
        elif isinstance(self.focused, RunbookPane):
            for pane in self.query(Pane):
                pane.remove_class("-active")

    def _mark_active(self, active: Pane) -> None:
        for pane in self.query(Pane):
            pane.set_class(pane is active, "-active")

    # --- selection helpers ----------------------------------------------------------------------------------
    def focused_pane(self) -> Pane | None:
        widget = self.focused
        while widget is not None and not isinstance(widget, Pane):
            widget = widget.parent  # type: ignore[assignment]
        return widget

    def selected_pod(self) -> tuple[str, str] | None:
        pane = self.focused_pane()
        if isinstance(pane, PodsPane):
            return pane.selected_pod()
        return None

    # --- actions --------------------------------------------------------------------------------------------
    @on(RecordTable.RowSelected)
    def row_selected(self, event: RecordTable.RowSelected) -> None:
        event.stop()
        self.action_drill()

    def action_drill(self) -> None:
        pane = self.focused_pane()
        if isinstance(pane, PodsPane):
            selected = pane.selected_pod()
            if selected:
                self.nimify.open_pod(*selected)
        elif isinstance(pane, NodesPane):
            node = pane.selected_node()
            if node:
                self.nimify.open_node(node)
        elif isinstance(pane, ModelsPane):
            model = pane.selected_model()
            if model:
                self.nimify.open_model(model)
        elif isinstance(pane, EventsPane):
            key = pane.table.selected_key
            if key:
                self.nimify.open_event_object(key)
        elif isinstance(pane, LatencyPane):
            model = pane.model_to_open(self.nimify.runtime.store)
            if model:
                self.nimify.open_model(model)
            else:
                self.notify("No model has served requests yet.", severity="warning")

    def _on_row(self, tab: str, previous: bool = False) -> None:
        """d, y, l, p on the selected row of the focused pane: a pod, a node, an event's object, a model."""
        pane, nimify = self.focused_pane(), self.nimify
        if isinstance(pane, PodsPane):
            selected = pane.selected_pod()
            if selected is None:
                self.notify("No pod selected.", severity="warning")
            elif tab == "logs":
                nimify.open_logs(*selected, previous=previous)
            else:
                nimify.open_pod(*selected, tab=tab)
        elif isinstance(pane, NodesPane):
            node = pane.selected_node()
            if tab == "logs":
                self.notify("Nodes have no logs: l is for pods.", severity="warning")
            elif node:
                nimify.open_node(node, tab)
        elif isinstance(pane, EventsPane):
            key = pane.table.selected_key
            if key:
                nimify.open_event_object(key, tab, previous=previous)
        elif isinstance(pane, ModelsPane):
            model = pane.selected_model()
            if tab == "logs":
                self.notify("Models have no logs: Triton's pods do (1, then l).", severity="warning")
            elif model:
                nimify.open_model(model, "stats" if tab == "describe" else "config")
        else:
            self.notify("d, y, l work on a row of panes 1-4.", severity="warning")

    def action_logs(self) -> None:
        self._on_row("logs")

    def action_previous_logs(self) -> None:
        self._on_row("logs", previous=True)

    def action_describe(self) -> None:
        self._on_row("describe")

    def action_yaml(self) -> None:
        self._on_row("yaml")

    def action_warnings_only(self) -> None:
        pane = self.query_one(EventsPane)
        pane.warnings_only = not pane.warnings_only
        pane.refresh_from(self.nimify.runtime.store, self.nimify.clock(), force=True)

    def action_faulty_only(self) -> None:
        pane = self.query_one(PodsPane)
        pane.faulty_only = not pane.faulty_only
        pane.refresh_from(self.nimify.runtime.store, self.nimify.clock(), force=True)

    def action_next_namespace(self) -> None:
        namespaces: list[str | None] = [*self.nimify.runtime.options.namespaces, None]
        pods = self.query_one(PodsPane)
        index = namespaces.index(pods.namespace) if pods.namespace in namespaces else -1
        self.set_namespace(namespaces[(index + 1) % len(namespaces)])

    def set_namespace(self, namespace: str | None) -> None:
        for pane in (self.query_one(PodsPane), self.query_one(EventsPane)):
            pane.namespace = namespace
            pane.refresh_from(self.nimify.runtime.store, self.nimify.clock(), force=True)
        self.nimify.namespace_shown = namespace or "all"

    def action_pane(self, index: int) -> None:
        self.active_pane = PANE_ORDER[index]
        pane = self.query_one(f"#{self.active_pane}", Pane)
        if self.zoomed is not None:
            self.show_only(self.active_pane)
        self._mark_active(pane)  # now, in the same frame as the focus, not when the focus event comes back
        tables = pane.query(RecordTable)
        self.set_focus(tables.first() if tables else pane)  # now: Widget.focus() would wait for a later message

    def action_runbook(self) -> None:
        """Focus the runbook pane (0): its lines scroll with the arrows."""
        runbook = self.query_one(RunbookPane)
        for pane in self.query(Pane):
            pane.remove_class("-active")
        if self.has_class("-zoomed"):
            self.action_zoom()
        self.set_focus(runbook)

    def action_zoom(self) -> None:
        """The focused pane alone below the header (the health strip, the runbook pane and the other panes
        hidden); the runbook pane when it has the focus; again: back."""
        runbook = self.query_one(RunbookPane)
        if self.has_class("-zoomed"):
            self.remove_class("-zoomed", "-zoom-runbook")
            self.show_only(self.active_pane if self.has_class("-narrow") else None)
            runbook.refit()
            return
        if isinstance(self.focused, RunbookPane):
            self.add_class("-zoomed", "-zoom-runbook")
            runbook.refit()
            return
        pane = self.focused_pane() or self.query_one(f"#{self.active_pane}", Pane)
        self.active_pane = pane.id or self.active_pane
        self.add_class("-zoomed")
        self.show_only(self.active_pane)

    def action_back(self) -> None:
        prompt = self.query_one("#prompt", Input)
        if not prompt.has_class("-hidden"):
            self._close_prompt()
            return
        pods = self.query_one(PodsPane)
        if pods.filter_text:
            pods.filter_text = ""
            pods.refresh_from(self.nimify.runtime.store, self.nimify.clock(), force=True)
            return
        if self.has_class("-zoomed"):
            self.action_zoom()

    # --- remediation: the runbook's fixes, each through the guarded modal ---------------------------------
    def fix_key(self) -> str:
        """The key of the top diagnosis's fix in the keymap in effect (its first, when it has several)."""
        return key_label(self.nimify.settings.keymap.keys.get("fix", FIX_KEY).split(",")[0])

    def remedy_key(self, remedy: str) -> str:
        """The remedy's key in the keymap in effect (its first, when it has several)."""
        return key_label(self.nimify.settings.keymap.keys.get(remedy, REMEDY_BY_ID[remedy].key).split(",")[0])

    def unusable_keys(self) -> frozenset[str]:
        """The keys of the remedies the session may use nowhere, and the fix's key in a read-only session: the
        hints do not name them."""
        refused = {self.remedy_key(r.id) for r in REMEDY_BY_ID.values() if self.nimify.remedy_refused_everywhere(r.id)}
        if self.nimify.remedy_refusal("", self.nimify.settings.namespace) == READ_ONLY_REASON:
            refused.add(self.fix_key())
        keymap = self.nimify.settings.keymap.keys
        refused |= {step_key(keymap, s) for s in IN_POD_IDS - {SHELL_ID} if self.nimify.remedy_refused_everywhere(s)}
        return frozenset(refused)

    def action_fix(self) -> None:
        offer_fix(self.nimify, self.nimify.diagnoses)

    def action_verify(self) -> None:
        """V: the runbook's Recovery Verification now, its checklist shown as it runs."""
        from nimify_tui.ui.screens.recovery import RecoveryScreen, verify_now

        verify_now(self.nimify)
        self.app.push_screen(RecoveryScreen())

    def footer_rank(self, action: str) -> int | None:
        """The focused pane's keys first in the footer (0), the others after (1); none while the prompt is open
        (what is typed goes to it)."""
        if self.prompt_mode:
            return None
        remedy = REMEDY_BY_ID.get(action.removeprefix("remedy('").removesuffix("')"))
        focused = self.focused_pane()
        pane = "runbook-pane" if isinstance(self.focused, RunbookPane) else (focused.id if focused else "")
        first = PANE_KEYS.get(pane or "", frozenset())
        targets = PANE_REMEDY_TARGETS.get(pane or "", frozenset())
        return 0 if action in first or (remedy is not None and remedy.target in targets) else 1

    def footer_dimmed(self, action: str) -> bool:
        """A remedy's key is shown dimmed when the session may not use it in any watched namespace; pressed, it
        says why."""
        remedy = action.removeprefix("remedy('").removesuffix("')")
        if action == "shell" or action.startswith("in_pod_step("):
            return self.nimify.remedy_refused_everywhere(action.removeprefix("in_pod_step('").removesuffix("')"))
        return remedy in REMEDY_BY_ID and self.nimify.remedy_refused_everywhere(remedy)

    def action_shell(self) -> None:
        """!: a shell in the selected pod's container, the TUI suspended meanwhile."""
        pod = self.selected_pod_record()
        if pod is None:
            self.notify("Select a pod in the pods pane first.", severity="warning")
            return
        open_shell(self.nimify, pod.namespace, pod.name)

    def action_in_pod_step(self, step: str) -> None:
        """One of the runbook's in-pod steps (D, B, M, H, I, K), in its modal."""
        run_in_pod_step(self.nimify, step)

    def action_remedy(self, remedy: str) -> None:
        if self.nimify.remedy_refused_everywhere(remedy):
            namespace = self.nimify.settings.namespace
            why = self.nimify.remedy_refusal(remedy, namespace) or "not allowed in any watched namespace"
            title = REMEDY_BY_ID[remedy].title
            self.notify(f"{self.remedy_key(remedy)} ({title}): not available: {why}", severity="warning", markup=False)
            return
        self._remedy_on_selection(remedy)

    def _remedy_on_selection(self, remedy: str) -> None:
        target = REMEDY_BY_ID[remedy].target
        if target == "deployment":
            selected = self.selected_pod_record()
            deployment = owning_deployment(self.nimify.runtime, selected) if selected is not None else None
            if selected is None:
                self.notify("Select a pod of the deployment in the pods pane first.", severity="warning")
                return
            if deployment is None:
                self.notify(no_deployment_why(self.nimify.runtime, selected), severity="warning", markup=False)
                return
            offer(self.nimify, remedy, deployment.namespace, deployment.name, container=selected.default_container)
        elif target == "pod":
            pod = self.selected_pod_record()
            if pod is None:
                self.notify("Select a pod in the pods pane first.", severity="warning")
                return
            offer(self.nimify, remedy, pod.namespace, pod.name)
        elif target == "model":
            model = self.query_one(ModelsPane).selected_model()
            if not model:
                self.notify("Select a model in the models pane first (4).", severity="warning")
                return
            offer(self.nimify, remedy, MODEL_NAMESPACE, model)
        elif target == "node":
            node = self.query_one(NodesPane).selected_node()
            if not node:
                self.notify("Select a node in the nodes pane first (3).", severity="warning")
                return
            offer(self.nimify, remedy, "", node)
        elif target == "pvc":
            namespace = self.query_one(PodsPane).namespace or self.nimify.settings.namespace
            claims = [p.name for p in self.nimify.runtime.store.items(PVCS) if p.namespace == namespace]
            if not claims:
                self.notify(f"No PVC in {namespace}.", severity="warning", markup=False)
                return
            name = "model-storage" if "model-storage" in claims else sorted(claims)[0]
            offer(self.nimify, remedy, namespace, name)
        elif target == "secret":
            self._offer_tls_secret(remedy)
        else:
            offer(self.nimify, remedy, self.nimify.settings.namespace, "nimify-config")

    def _offer_tls_secret(self, remedy: str) -> None:
        """The ingresses' TLS secret whose certificate ends first (an expired one first of all)."""
        certificates = self.nimify.runtime.store.value(TLS_CERTIFICATES) or {}
        read = [c for c in certificates.values() if c.not_after is not None]
        if not read:
            self.notify("No ingress TLS certificate read (no TLS ingress, or not allowed).", severity="warning")
            return
        first = min(read, key=lambda c: c.not_after or 0.0)
        offer(self.nimify, remedy, first.namespace, first.secret)

    def selected_pod_record(self) -> PodRecord | None:
        selected = self.query_one(PodsPane).selected_pod()
        return self.nimify.runtime.store.get(PODS, selected) if selected else None

    # --- the prompt: `/` filter and `:` jump --------------------------------------------------------------
    def action_filter(self) -> None:
        if self.active_pane != "pods-pane":  # the filter is the pods pane's: show what it filters
            self.action_pane(PANE_ORDER.index("pods-pane"))
        self._open_prompt("filter", "filter pods: regex, !inverts (enter applies, esc clears)")

    def action_jump(self) -> None:
        self._open_prompt(
            "jump", ":pods :events :nodes :models :deploy NAME :svc :ep :ing :pvc :pv :netpol :config :ns NAME|all"
        )

    def _open_prompt(self, mode: str, placeholder: str) -> None:
        prompt = self.query_one("#prompt", Input)
        self.prompt_mode = mode
        prompt.placeholder = placeholder
        prompt.value = self.query_one(PodsPane).filter_text if mode == "filter" else ""
        prompt.remove_class("-hidden")
        prompt.focus()

    def _close_prompt(self) -> None:
        prompt = self.query_one("#prompt", Input)
        prompt.add_class("-hidden")
        self.prompt_mode = ""
        self.action_pane(PANE_ORDER.index(self.active_pane))

    @on(Input.Changed, "#prompt")
    def prompt_changed(self, event: Input.Changed) -> None:
        if self.prompt_mode == "filter":
            self.nimify.answering_user()  # a filter pasted comes without keys
            pods = self.query_one(PodsPane)
            pods.filter_text = event.value
            pods.refresh_from(self.nimify.runtime.store, self.nimify.clock(), force=True)

    @on(Input.Submitted, "#prompt")
    def prompt_submitted(self, event: Input.Submitted) -> None:
        mode = self.prompt_mode
        self._close_prompt()
        if mode == "jump":
            self.nimify.jump(event.value.strip())
        elif mode == "filter" and self.query_one(PodsPane).filter_note:
            self.notify(self.query_one(PodsPane).filter_note, severity="warning")
