"""The simulated dcgm-exporter: ``/metrics`` on port 9400 for the world's GPUs, in Kubernetes mode.

The shape follows dcgm-exporter: one family per DCGM field, labels ``gpu``, ``UUID``, ``pci_bus_id``,
``device``, ``modelName``, ``Hostname``, the driver version, then ``container``, ``namespace``, ``pod``
for a GPU that a pod holds. A GPU that fell off the bus (``healthy`` False) answers DCGM with blank
values, which the exporter skips: it reports only ``DCGM_FI_DEV_XID_ERRORS`` (its last XID, e.g. 79).
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from dataclasses import dataclass

from nimify_tui.sim.contract import HTTPReply, SimGPU, WorldView
from nimify_tui.sim.promtext import CONTENT_TYPE, PromTextWriter, six_decimals

PORT = 9400
DRIVER_VERSION = "550.90.07"
FB_RESERVED_MIB = 584
MEM_CLOCK_MHZ = 2619
SM_CLOCK_IDLE_MHZ = 345
SM_CLOCK_BOOST_MHZ = 1980


@dataclass(frozen=True)
class _Field:
    name: str
    kind: str
    help_text: str
    value: Callable[[SimGPU, float], float]  # (gpu, its energy counter in mJ) -> value


def _util(gpu: SimGPU) -> float:
    return min(max(gpu.utilization_pct, 0.0), 100.0)


def _sm_clock(gpu: SimGPU) -> int:
    return round(SM_CLOCK_IDLE_MHZ + (SM_CLOCK_BOOST_MHZ - SM_CLOCK_IDLE_MHZ) * min(_util(gpu) / 25.0, 1.0))


def _fb_free(gpu: SimGPU) -> int:
    return max(round(gpu.memory_total_mib - gpu.memory_used_mib) - FB_RESERVED_MIB, 0)


XID_FIELD = _Field(
    "DCGM_FI_DEV_XID_ERRORS", "gauge", "Value of the last XID error encountered", lambda g, _: g.last_xid
)

# dcgm-exporter's default counters, in its order; integer fields print as integers, others with six decimals.
FIELDS: tuple[_Field, ...] = (
    _Field("DCGM_FI_DEV_SM_CLOCK", "gauge", "SM clock frequency (in MHz)", lambda g, _: _sm_clock(g)),
    _Field("DCGM_FI_DEV_MEM_CLOCK", "gauge", "Memory clock frequency (in MHz)", lambda g, _: MEM_CLOCK_MHZ),
    _Field(
        "DCGM_FI_DEV_MEMORY_TEMP",
        "gauge",
        "Memory temperature (in C)",
        lambda g, _: round(g.temperature_c + 4),
    ),
    _Field("DCGM_FI_DEV_GPU_TEMP", "gauge", "GPU temperature (in C)", lambda g, _: round(g.temperature_c)),
    _Field("DCGM_FI_DEV_POWER_USAGE", "gauge", "Power draw (in W)", lambda g, _: float(g.power_w)),
    _Field(
        "DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION",
        "counter",
        "Total energy consumption since boot (in mJ)",
        lambda g, energy_mj: int(energy_mj),
    ),
    _Field("DCGM_FI_DEV_PCIE_REPLAY_COUNTER", "counter", "Total number of PCIe retries", lambda g, _: 0),
    _Field("DCGM_FI_DEV_GPU_UTIL", "gauge", "GPU utilization (in %)", lambda g, _: round(_util(g))),
    _Field("DCGM_FI_DEV_MEM_COPY_UTIL", "gauge", "Memory utilization (in %)", lambda g, _: round(_util(g) * 0.6)),
    _Field("DCGM_FI_DEV_ENC_UTIL", "gauge", "Encoder utilization (in %)", lambda g, _: 0),
    _Field("DCGM_FI_DEV_DEC_UTIL", "gauge", "Decoder utilization (in %)", lambda g, _: 0),
    XID_FIELD,
    _Field("DCGM_FI_DEV_FB_FREE", "gauge", "Framebuffer memory free (in MiB)", lambda g, _: _fb_free(g)),
    _Field(
        "DCGM_FI_DEV_FB_USED",
        "gauge",
        "Framebuffer memory used (in MiB)",
        lambda g, _: round(g.memory_used_mib),
    ),
    _Field(
        "DCGM_FI_DEV_UNCORRECTABLE_REMAPPED_ROWS",
        "counter",
        "Number of remapped rows for uncorrectable errors",
        lambda g, _: 0,
    ),
    _Field(
        "DCGM_FI_DEV_CORRECTABLE_REMAPPED_ROWS",
        "counter",
        "Number of remapped rows for correctable errors",
        lambda g, _: 0,
    ),
    _Field("DCGM_FI_DEV_ROW_REMAP_FAILURE", "gauge", "Whether remapping of rows has failed", lambda g, _: 0),
    _Field(
        "DCGM_FI_PROF_GR_ENGINE_ACTIVE",
        "gauge",
        "Ratio of time the graphics engine is active (in %).",
        lambda g, _: _util(g) / 100 * 0.97,
    ),
    _Field(
        "DCGM_FI_PROF_PIPE_TENSOR_ACTIVE",
        "gauge",
        "Ratio of cycles the tensor (HMMA) pipe is active (in %).",
        lambda g, _: _util(g) / 100 * 0.42,
    ),
    _Field(
        "DCGM_FI_PROF_DRAM_ACTIVE",
        "gauge",
        "Ratio of cycles the device memory interface is active sending or receiving data (in %).",
        lambda g, _: _util(g) / 100 * 0.55,
    ),
    _Field(
        "DCGM_FI_PROF_PCIE_TX_BYTES",
        "gauge",
        "The rate of data transmitted over the PCIe bus - including both protocol headers and data payloads"
        " - in bytes per second.",
        lambda g, _: round(_util(g) / 100 * 2.1e9),
    ),
    _Field(
        "DCGM_FI_PROF_PCIE_RX_BYTES",
        "gauge",
        "The rate of data received over the PCIe bus - including both protocol headers and data payloads"
        " - in bytes per second.",
        lambda g, _: round(_util(g) / 100 * 3.4e9),
    ),
)


def _labels(gpu: SimGPU) -> list[tuple[str, str]]:
    labels = [
        ("gpu", str(gpu.index)),
        ("UUID", gpu.uuid),
        ("pci_bus_id", gpu.pci_bus_id),
        ("device", f"nvidia{gpu.index}"),
        ("modelName", gpu.model_name),
        ("Hostname", gpu.node),
        ("DCGM_FI_DRIVER_VERSION", DRIVER_VERSION),
    ]
    if gpu.pod:
        labels += [("container", gpu.container or ""), ("namespace", gpu.namespace or ""), ("pod", gpu.pod)]
    return labels


def _boot_energy_mj(uuid: str) -> float:
    """A stable, GPU-specific energy total at the start: GPUs have been running before the simulation."""
    return 3.6e9 + zlib.crc32(uuid.encode()) % 1_000_000_000


class DcgmSim:
    """The exporter for every GPU of the world; :meth:`for_node` gives one node's exporter."""

    def __init__(self, world: WorldView) -> None:
        self._world = world
        self._energy_mj: dict[str, float] = {}

    def for_node(self, node_name: str) -> DcgmNodeExporter:
        return DcgmNodeExporter(self, node_name)

    def tick(self, dt: float) -> None:
        """Accumulate each reporting GPU's energy counter."""
        if dt <= 0:
            return
        for gpu in self._world.gpus():
            if gpu.healthy:
                self._energy_mj[gpu.uuid] = self._energy(gpu) + gpu.power_w * dt * 1000.0

    async def handle(self, method: str, port: int, path: str, query: dict[str, str], body: bytes) -> HTTPReply:
        return self.reply(port, path, node=None)

    def reply(self, port: int, path: str, node: str | None) -> HTTPReply:
        """The answer for ``port``/``path``, limited to one node's GPUs unless ``node`` is None."""
        if port != PORT:
            return HTTPReply(503, b"connection refused", "text/plain; charset=utf-8")
        if path != "/metrics":
            return HTTPReply(404, b"404 page not found\n", "text/plain; charset=utf-8")
        return HTTPReply(200, self.metrics_text(node), CONTENT_TYPE)

    def metrics_text(self, node: str | None = None) -> bytes:
        gpus = [gpu for gpu in self._world.gpus() if node is None or gpu.node == node]
        out = PromTextWriter(six_decimals)
        for field in FIELDS:
            out.family(field.name, field.kind, field.help_text)
            for gpu in gpus:
                if gpu.healthy or field is XID_FIELD:
                    out.sample(field.name, _labels(gpu), field.value(gpu, self._energy(gpu)))
        return out.text()

    def _energy(self, gpu: SimGPU) -> float:
        return self._energy_mj.get(gpu.uuid, _boot_energy_mj(gpu.uuid))


class DcgmNodeExporter:
    """The exporter pod of one node: serves only that node's GPUs; the shared :class:`DcgmSim` keeps time."""

    def __init__(self, dcgm: DcgmSim, node_name: str) -> None:
        self._dcgm = dcgm
        self.node_name = node_name

    async def handle(self, method: str, port: int, path: str, query: dict[str, str], body: bytes) -> HTTPReply:
        return self._dcgm.reply(port, path, node=self.node_name)

    def tick(self, dt: float) -> None:
        """Nothing to do: the counters advance once, in :meth:`DcgmSim.tick`."""
