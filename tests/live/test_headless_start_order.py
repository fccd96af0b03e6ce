"""The headless triage starts the scrape with the pods lists and Triton (its report waits for their second rounds),
and the other sources once the scrape's first round is in; the TUI starts it with the other sources, after what its
first frame shows; a context switch starts over with a fresh view of the API server's reach."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from nimify_tui.config import load_settings
from nimify_tui.kube.client import ClusterIdentity, KubeClient
from nimify_tui.kube.transport import no_transport
from nimify_tui.live.runtime import Runtime, RuntimeOptions
from nimify_tui.triage.headless import runtime_options


def _client() -> KubeClient:
    identity = ClusterIdentity("ctx", "cluster", "https://127.0.0.1:1", "user", "nimify-system")
    return KubeClient(no_transport(identity.server), identity, readonly=True)


def _names(makers: list[Callable[[], Coroutine[Any, Any, None]]]) -> list[str]:
    names = []
    for make in makers:
        coroutine = make()
        names.append(getattr(coroutine, "__qualname__", ""))
        coroutine.close()  # never started
    return names


def test_the_headless_triage_scrapes_first_and_the_tui_later() -> None:
    settings = load_settings({}, {}, None)
    headless = Runtime(_client(), runtime_options(settings))
    assert headless.options.first_sources_wait_s > 0, "the other sources wait for the first ones"
    first, later = _names(headless.first_pollers()), _names(headless.later_pollers())
    assert "scrape_loop" in first and "triton_loop" in first and "scrape_loop" not in later
    assert "metrics" in headless.first_sources, "the others wait for the scrape's first round too"

    tui = Runtime(_client(), RuntimeOptions())
    first, later = _names(tui.first_pollers()), _names(tui.later_pollers())
    assert first == ["triton_loop"] and "scrape_loop" in later
    assert "metrics" not in tui.first_sources
    assert len(_names(headless.first_pollers() + headless.later_pollers())) == len(first) + len(later)


def test_a_context_switch_forgets_that_the_old_server_did_not_answer() -> None:
    runtime = Runtime(_client(), RuntimeOptions(kinds=()))  # no informer: nothing here reaches a server
    runtime.start()
    try:
        runtime.api_server.unreachable("connection refused")
        assert runtime.api_server.problem() is not None
        runtime.switch_client(_client())
        assert runtime.api_server.problem() is None, "the new cluster's panes are not blocked by the old one's state"
        assert runtime._api_server_problem() is None
    finally:
        runtime.stop()
