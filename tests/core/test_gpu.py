"""GPU records from DCGM exporter and Triton metrics (real captures), local NVML, and the merged view."""

from __future__ import annotations

import re
import sys
import types
from typing import Any

import pytest

from nimify_tui.gpu.dcgm import gpus_from_dcgm
from nimify_tui.gpu.merge import merge_gpu_readings
from nimify_tui.gpu.nvml import read_local_gpus
from nimify_tui.gpu.records import GpuProcess, GpuReading, GpuRecord
from nimify_tui.gpu.triton_gpu import gpus_from_triton
from nimify_tui.metrics.scrape import parse_metrics

from ..conftest import real_text

L4_UUID = "GPU-eb752903-92d0-70ff-08d5-365d7186302b"


# -- DCGM exporter -------------------------------------------------------------------------------------------


def test_dcgm_exporter_capture_of_an_l4_under_load() -> None:
    [gpu] = gpus_from_dcgm(parse_metrics(real_text("dcgm/dcgm_sample.txt"), at=0.0))
    assert gpu == GpuRecord(
        node="127.0.0.1",
        index=0,
        uuid=L4_UUID,
        name="NVIDIA L4",
        util_pct=100.0,
        mem_used_mib=1550.0,
        mem_total_mib=1550.0 + 21013.0 + 470.0,  # used + free + reserved
        temp_c=65.0,
        power_w=72.264,
        power_limit_w=None,
        last_xid=0,  # the XID window counter is there and says none
        pod=None,
        namespace=None,
        container=None,
        source="dcgm",
    )


def test_dcgm_kubernetes_attribution_labels_new_and_old() -> None:
    text = real_text("dcgm/dcgm_sample_k8s_labels.txt")
    [gpu] = gpus_from_dcgm(parse_metrics(text, at=0.0))
    assert (gpu.node, gpu.pod, gpu.namespace, gpu.container) == (
        "ip-11111",
        "ray-1111111",
        "ray-llm",
        "ray-worker",
    )
    assert (gpu.uuid, gpu.name, gpu.index, gpu.util_pct, gpu.last_xid) == (
        "GPU-abc",
        "NVIDIA A10G",
        0,
        None,
        None,
    )
    old_names = {
        "pod": "pod_name",
        "namespace": "pod_namespace",
        "container": "container_name",
        "Hostname": "hostname",
    }
    old = re.sub(r'([{,])(pod|namespace|container|Hostname)="', lambda m: f'{m[1]}{old_names[m[2]]}="', text)
    assert "pod_name=" in old and "hostname=" in old and ",pod=" not in old
    [old_gpu] = gpus_from_dcgm(parse_metrics(old, at=0.0))
    assert (old_gpu.node, old_gpu.pod, old_gpu.namespace, old_gpu.container) == (
        "ip-11111",
        "ray-1111111",
        "ray-llm",
        "ray-worker",
    )


def dcgm_line(metric: str, gpu: int, value: float, **labels: str) -> str:
    base = {
        "gpu": str(gpu),
        "UUID": f"GPU-{gpu}",
        "modelName": "NVIDIA H100 80GB HBM3",
        "Hostname": "gpu-node-1",
    }
    text = ",".join(f'{key}="{val}"' for key, val in {**base, **labels}.items())
    return f"{metric}{{{text}}} {value}"


def test_dcgm_several_gpus_xids_power_limits_and_a_shared_gpu() -> None:
    text = "\n".join(
        [
            "# TYPE DCGM_FI_DEV_GPU_UTIL gauge",
            dcgm_line("DCGM_FI_DEV_GPU_UTIL", 1, 35),
            dcgm_line("DCGM_FI_DEV_GPU_UTIL", 0, 97, pod="", namespace="", container=""),
            dcgm_line("DCGM_FI_DEV_GPU_UTIL", 0, 97, pod="triton-0", namespace="triton-system", container="triton"),
            "# TYPE DCGM_FI_DEV_FB_USED gauge",
            dcgm_line("DCGM_FI_DEV_FB_USED", 0, 70000),
            "# TYPE DCGM_FI_DEV_FB_TOTAL gauge",
            dcgm_line("DCGM_FI_DEV_FB_TOTAL", 0, 81559),
            "# TYPE DCGM_FI_DEV_POWER_MGMT_LIMIT gauge",
            dcgm_line("DCGM_FI_DEV_POWER_MGMT_LIMIT", 0, 700),
            "# TYPE DCGM_FI_DEV_XID_ERRORS gauge",
            dcgm_line("DCGM_FI_DEV_XID_ERRORS", 0, 79),
            "# TYPE DCGM_FI_PROF_GR_ENGINE_ACTIVE gauge",
            dcgm_line("DCGM_FI_PROF_GR_ENGINE_ACTIVE", 2, 0.42),
            "# TYPE DCGM_EXP_XID_ERRORS_COUNT counter",
            dcgm_line("DCGM_EXP_XID_ERRORS_COUNT", 2, 1, xid="48", window_size_in_ms="300000"),
            dcgm_line("DCGM_EXP_XID_ERRORS_COUNT", 2, 3, xid="31", window_size_in_ms="300000"),
            "# TYPE go_goroutines gauge",
            "go_goroutines 12",
        ]
    )
    gpus = gpus_from_dcgm(parse_metrics(text + "\n", at=0.0))
    assert [gpu.index for gpu in gpus] == [0, 1, 2]
    first, second, third = gpus
    assert (first.pod, first.namespace, first.container) == ("triton-0", "triton-system", "triton")
    assert (first.util_pct, first.mem_used_mib, first.mem_total_mib) == (97, 70000, 81559)
    assert (first.power_limit_w, first.last_xid) == (700, 79)
    assert (second.pod, second.util_pct, second.last_xid) == (None, 35, None)
    assert third.util_pct == pytest.approx(42.0)  # from the profiling ratio when GPU_UTIL is not exported
    assert third.last_xid == 31  # the XID seen most often in the exporter's window
    assert {gpu.node for gpu in gpus} == {"gpu-node-1"}
    assert {gpu.node for gpu in gpus_from_dcgm(parse_metrics(text + "\n", at=0.0), node="node-a")} == {"node-a"}


# -- Triton metrics ------------------------------------------------------------------------------------------


def test_triton_gpu_metrics_of_a_p100() -> None:
    scrape = parse_metrics(real_text("triton/triton_metrics_sample_gpu_22.07.txt"), at=0.0)
    [gpu] = gpus_from_triton(scrape, "gpu-node-3", "triton-0", "triton-system")
    assert gpu == GpuRecord(
        node="gpu-node-3",
        index=None,
        uuid="GPU-a07dfe08-b87f-1f96-7083-07a26d0fa83e",
        name="",
        util_pct=0.0,
        mem_used_mib=699400192 / 1024**2,
        mem_total_mib=12288.0,
        temp_c=None,
        power_w=32.768,
        power_limit_w=250.0,
        last_xid=None,
        pod="triton-0",
        namespace="triton-system",
        container=None,
        source="triton",
    )


def test_cpu_only_triton_reports_no_gpu() -> None:
    scrape = parse_metrics(real_text("triton/triton_metrics_sample.txt"), at=0.0)
    assert gpus_from_triton(scrape, "cpu-node") == ()


# -- NVML ----------------------------------------------------------------------------------------------------


def test_without_a_driver_nvml_says_no_local_gpu() -> None:
    """The real nvidia-ml-py on this machine: it has no NVIDIA driver, so NVML cannot start."""
    reading = read_local_gpus("bastion")
    if reading.gpus:
        pytest.skip("this machine has a GPU")
    assert reading.source == "nvml"
    assert reading.error is not None and reading.error.startswith("no local GPU: ")
    assert len(reading.error) > len("no local GPU: ")  # and it says why


def test_without_nvidia_ml_py_there_is_no_local_gpu(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pynvml", None)
    reading = read_local_gpus("bastion")
    assert reading.gpus == ()
    assert reading.error is not None and "nvidia-ml-py is not installed" in reading.error


class FakeNvmlError(Exception):
    def __init__(self, value: int) -> None:
        super().__init__(value)
        self.value = value

    def __str__(self) -> str:
        return {3: "Not Supported", 9: "Driver Not Loaded", 13: "Function Not Found"}[self.value]


def fake_pynvml(
    devices: list[dict[str, Any]], *, init_error: int | None = None, temperature_v: str = "works"
) -> tuple[types.ModuleType, list[str]]:
    """A stand-in for nvidia-ml-py with GPUs: the one part no machine of the test suite has.

    ``temperature_v``: "works", "absent" (an old binding) or "no-driver-symbol" (an old driver).
    """
    calls: list[str] = []
    module = types.ModuleType("pynvml")
    handles = {index: object() for index in range(len(devices))}
    by_handle = {id(handle): devices[index] for index, handle in handles.items()}

    def device(handle: object) -> dict[str, Any]:
        return by_handle[id(handle)]

    def measured(key: str) -> Any:
        def read(handle: object, *_: Any) -> Any:
            value = device(handle)[key]
            if value is None:
                raise FakeNvmlError(3)
            return value

        return read

    def init() -> None:
        calls.append("init")
        if init_error is not None:
            raise FakeNvmlError(init_error)

    def temperature_v_call(handle: object, sensor: int) -> int:
        if temperature_v == "no-driver-symbol":
            raise FakeNvmlError(13)
        calls.append(f"temperature_v:{sensor}")
        return int(device(handle)["temp"])

    def temperature_call(handle: object, sensor: int) -> int:
        calls.append(f"temperature:{sensor}")
        return int(device(handle)["temp"])

    attributes: dict[str, Any] = {
        "NVMLError": FakeNvmlError,
        "NVML_TEMPERATURE_GPU": 0,
        "NVML_ERROR_FUNCTION_NOT_FOUND": 13,
        "nvmlInit": init,
        "nvmlShutdown": lambda: calls.append("shutdown"),
        "nvmlDeviceGetCount": lambda: len(devices),
        "nvmlDeviceGetHandleByIndex": lambda index: handles[index],
        "nvmlDeviceGetName": measured("name"),
        "nvmlDeviceGetUUID": measured("uuid"),
        "nvmlDeviceGetUtilizationRates": lambda h: types.SimpleNamespace(gpu=device(h)["util"], memory=0),
        "nvmlDeviceGetMemoryInfo": lambda h: types.SimpleNamespace(
            used=device(h)["used"], total=device(h)["total"], free=device(h)["total"] - device(h)["used"]
        ),
        "nvmlDeviceGetPowerUsage": measured("power_mw"),
        "nvmlDeviceGetEnforcedPowerLimit": measured("limit_mw"),
        "nvmlDeviceGetComputeRunningProcesses": lambda h: [
            types.SimpleNamespace(pid=pid, usedGpuMemory=used) for pid, used in device(h)["processes"]
        ],
        "nvmlDeviceGetTemperature": temperature_call,
    }
    if temperature_v != "absent":
        attributes["nvmlDeviceGetTemperatureV"] = temperature_v_call
    for name, value in attributes.items():
        setattr(module, name, value)
    return module, calls


H200 = {
    "name": "NVIDIA H200",
    "uuid": "GPU-0f1e2d3c",
    "util": 87,
    "used": 96 * 1024**3,
    "total": 141 * 1024**3,
    "temp": 61,
    "power_mw": 512_345,
    "limit_mw": 700_000,
    "processes": [(4242, 95 * 1024**3), (4243, None)],
}


def test_nvml_reads_every_local_gpu(monkeypatch: pytest.MonkeyPatch) -> None:
    old_card = {**H200, "name": b"Tesla T4", "uuid": b"GPU-77", "power_mw": None, "processes": []}
    module, calls = fake_pynvml([H200, old_card])
    monkeypatch.setitem(sys.modules, "pynvml", module)
    reading = read_local_gpus("gpu-node-1")
    assert reading.error is None
    first, second = reading.gpus
    assert first == GpuRecord(
        node="gpu-node-1",
        index=0,
        uuid="GPU-0f1e2d3c",
        name="NVIDIA H200",
        util_pct=87.0,
        mem_used_mib=96 * 1024.0,
        mem_total_mib=141 * 1024.0,
        temp_c=61.0,
        power_w=512.345,
        power_limit_w=700.0,
        last_xid=None,
        pod=None,
        namespace=None,
        container=None,
        source="nvml",
        processes=(GpuProcess(4242, 95 * 1024.0), GpuProcess(4243, None)),
    )
    assert (second.index, second.name, second.uuid, second.power_w) == (1, "Tesla T4", "GPU-77", None)
    assert calls[0] == "init" and calls[-1] == "shutdown"
    assert "temperature_v:0" in calls and not any(call.startswith("temperature:") for call in calls)


@pytest.mark.parametrize("temperature_v", ["absent", "no-driver-symbol"])
def test_nvml_falls_back_to_the_old_temperature_call_only_without_v(
    monkeypatch: pytest.MonkeyPatch, temperature_v: str
) -> None:
    module, calls = fake_pynvml([H200], temperature_v=temperature_v)
    monkeypatch.setitem(sys.modules, "pynvml", module)
    [gpu] = read_local_gpus("n").gpus
    assert gpu.temp_c == 61.0
    assert "temperature:0" in calls


def test_nvml_init_failure_and_no_device_are_no_local_gpu(monkeypatch: pytest.MonkeyPatch) -> None:
    module, _ = fake_pynvml([H200], init_error=9)
    monkeypatch.setitem(sys.modules, "pynvml", module)
    assert read_local_gpus("n") == GpuReading("nvml", (), "no local GPU: Driver Not Loaded")
    module, calls = fake_pynvml([])
    monkeypatch.setitem(sys.modules, "pynvml", module)
    assert read_local_gpus("n") == GpuReading("nvml", (), "no local GPU: NVML sees no device")
    assert calls == ["init", "shutdown"]


# -- the merged view -----------------------------------------------------------------------------------------


def gpu(node: str, uuid: str, source: Any, util: float = 50.0) -> GpuRecord:
    return GpuRecord(node, 0, uuid, "NVIDIA H100", util, 1.0, 2.0, None, None, None, None, None, None, None, source)


def test_best_source_per_node_and_why() -> None:
    view = merge_gpu_readings(
        [
            GpuReading("dcgm", (gpu("node-a", "GPU-1", "dcgm", 90.0),)),
            GpuReading("triton", (gpu("node-a", "GPU-1", "triton", 10.0), gpu("node-b", "GPU-2", "triton"))),
            GpuReading("triton", (gpu("node-b", "GPU-2", "triton"),)),  # a second Triton pod on the same GPU
            GpuReading("nvml", error="no local GPU: NVML Shared Library Not Found"),
        ],
        gpu_nodes=["node-a", "node-b", "node-c"],
    )
    a, b, c = view.nodes
    assert (a.node, a.source, [g.util_pct for g in a.gpus], a.note) == (
        "node-a",
        "dcgm",
        [90.0],
        "from DCGM exporter",
    )
    assert (b.source, len(b.gpus)) == ("triton", 1)
    assert b.note == "from Triton metrics (DCGM exporter: nothing for node node-b)"
    assert (c.source, c.gpus) == (None, ())
    assert c.note == (
        "no GPU data: DCGM exporter: nothing for node node-c; Triton metrics: nothing for node node-c; "
        "local NVML: no local GPU: NVML Shared Library Not Found"
    )
    assert view.summary == "GPU data from DCGM exporter (1 node(s)), Triton metrics (1 node(s))"


def test_no_gpu_data_anywhere_says_why_for_each_source() -> None:
    view = merge_gpu_readings(
        [
            GpuReading("dcgm", error="DCGM exporter unreachable: connection refused"),
            GpuReading("triton"),
        ]
    )
    assert view.nodes == ()
    assert view.summary == (
        "no GPU data: DCGM exporter: DCGM exporter unreachable: connection refused; "
        "Triton metrics: no nv_gpu_* series (CPU-only server or GPU metrics off); local NVML: not asked"
    )


def test_local_nvml_is_the_last_resort() -> None:
    view = merge_gpu_readings([GpuReading("dcgm"), GpuReading("nvml", (gpu("laptop", "GPU-9", "nvml"),))])
    [node] = view.nodes
    assert (node.node, node.source) == ("laptop", "nvml")
    assert node.note == ("from local NVML (DCGM exporter: no GPU series; Triton metrics: not asked)")
