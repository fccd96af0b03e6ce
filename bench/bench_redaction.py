"""Benchmark: the journal's redaction rules on long adversarial texts (runs of what the rules look for), where a
regular expression that backtracks would take minutes.

Prints the median time per text over several runs and the total.

Usage: python bench/bench_redaction.py [--runs 5]
"""

from __future__ import annotations

import argparse
import statistics
import time

from nimify_tui.journal.redact import Redactor

TEXTS = {
    "'a-' x 50,000": "a-" * 50_000,
    "'a:' x 50,000": "a:" * 50_000,
    "'x://a:' x 20,000": "x://a:" * 20_000,
    "'token=' x 20,000": "token=" * 20_000,
    "'eyJa.' x 20,000": "eyJa." * 20_000,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    redactor = Redactor()
    redactor.register("registered-value")
    timings: dict[str, list[float]] = {name: [] for name in TEXTS}
    for _ in range(args.runs):
        for name, text in TEXTS.items():
            started = time.perf_counter()
            redactor.scrub_text(text)
            timings[name].append(time.perf_counter() - started)
    for name, runs in timings.items():
        each = ", ".join(f"{run * 1000:.1f}" for run in runs)
        print(f"{name:<20} {statistics.median(runs) * 1000:8.1f} ms  (runs: {each})")
    total = sum(statistics.median(runs) for runs in timings.values())
    print(f"{'all five':<20} {total * 1000:8.1f} ms")


if __name__ == "__main__":
    main()
