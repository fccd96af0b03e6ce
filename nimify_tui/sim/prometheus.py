"""The simulated in-cluster Prometheus: its health endpoints, the scrape targets it discovers
(``/api/v1/targets``) and the ``up`` series of those targets through its query API (``/api/v1/query``).

Targets come from the world (``targets``: the pods Prometheus' Kubernetes discovery finds, each with whether its
metrics port answers now); they are scraped every ``SCRAPE_INTERVAL_S`` of simulated time, so a target's health
is what its last scrape saw, as in a real Prometheus. The query API evaluates the ``up`` metric with equality
matchers only (``up{job="nimify-api"}``); any other expression is answered with Prometheus' own ``bad_data``
error rather than a made-up value.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone

from nimify_tui.sim.contract import HTTPReply, WorldView
from nimify_tui.sim.prom_rules import SimAlertRules

SCRAPE_INTERVAL_S = 5.0
SCRAPE_DURATION_S = 0.004
_TEXT = "text/plain; charset=utf-8"
_SELECTOR = re.compile(r"\s*up\s*(?:\{(?P<matchers>[^}]*)\})?\s*")
_MATCHER = re.compile(r'\s*(?P<name>[a-zA-Z_][a-zA-Z0-9_]*)\s*=\s*"(?P<value>(?:[^"\\]|\\.)*)"\s*')


@dataclass(frozen=True)
class ScrapeTarget:
    """One pod Prometheus scrapes: its job, where, and whether its metrics port answers now."""

    job: str
    namespace: str
    pod: str
    ip: str
    port: int
    answers: bool

    @property
    def instance(self) -> str:
        return f"{self.ip}:{self.port}"

    @property
    def labels(self) -> dict[str, str]:
        return {"instance": self.instance, "job": self.job, "namespace": self.namespace, "pod": self.pod}


@dataclass(frozen=True)
class _Scraped:
    target: ScrapeTarget
    at: float
    up: bool


def _rfc3339(t: float) -> str:
    return datetime.fromtimestamp(t, timezone.utc).isoformat(timespec="microseconds").replace("+00:00", "Z")


def _json(status: int, payload: object) -> HTTPReply:
    return HTTPReply(status, json.dumps(payload, separators=(",", ":")).encode())


def _bad_data(message: str) -> HTTPReply:
    return _json(400, {"status": "error", "errorType": "bad_data", "error": message})


class PrometheusSim:
    """See the module docstring."""

    def __init__(self, world: WorldView, targets: Callable[[], list[ScrapeTarget]]) -> None:
        self._world = world
        self._targets = targets
        self._scraped: list[_Scraped] = []
        self._next_scrape = 0.0
        self.rules: SimAlertRules | None = None  # the rule manager, when the world gives it one

    def tick(self, dt: float) -> None:
        self._scrape_when_due()
        if self.rules is not None:
            self.rules.tick(dt)

    def nimify_api_up(self) -> list[tuple[Mapping[str, str], bool]]:
        """Each nimify-api target's labels and whether its last scrape answered (what ``up`` says)."""
        return [(s.target.labels, s.up) for s in self._scraped if s.target.job == "nimify-api"]

    def _scrape_when_due(self) -> None:
        now = self._world.now()
        if now < self._next_scrape:
            return
        self._scraped = [_Scraped(target, now, target.answers) for target in self._targets()]
        self._next_scrape = now + SCRAPE_INTERVAL_S

    async def handle(self, method: str, port: int, path: str, query: dict[str, str], body: bytes) -> HTTPReply:
        text = {"/-/healthy": "Prometheus Server is Healthy.\n", "/-/ready": "Prometheus Server is Ready.\n"}
        if path in text and method in ("GET", "HEAD"):
            return HTTPReply(200, text[path].encode(), _TEXT)
        if path == "/api/v1/targets" and method == "GET":
            self._scrape_when_due()
            return self._targets_reply(query.get("state", "any"))
        if path in ("/api/v1/rules", "/api/v1/alerts") and method == "GET" and self.rules is not None:
            return self.rules.rules_reply() if path == "/api/v1/rules" else self.rules.alerts_reply()
        if path == "/api/v1/query" and method in ("GET", "POST"):
            self._scrape_when_due()
            return self._query_reply(query.get("query", ""))
        return HTTPReply(404, b"404 page not found\n", _TEXT)

    def _targets_reply(self, state: str) -> HTTPReply:
        active = [self._target_json(scraped) for scraped in self._scraped] if state in ("any", "active", "") else []
        return _json(200, {"status": "success", "data": {"activeTargets": active, "droppedTargets": []}})

    def _target_json(self, scraped: _Scraped) -> dict[str, object]:
        target = scraped.target
        url = f"http://{target.instance}/metrics"
        error = "" if scraped.up else f'Get "{url}": dial tcp {target.instance}: connect: connection refused'
        return {
            "discoveredLabels": {
                "__address__": target.instance,
                "__meta_kubernetes_namespace": target.namespace,
                "__meta_kubernetes_pod_name": target.pod,
                "__metrics_path__": "/metrics",
                "__scheme__": "http",
                "job": target.job,
            },
            "labels": target.labels,
            "scrapePool": target.job,
            "scrapeUrl": url,
            "globalUrl": url,
            "lastError": error,
            "lastScrape": _rfc3339(scraped.at),
            "lastScrapeDuration": SCRAPE_DURATION_S,
            "health": "up" if scraped.up else "down",
            "scrapeInterval": f"{SCRAPE_INTERVAL_S:g}s",
            "scrapeTimeout": f"{SCRAPE_INTERVAL_S:g}s",
        }

    def _query_reply(self, expression: str) -> HTTPReply:
        if not expression.strip():
            return _bad_data('invalid parameter "query": unknown position: parse error: no expression found in input')
        matched = _SELECTOR.fullmatch(expression)
        if matched is None:
            return _bad_data(f'invalid parameter "query": the simulated Prometheus evaluates only up: {expression}')
        wanted: dict[str, str] = {}
        for part in filter(str.strip, (matched.group("matchers") or "").split(",")):
            matcher = _MATCHER.fullmatch(part)
            if matcher is None:
                return _bad_data(f'invalid parameter "query": unsupported matcher: {part.strip()}')
            wanted[matcher.group("name")] = matcher.group("value")
        now = self._world.now()
        result: list[dict[str, object]] = [
            {"metric": {"__name__": "up", **scraped.target.labels}, "value": [now, "1" if scraped.up else "0"]}
            for scraped in self._scraped
            if all(scraped.target.labels.get(name) == value for name, value in wanted.items())
        ]
        return _json(200, {"status": "success", "data": {"resultType": "vector", "result": result}})
