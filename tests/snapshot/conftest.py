"""The real kubectl, as the simulator's tests use it."""

from tests.sim.conftest import kubectl_for

__all__ = ["kubectl_for"]
