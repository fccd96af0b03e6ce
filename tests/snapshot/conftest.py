"""The real kubectl, as the simulator's tests use it, and the app built as the UI tests build it."""

from tests.sim.conftest import kubectl_for
from tests.ui.conftest import app_factory

__all__ = ["app_factory", "kubectl_for"]
