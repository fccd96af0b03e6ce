"""The world side of the simulator's contract (what the simulated Triton, nimify-api and DCGM exporter ask of the
world), as plain fields a test sets: the clock it moves, the traffic it offers, the GPUs it holds; no pod is ready."""

from __future__ import annotations

from dataclasses import dataclass, field

from nimify_tui.sim.contract import SimGPU, Traffic

CLOCK_START = 1_700_000_000.0


def steady_traffic(api_ready_replicas: int = 1) -> Traffic:
    """40 requests a second offered to nimify-api's ready replicas, one Triton replica ready."""
    return Traffic(offered_rps=40.0, api_ready_replicas=api_ready_replicas, triton_ready_replicas=1)


@dataclass
class PlainWorld:
    clock: float = CLOCK_START
    load: Traffic = field(default_factory=Traffic)
    gpu_list: list[SimGPU] = field(default_factory=list)

    def now(self) -> float:
        return self.clock

    def traffic(self) -> Traffic:
        return self.load

    def gpus(self) -> list[SimGPU]:
        return self.gpu_list

    def ready_pods(self, namespace: str, app: str) -> list[str]:
        return []
