"""Benchmark: the flight recorder's file size under the update storm (100 pod updates a second), per hour.

The recorder records every store key the panes read: the objects, the live sources' values (probes, Triton, the
latency series, alert states, GPUs, metrics API usage, ...) and each source's freshness; the share of each during
the storm is reported (JSON bytes before compression, by frame kind). When the patcher cannot deliver the rate asked
(a loaded machine), the hour at that rate is also estimated from what was measured.

The simulated cluster runs in its own process (``nimify-tui sim --pods N``), and so does the storm's patcher
(``bench_update_storm.py``'s: merge-patches of an annotation of the nimify-system pods, round robin, ``--rate`` a
second). This process runs the live sources (every informer and poller, as the TUI does) with the flight
recorder's decoders and its once-a-second thread writing ``flight.jsonl.gz``. Reported: the size after the first
lists (the whole watched state, written once), the growth during the storm in bytes a second, and that growth
over an hour plus the first frames (goal: under 20 MB an hour), with the frames written, the updates sent and the
recorder thread's CPU use during the storm (in cores: its redaction, diffs and compression).

Usage: python bench/bench_recorder.py [--seconds 60] [--rate 100] [--pods 100]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench_big_namespace import checkout_environment, start_sim, stop_sim

GOAL_MB_PER_HOUR = 20.0
SETTLE_S = 5.0  # after the first lists: the later sources load and the first frames are written


def measure(seconds: float, rate: float, pods: int) -> dict[str, float]:
    from nimify_tui.kube.client import KubeClient
    from nimify_tui.kube.records import DECODERS
    from nimify_tui.live.flight_recorder import FLIGHT_FILE_NAME, FlightRecorder
    from nimify_tui.live.runtime import Runtime, RuntimeOptions

    with tempfile.TemporaryDirectory(prefix="bench-recorder-") as name:
        folder = Path(name)
        kubeconfig = folder / "kubeconfig"
        sim = start_sim(pods, kubeconfig)
        try:
            client = KubeClient.from_kubeconfig(str(kubeconfig), "sim-admin")
            runtime = Runtime(client, RuntimeOptions())
            path = folder / FLIGHT_FILE_NAME
            recorder = FlightRecorder(path, runtime.store)
            runtime.options.decoders = recorder.decoders(DECODERS)
            runtime.start()
            recorder.start()
            time.sleep(SETTLE_S)  # a benchmark's pacing: the first lists and frames, then the storm
            first = path.stat().st_size
            frames_before, cpu_before = recorder.frames, recorder.cpu_s
            storm = [sys.executable, str(Path(__file__).parent / "bench_update_storm.py"), "--patcher"]
            storm += [str(kubeconfig), "--rate", str(rate), "--seconds", str(seconds)]
            started = time.perf_counter()
            tally = json.loads(
                subprocess.run(storm, capture_output=True, text=True, check=True, env=checkout_environment()).stdout
            )
            time.sleep(1.5)  # the last second's frame
            elapsed = time.perf_counter() - started
            grown = path.stat().st_size - first
            frames = recorder.frames - frames_before
            cpu = recorder.cpu_s - cpu_before
            recorder.close()
            runtime.stop()
            shares = storm_shares(path, storm_from=time.time() - elapsed)
        finally:
            stop_sim(sim)
    per_second = grown / elapsed
    delivered = tally["sent"] / elapsed
    return {
        "first_frames_bytes": first,
        "storm_bytes_per_s": per_second,
        "mb_per_hour": (first + per_second * 3600) / 1e6,
        "frames_during_storm": frames,
        "recorder_cpu_cores": cpu / elapsed,
        "updates_sent": tally["sent"],
        "updates_failed": tally["failed"],
        "seconds": elapsed,
        "storm_json_bytes_by_kind": shares,
        "updates_per_s_delivered": delivered,
        "mb_per_hour_at_the_rate_asked": at_rate(first, grown, shares, delivered, rate, elapsed),
    }


def at_rate(first: int, grown: int, shares: dict[str, int], delivered: float, rate: float, seconds: float) -> float:
    """An hour at ``rate`` updates a second when the patcher delivered fewer (a loaded machine): the pods' frames
    scaled to the rate asked, the rest (values, freshness, other kinds) as measured, compressed as measured."""
    total = sum(shares.values())
    if not total or not delivered:
        return float("nan")
    pods = shares.get("pods", 0) * rate / delivered
    json_per_s = (total - shares.get("pods", 0) + pods) / seconds
    return (first + json_per_s * grown / total * 3600) / 1e6


def storm_shares(path: Path, storm_from: float) -> dict[str, int]:
    """The frames' JSON bytes (before compression) written since ``storm_from``, by frame kind, largest first."""
    import orjson

    from nimify_tui.live.flight_recorder import read_recording

    sizes: dict[str, int] = {}
    for frame in read_recording(path).frames:
        if frame.at >= storm_from:
            line = {"put": frame.put, "patch": frame.patch, "del": frame.deleted}
            sizes[frame.kind] = sizes.get(frame.kind, 0) + len(orjson.dumps(line))
    return dict(sorted(sizes.items(), key=lambda item: -item[1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--rate", type=float, default=100.0)
    parser.add_argument("--pods", type=int, default=100)
    args = parser.parse_args()
    result = measure(args.seconds, args.rate, args.pods)
    result["goal_mb_per_hour"] = GOAL_MB_PER_HOUR
    result["met"] = result["mb_per_hour"] < GOAL_MB_PER_HOUR
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
