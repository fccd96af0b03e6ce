"""Faults the simulator injects on purpose, so that the app can be shown to survive them.

A plan is written as one line, ``NAME=VALUE`` items joined by commas (``none`` or an empty line: no fault):

=========================  ================================================================================
``api-latency=2s``         every API request is answered that much later
``429=0.1:retry-after=3``  that share of API requests is answered 429 Too Many Requests, Retry-After 3 s
                           (default 1 s)
``500=0.05``               that share of API requests is answered 500 Internal Server Error
``watch-end=30s``          every watch ends (cleanly) that long after it started
``watch-drop=0.1``         on each event a watch would send, that chance that the watch goes silent instead:
                           the connection stays open, nothing more is sent on it (the event is lost)
``watch-410=60s``          every 60 s the history is compacted: open watches get an ERROR 410 Expired event,
                           and resuming from an older resourceVersion is answered 410 too
``api-down=20s@40s``       40 s from now (``@`` part left out: at once) the API server stops listening for 20 s:
                           connections are refused, open ones are cut
``triton-flap=10s``        Triton is unreachable through the proxies for 10 s, then answers for 10 s, and so on
``nimify-api-flap=10s``    the same for nimify-api
``prom-slow=3s``           Prometheus answers that much later
=========================  ================================================================================

Durations take ``ms``, ``s`` or ``m`` (a bare number is seconds); shares are between 0 and 1. Times count from when
the plan was applied (the simulator's start, or the ``POST /sim/faults`` that set it).

This module is the whole of the injection: the servers ask it what to do (``FaultInjector``) at a few hooks.
"""

from __future__ import annotations

import random
import re
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from typing import Any

_DURATION = re.compile(r"^(\d+(?:\.\d+)?|\.\d+)(ms|s|m)?$")
_UNIT_S = {"ms": 0.001, "s": 1.0, "m": 60.0, None: 1.0}


class FaultSpecError(ValueError):
    """A fault plan that cannot be read; the message says which item and why, in one line."""


@dataclass(frozen=True)
class FaultPlan:
    """The faults to inject; the default injects none."""

    api_latency_s: float = 0.0
    throttled_share: float = 0.0  # answered 429
    retry_after_s: int = 1
    error_share: float = 0.0  # answered 500
    watch_end_s: float | None = None
    watch_drop_share: float = 0.0  # per event
    watch_expire_s: float | None = None  # compaction period: 410 on watch
    api_down_s: float | None = None
    api_down_after_s: float = 0.0
    triton_flap_s: float | None = None
    nimify_api_flap_s: float | None = None
    prom_slow_s: float = 0.0

    @property
    def empty(self) -> bool:
        return self == FaultPlan()

    def spec(self) -> str:
        """The plan written back in the syntax :func:`parse_faults` reads (``none`` for no fault)."""
        items: list[str] = []
        if self.api_latency_s:
            items.append(f"api-latency={_seconds(self.api_latency_s)}")
        if self.throttled_share:
            items.append(f"429={self.throttled_share:g}:retry-after={self.retry_after_s}")
        if self.error_share:
            items.append(f"500={self.error_share:g}")
        if self.watch_end_s is not None:
            items.append(f"watch-end={_seconds(self.watch_end_s)}")
        if self.watch_drop_share:
            items.append(f"watch-drop={self.watch_drop_share:g}")
        if self.watch_expire_s is not None:
            items.append(f"watch-410={_seconds(self.watch_expire_s)}")
        if self.api_down_s is not None:
            later = f"@{_seconds(self.api_down_after_s)}" if self.api_down_after_s else ""
            items.append(f"api-down={_seconds(self.api_down_s)}{later}")
        if self.triton_flap_s is not None:
            items.append(f"triton-flap={_seconds(self.triton_flap_s)}")
        if self.nimify_api_flap_s is not None:
            items.append(f"nimify-api-flap={_seconds(self.nimify_api_flap_s)}")
        if self.prom_slow_s:
            items.append(f"prom-slow={_seconds(self.prom_slow_s)}")
        return ",".join(items) or "none"

    def as_json(self) -> dict[str, Any]:
        return {"spec": self.spec(), **asdict(self)}


def _seconds(value: float) -> str:
    return f"{value * 1000:g}ms" if 0 < value < 1 else f"{value:g}s"


def parse_duration(text: str, what: str) -> float:
    match = _DURATION.match(text.strip())
    if match is None:
        raise FaultSpecError(f"{what}: {text!r} is not a duration (like 2s, 500ms or 1m)")
    return float(match.group(1)) * _UNIT_S[match.group(2)]


def _positive_duration(text: str, what: str) -> float:
    value = parse_duration(text, what)
    if value <= 0:
        raise FaultSpecError(f"{what}: must be more than 0")
    return value


def _share(text: str, what: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise FaultSpecError(f"{what}: {text!r} is not a share between 0 and 1") from None
    if not 0.0 <= value <= 1.0:
        raise FaultSpecError(f"{what}: {text!r} is not a share between 0 and 1")
    return value


def _throttle(value: str, options: dict[str, str], plan: FaultPlan) -> FaultPlan:
    retry_after = plan.retry_after_s
    for key, text in options.items():
        if key != "retry-after":
            raise FaultSpecError(f"429: unknown option {key!r} (known: retry-after)")
        if not text.isdigit() or int(text) < 0:
            raise FaultSpecError(f"429: retry-after {text!r} is not a whole number of seconds")
        retry_after = int(text)
    return replace(plan, throttled_share=_share(value, "429"), retry_after_s=retry_after)


def _api_down(value: str, plan: FaultPlan) -> FaultPlan:
    length, _, after = value.partition("@")
    down = _positive_duration(length, "api-down")
    return replace(plan, api_down_s=down, api_down_after_s=parse_duration(after, "api-down's @") if after else 0.0)


_SIMPLE: dict[str, Callable[[str, FaultPlan], FaultPlan]] = {
    "api-latency": lambda v, p: replace(p, api_latency_s=parse_duration(v, "api-latency")),
    "500": lambda v, p: replace(p, error_share=_share(v, "500")),
    "watch-end": lambda v, p: replace(p, watch_end_s=_positive_duration(v, "watch-end")),
    "watch-drop": lambda v, p: replace(p, watch_drop_share=_share(v, "watch-drop")),
    "watch-410": lambda v, p: replace(p, watch_expire_s=_positive_duration(v, "watch-410")),
    "api-down": lambda v, p: _api_down(v, p),
    "triton-flap": lambda v, p: replace(p, triton_flap_s=_positive_duration(v, "triton-flap")),
    "nimify-api-flap": lambda v, p: replace(p, nimify_api_flap_s=_positive_duration(v, "nimify-api-flap")),
    "prom-slow": lambda v, p: replace(p, prom_slow_s=parse_duration(v, "prom-slow")),
}
KNOWN_FAULTS = ("429", *_SIMPLE)


def parse_faults(spec: str) -> FaultPlan:
    """Read a fault plan (see the module's docstring); raises :class:`FaultSpecError` with one line."""
    plan = FaultPlan()
    text = spec.strip()
    if text in ("", "none"):
        return plan
    seen: set[str] = set()
    for item in text.split(","):
        item = item.strip()
        name, equals, rest = item.partition("=")
        name = name.strip()
        if not equals or not rest.strip():
            raise FaultSpecError(f"{item!r} is not NAME=VALUE (faults: {', '.join(KNOWN_FAULTS)})")
        if name in seen:
            raise FaultSpecError(f"{name} is given twice")
        seen.add(name)
        value, *option_texts = rest.strip().split(":")
        options: dict[str, str] = {}
        for option in option_texts:
            key, has_value, option_value = option.partition("=")
            if not has_value:
                raise FaultSpecError(f"{name}: option {option!r} is not KEY=VALUE")
            options[key.strip()] = option_value.strip()
        if name == "429":
            plan = _throttle(value, options, plan)
            continue
        if name not in _SIMPLE:
            raise FaultSpecError(f"unknown fault {name!r} (faults: {', '.join(KNOWN_FAULTS)})")
        if options:
            raise FaultSpecError(f"{name} takes no options")
        plan = _SIMPLE[name](value, plan)
    return plan


def plan_from_json(body: Any) -> FaultPlan:
    """A plan sent as JSON: ``{"spec": "..."}``."""
    if not isinstance(body, dict) or set(body) != {"spec"} or not isinstance(body["spec"], str):
        raise FaultSpecError('send the plan as text, or as JSON {"spec": "..."}')
    return parse_faults(body["spec"])


@dataclass(frozen=True)
class Refusal:
    """An API request answered with an error status instead of its answer."""

    status: int
    reason: str
    message: str
    retry_after_s: int | None = None


class FaultInjector:
    """The plan in force, and what it means now; the servers' hooks ask it. Belongs to the simulator's loop."""

    def __init__(
        self, plan: FaultPlan | None = None, *, seed: int | None = None, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._clock = clock
        self._rng = random.Random(seed)
        self.plan = FaultPlan()
        self.applied_at = clock()
        self.compactions = 0  # how many times watch-410 compacted the history
        self.silenced = 0  # how many watches watch-drop silenced
        self.set(plan or FaultPlan())

    def set(self, plan: FaultPlan) -> None:
        """Put ``plan`` in force from now on (its times count from now)."""
        self.plan = plan
        self.applied_at = self._clock()
        self._compaction_epoch = 0

    def elapsed(self) -> float:
        return self._clock() - self.applied_at

    # --- the API server ------------------------------------------------------------------------------------
    def api_down(self) -> bool:
        """Whether the API server must not listen now."""
        plan = self.plan
        if plan.api_down_s is None:
            return False
        elapsed = self.elapsed()
        return plan.api_down_after_s <= elapsed < plan.api_down_after_s + plan.api_down_s

    def refusal(self) -> Refusal | None:
        """Whether this API request is answered 429 or 500 instead (drawn per request)."""
        plan = self.plan
        if plan.throttled_share and self._rng.random() < plan.throttled_share:
            return Refusal(
                429,
                "TooManyRequests",
                "Too many requests, please try again later.",
                retry_after_s=plan.retry_after_s,
            )
        if plan.error_share and self._rng.random() < plan.error_share:
            return Refusal(500, "InternalError", "Internal error occurred: injected by the simulator's fault plan")
        return None

    def compaction_due(self) -> bool:
        """watch-410: True once per period (the caller compacts the history and cuts the open watches)."""
        period = self.plan.watch_expire_s
        if period is None:
            return False
        epoch = int(self.elapsed() // period)
        if epoch > self._compaction_epoch:
            self._compaction_epoch = epoch
            self.compactions += 1
            return True
        return False

    def watch_deadline(self, started: float, deadline: float) -> float:
        """When a watch started at ``started`` (monotonic) must end: watch-end cuts it short."""
        if self.plan.watch_end_s is None:
            return deadline
        return min(deadline, started + self.plan.watch_end_s)

    def watch_goes_silent(self) -> bool:
        """watch-drop: drawn for each event a watch is about to send."""
        share = self.plan.watch_drop_share
        silent = bool(share) and self._rng.random() < share
        self.silenced += silent
        return silent

    # --- the in-cluster servers behind the proxies ----------------------------------------------------------
    def unreachable(self, app: str) -> bool:
        """Whether ``app``'s servers (triton-server, nimify-api) refuse connections now: down first, then up."""
        period = {"triton-server": self.plan.triton_flap_s, "nimify-api": self.plan.nimify_api_flap_s}.get(app)
        if period is None:
            return False
        return int(self.elapsed() // period) % 2 == 0

    def answer_delay(self, app: str) -> float:
        """How much later ``app`` answers (Prometheus with prom-slow)."""
        return self.plan.prom_slow_s if app == "prometheus" else 0.0
