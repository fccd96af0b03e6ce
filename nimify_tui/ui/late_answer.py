"""A worker's answer that reaches a screen closed meanwhile is dropped, not raised.

A worker (a thread) hands what it found to its screen with ``call_from_thread``. When the screen was closed in the
meantime (esc while a rollout is followed, a dry run or a tab still loading), Textual takes its views down before
the screen itself: ``is_attached`` still says yes, and looking a view up raises ``NoMatches``. Raised there, it fails
the worker, and a failed worker ends the app. The screen's method that shows the answer is marked with
:func:`dropped_once_closed`: on a screen closed or being closed, the answer goes nowhere; on a screen still showing
its views, a view that is not found is a bug, and is raised.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, Concatenate, ParamSpec, TypeVar

from textual.css.query import NoMatches
from textual.screen import Screen

S = TypeVar("S", bound=Screen[Any])
P = ParamSpec("P")


def closing(screen: Screen[Any]) -> bool:
    """Whether the screen is closed or being closed: detached, or taken down (Textual's ``display`` says False
    for a node being removed or closed: a screen is never hidden otherwise), or its views already gone."""
    return not screen.is_attached or not screen.display or not screen.children


def dropped_once_closed(method: Callable[Concatenate[S, P], None]) -> Callable[Concatenate[S, P], None]:
    """``method`` (a screen's, showing a worker's answer) does nothing once the screen is closing."""

    def shown(screen: S, /, *args: P.args, **kwargs: P.kwargs) -> None:
        if closing(screen):
            return
        try:
            method(screen, *args, **kwargs)
        except NoMatches:
            if not closing(screen):
                raise

    functools.update_wrapper(shown, method)
    return shown
