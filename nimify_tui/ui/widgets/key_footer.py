"""The key footer: one line of the keys that work here, redrawn only when that list changes.

Textual's Footer rebuilds a widget per key whenever the bindings may have changed (every focus move), which
restyles and lays out the screen: 300-500 ms per key press with busy tables. This footer is one widget that
draws one line (Textual's line API, made once per change of the keys); a focus move that leaves the keys as they
were costs nothing, and one that changes them repaints a single line. Keys the session may not use are dimmed; a
click on a key presses it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.screen import Screen
from textual.strip import Strip
from textual.widget import Widget

_DIM = Style(dim=True)
_PLAIN = Style()


@dataclass(frozen=True, slots=True)
class FooterKey:
    """One key as the footer shows it."""

    key: str
    display: str
    description: str
    enabled: bool
    pinned: bool  # kept visible at the right: help (whatever key the keymap gives it) and the command palette


class KeyFooter(Widget, can_focus=False):
    """The shown bindings of the current screen, on one line at the bottom."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {"key-footer--key", "key-footer--description"}

    DEFAULT_CSS = """
    KeyFooter {
        dock: bottom;
        height: 1;
        width: 1fr;
        color: $footer-foreground;
        background: $footer-background;
        & > .key-footer--key { color: $footer-key-foreground; background: $footer-key-background; text-style: bold; }
        & > .key-footer--description {
            color: $footer-description-foreground;
            background: $footer-description-background;
        }
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.keys: tuple[FooterKey, ...] = ()
        self._spans: list[tuple[int, int, FooterKey]] = []  # x range of each key on the line
        self._line: tuple[tuple[object, ...], Strip] | None = None  # the line drawn, and what it was made for

    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, self._bindings_changed)
        self._bindings_changed(self.screen)

    def on_unmount(self) -> None:
        self.screen.bindings_updated_signal.unsubscribe(self)

    def _bindings_changed(self, screen: Screen[object]) -> None:
        if not self.is_attached or screen is not self.screen:
            return
        keys = self.shown_keys()
        if keys != self.keys:
            self.keys = keys
            self.refresh()

    def shown_keys(self) -> tuple[FooterKey, ...]:
        """The keys to show, one per action: those the screen ranks first (the focused pane's) first, then in the
        order the screen gives them; the screen may leave some out (rank None) and dim others."""
        screen = self.screen
        rank: Callable[[str], int | None] = getattr(screen, "footer_rank", lambda action: 0)
        dimmed: Callable[[str], bool] = getattr(screen, "footer_dimmed", lambda action: False)
        keys: list[tuple[int, FooterKey]] = []
        seen: set[str] = set()
        for _node, binding, enabled, _tooltip in screen.active_bindings.values():
            if binding.action in seen or not (binding.show or binding.key == self._palette_key()):
                continue
            seen.add(binding.action)
            pinned = binding.id == "help" or binding.key in ("question_mark", self._palette_key())
            order = 0 if pinned else rank(binding.action)
            if order is None:
                continue
            display = self.app.get_key_display(binding)
            usable = enabled and not dimmed(binding.action)
            keys.append((order, FooterKey(binding.key, display, binding.description, usable, pinned)))
        return tuple(key for _order, key in sorted(keys, key=lambda item: item[0]))

    def _palette_key(self) -> str | None:
        return self.app.COMMAND_PALETTE_BINDING if self.app.ENABLE_COMMAND_PALETTE else None

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._line = None

    def render_line(self, y: int) -> Strip:
        """The keys from the left; help and the command palette kept visible at the right. The line is made when
        the keys, the width or the styles changed, and kept: a focus move repaints it without making it again."""
        width = self.size.width
        if y:
            return Strip.blank(width, self.rich_style)
        made_for = (self.keys, width)
        if self._line is None or self._line[0] != made_for:
            self._line = (made_for, self._make_line(width))
        return self._line[1]

    def _make_line(self, width: int) -> Strip:
        key_style = self.get_component_rich_style("key-footer--key")
        description_style = self.get_component_rich_style("key-footer--description")
        left = [item for item in self.keys if not item.pinned]
        right = sorted((item for item in self.keys if item.pinned), key=lambda item: item.key == self._palette_key())

        def assemble(items: list[FooterKey]) -> tuple[Strip, list[tuple[int, int, FooterKey]]]:
            """The keys as one strip, and where each one stands in it."""
            segments: list[Segment] = []
            spans = []
            end = 0
            for item in items:
                dim = _DIM if not item.enabled else _PLAIN
                key, description = f" {item.display} ", f"{item.description} "
                segments += [Segment(key, key_style + dim), Segment(description, description_style + dim)]
                begin, end = end, end + cell_len(key) + cell_len(description)
                spans.append((begin, end, item))
            return Strip(segments, end), spans

        pinned, pinned_spans = assemble(right)
        line, line_spans = assemble(left)
        room = visible = max(0, width - pinned.cell_length)
        if line.cell_length > room:
            visible = max(0, room - 2)
            line = Strip.join([line.crop(0, visible), Strip([Segment("… ", description_style)], 2)])
        line = line.extend_cell_length(room, self.rich_style)
        offset = line.cell_length
        self._spans = [(begin, min(end, visible), item) for begin, end, item in line_spans if begin < visible]
        self._spans += [(begin + offset, end + offset, item) for begin, end, item in pinned_spans]
        return Strip.join([line, pinned]).crop(0, width).extend_cell_length(width, self.rich_style)

    def on_click(self, event: events.Click) -> None:
        for start, end, item in self._spans:
            if start <= event.x < end:
                event.stop()
                self.app.simulate_key(item.key)  # a dimmed key says why it cannot be used
                return
