"""``nvidia-smi`` in a simulated container: the GPUs the pod was given (``nvidia.com/gpu``), as the world's GPU
model has them now (utilization, memory, temperature, power), in nvidia-smi's table, ``-L``, or
``--query-gpu=... --format=csv[,noheader][,nounits]``. A container given no GPU has no nvidia-smi (the NVIDIA
runtime mounts it only into GPU containers); a GPU that fell off the bus answers as NVML does (exit 15)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from nimify_tui.sim.contract import SimGPU
from nimify_tui.sim.k8s.shell_result import NOT_FOUND, Result

if TYPE_CHECKING:
    from nimify_tui.sim.k8s.shell import Shell

DRIVER = "550.127.05"
CUDA = "12.4"
GPU_LOST = 15  # nvidia-smi's exit status for a GPU that fell off the bus
RULE = "+" + "-" * 89 + "+"
SPLIT = "|" + "-" * 41 + "+" + "-" * 24 + "+" + "-" * 22 + "+"
DOUBLE = "|" + "=" * 41 + "+" + "=" * 24 + "+" + "=" * 22 + "|"
BOTTOM = "+" + "-" * 41 + "+" + "-" * 24 + "+" + "-" * 22 + "+"


def _fields(gpu: SimGPU, index: int) -> dict[str, tuple[str, str]]:
    """The query fields of the container's GPU ``index`` (a container numbers its GPUs from 0): name -> (value,
    unit)."""
    return {
        "index": (str(index), ""),
        "name": (gpu.model_name, ""),
        "uuid": (gpu.uuid, ""),
        "pci.bus_id": (gpu.pci_bus_id, ""),
        "utilization.gpu": (f"{round(gpu.utilization_pct)}", "%"),
        "memory.used": (f"{round(gpu.memory_used_mib)}", "MiB"),
        "memory.total": (f"{gpu.memory_total_mib}", "MiB"),
        "memory.free": (f"{gpu.memory_total_mib - round(gpu.memory_used_mib)}", "MiB"),
        "temperature.gpu": (f"{round(gpu.temperature_c)}", ""),
        "power.draw": (f"{gpu.power_w:.2f}", "W"),
        "power.limit": (f"{gpu.power_limit_w:.2f}", "W"),
    }


def _query(gpus: list[SimGPU], fields: list[str], format_: str) -> Result:
    options = format_.split(",")
    if options[0] != "csv":
        return Result(err=f'"{format_}" is not a valid format.\n', code=2)
    known = _fields(gpus[0], 0)
    for name in fields:
        if name not in known:
            return Result(err=f'Field "{name}" is not a valid field to query.\n\n', code=2)
    units = "nounits" not in options
    lines = []
    if "noheader" not in options:
        lines.append(", ".join(f"{name} [{known[name][1]}]" if units and known[name][1] else name for name in fields))
    for index, gpu in enumerate(gpus):
        values = _fields(gpu, index)
        lines.append(", ".join(" ".join(values[n]) if units and values[n][1] else values[n][0] for n in fields))
    return Result(out="".join(f"{line}\n" for line in lines))


def _table(gpus: list[SimGPU], now: float) -> str:
    stamp = dt.datetime.fromtimestamp(now, dt.timezone.utc)
    lines = [f"{stamp:%a %b} {stamp.day:>2} {stamp:%H:%M:%S %Y}       ", RULE]
    head = f" NVIDIA-SMI {DRIVER}             Driver Version: {DRIVER}     CUDA Version: {CUDA}"
    lines += [f"|{head.ljust(89)}|", SPLIT]
    lines += [
        "| GPU  Name                 Persistence-M | Bus-Id          Disp.A | Volatile Uncorr. ECC |",
        "| Fan  Temp   Perf          Pwr:Usage/Cap |           Memory-Usage | GPU-Util  Compute M. |",
        "|                                         |                        |               MIG M. |",
        DOUBLE,
    ]
    for number, gpu in enumerate(gpus):
        name = f"{number:>4}  {gpu.model_name}"
        power = f"{round(gpu.power_w):>4}W / {round(gpu.power_limit_w):>4}W"
        lines += [
            f"|{name.ljust(37)}On  |{gpu.pci_bus_id:>19} Off |{'0':>21} |",
            f"| N/A  {round(gpu.temperature_c):>3}C    P0{power.rjust(24)} |"
            f"{round(gpu.memory_used_mib):>8}MiB / {gpu.memory_total_mib:>6}MiB |"
            f"{round(gpu.utilization_pct):>7}%      Default |",
            f"|{'':41}|{'':24}|{'Disabled':>21} |",
            BOTTOM,
        ]
    lines += [
        " " * 91,
        RULE,
        f"|{' Processes:'.ljust(89)}|",
        f"|{'  GPU   GI   CI        PID   Type   Process name                              GPU Memory '.ljust(89)}|",
        f"|{'        ID   ID                                                               Usage      '.ljust(89)}|",
        "|" + "=" * 89 + "|",
        f"|{'  No running processes found'.ljust(89)}|",
        RULE,
    ]
    return "\n".join(lines) + "\n"


async def nvidia_smi(shell: Shell, args: list[str], stdin: str) -> Result:
    gpus = sorted(shell.run.gpus, key=lambda g: g.index)
    if not gpus:
        return Result(err=shell.not_found("nvidia-smi"), code=NOT_FOUND)
    lost = next((gpu for gpu in gpus if not gpu.healthy), None)
    if lost is not None:
        message = f"Unable to determine the device handle for GPU{lost.pci_bus_id}: GPU is lost.  Reboot the system"
        return Result(err=f"{message} to recover this GPU\n", code=GPU_LOST)
    if "-L" in args:
        return Result(out="".join(f"GPU {i}: {g.model_name} (UUID: {g.uuid})\n" for i, g in enumerate(gpus)))
    query = next((arg.split("=", 1)[1] for arg in args if arg.startswith("--query-gpu=")), None)
    if query is not None:
        format_ = next((arg.split("=", 1)[1] for arg in args if arg.startswith("--format=")), "")
        if not format_:
            return Result(err="Option --format must be specified with --query-gpu.\n", code=2)
        return _query(gpus, [name.strip() for name in query.split(",") if name.strip()], format_)
    return Result(out=_table(gpus, shell.world.now()))


GPU_COMMANDS: dict[str, Callable[[Shell, list[str], str], Awaitable[Result]]] = {"nvidia-smi": nvidia_smi}
