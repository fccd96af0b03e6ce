"""GPUs of the machine this runs on, through NVML (``nvidia-ml-py``, imported only when asked).

NVML sees local GPUs only: on a bastion host there are none, which is a normal answer, never an error.
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from types import ModuleType
from typing import Any

from nimify_tui.gpu.records import GpuProcess, GpuReading, GpuRecord

_MIB = 1024 * 1024


def _text(value: str | bytes) -> str:
    return value.decode(errors="replace") if isinstance(value, bytes) else value


def _optional(nvml: ModuleType, call: Callable[[], Any]) -> Any:
    """The call's result, or None when the device does not support it."""
    try:
        return call()
    except nvml.NVMLError:
        return None


def _temperature(nvml: ModuleType, handle: object) -> float | None:
    read_v = getattr(nvml, "nvmlDeviceGetTemperatureV", None)
    if read_v is not None:
        try:
            return float(read_v(handle, nvml.NVML_TEMPERATURE_GPU))
        except nvml.NVMLError as error:
            if getattr(error, "value", None) != nvml.NVML_ERROR_FUNCTION_NOT_FOUND:
                return None
    # The binding or the driver predates GetTemperatureV: the deprecated call is all there is.
    value = _optional(nvml, lambda: nvml.nvmlDeviceGetTemperature(handle, nvml.NVML_TEMPERATURE_GPU))
    return None if value is None else float(value)


def _device(nvml: ModuleType, index: int, node: str) -> GpuRecord:
    handle = nvml.nvmlDeviceGetHandleByIndex(index)
    utilization = _optional(nvml, lambda: nvml.nvmlDeviceGetUtilizationRates(handle))
    memory = _optional(nvml, lambda: nvml.nvmlDeviceGetMemoryInfo(handle))
    power_mw = _optional(nvml, lambda: nvml.nvmlDeviceGetPowerUsage(handle))
    limit_mw = _optional(nvml, lambda: nvml.nvmlDeviceGetEnforcedPowerLimit(handle))
    processes = _optional(nvml, lambda: nvml.nvmlDeviceGetComputeRunningProcesses(handle)) or []
    return GpuRecord(
        node=node,
        index=index,
        uuid=_text(nvml.nvmlDeviceGetUUID(handle)),
        name=_text(nvml.nvmlDeviceGetName(handle)),
        util_pct=None if utilization is None else float(utilization.gpu),
        mem_used_mib=None if memory is None else memory.used / _MIB,
        mem_total_mib=None if memory is None else memory.total / _MIB,
        temp_c=_temperature(nvml, handle),
        power_w=None if power_mw is None else power_mw / 1000,
        power_limit_w=None if limit_mw is None else limit_mw / 1000,
        last_xid=None,
        pod=None,
        namespace=None,
        container=None,
        source="nvml",
        processes=tuple(
            GpuProcess(p.pid, None if p.usedGpuMemory is None else p.usedGpuMemory / _MIB) for p in processes
        ),
    )


def read_local_gpus(node: str | None = None) -> GpuReading:
    """Read every local GPU; without a driver or a GPU, a reading whose ``error`` says "no local GPU" and why.

    ``node`` names this machine in the records (the host name by default).
    """
    try:
        import pynvml
    except ImportError as error:
        return GpuReading("nvml", error=f"no local GPU: nvidia-ml-py is not installed ({error})")
    try:
        pynvml.nvmlInit()
    except pynvml.NVMLError as error:
        return GpuReading("nvml", error=f"no local GPU: {error}")
    try:
        host = node or socket.gethostname()
        gpus = tuple(_device(pynvml, index, host) for index in range(pynvml.nvmlDeviceGetCount()))
    except pynvml.NVMLError as error:
        return GpuReading("nvml", error=f"NVML failed: {error}")
    finally:
        _optional(pynvml, pynvml.nvmlShutdown)
    if not gpus:
        return GpuReading("nvml", error="no local GPU: NVML sees no device")
    return GpuReading("nvml", gpus)
