"""Notices (toasts) at 80x24 are drawn whole: a long refusal with a long path wraps inside the screen."""

from __future__ import annotations

from collections.abc import Callable

from textual.widgets._toast import Toast

from nimify_tui.sim.server import SimThread
from nimify_tui.ui.app import NimifyApp

from .conftest import drawn, until

LONG = (
    "Not available: not allowed: patch deployments.apps/scale in triton-system: no RBAC rule allows it "
    "(https://127.0.0.1:41234/apis/authorization.k8s.io/v1/selfsubjectaccessreviews/answered-by-the-webhook)"
)


async def test_a_long_notice_with_a_long_word_is_drawn_whole_at_80x24(
    healthy_sim: SimThread, app_factory: Callable[..., NimifyApp]
) -> None:
    app = app_factory(healthy_sim)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        app.notify(LONG, severity="warning", markup=False)
        toast = await until(pilot, lambda: next(iter(app.screen.query(Toast)), None), "the notice")
        await pilot.pause()
        assert toast.region.right <= 80 and toast.region.width >= 60, "inside the screen, and wide enough to read"
        lines = [line.replace("▌", "").strip() for line in drawn(toast)]
        assert "".join("".join(lines).split()) == "".join(LONG.split()), "every character drawn, long words folded"
