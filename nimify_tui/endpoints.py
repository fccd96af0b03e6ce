"""Where the in-cluster HTTP servers are: a URL given on the command line, else the API server's service proxy.

Through the proxy nothing but kubeconfig access is needed (the bastion-host case): the request carries the
kubeconfig's credentials and the API server forwards it to the service.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Endpoint:
    """One HTTP server: its base URL (no trailing slash) and whether it is reached through the API server."""

    name: str
    base_url: str
    via_proxy: bool

    def url(self, path: str) -> str:
        return self.base_url + (path if path.startswith("/") else "/" + path)


def service_proxy_url(server: str, namespace: str, service: str, port: int | str) -> str:
    return f"{server.rstrip('/')}/api/v1/namespaces/{namespace}/services/{service}:{port}/proxy"


def pod_proxy_url(server: str, namespace: str, pod: str, port: int | str) -> str:
    return f"{server.rstrip('/')}/api/v1/namespaces/{namespace}/pods/{pod}:{port}/proxy"


@dataclass(frozen=True)
class Endpoints:
    """Every in-cluster server the runbook checks."""

    api_http: Endpoint
    api_metrics: Endpoint
    triton_http: Endpoint
    triton_metrics: Endpoint
    prometheus: Endpoint
    prometheus_given: bool  # a --prometheus-url was given: PromQL is worth asking


def resolve_endpoints(
    server: str,
    *,
    nimify_namespace: str = "nimify-system",
    triton_namespace: str = "triton-system",
    monitoring_namespace: str = "monitoring",
    triton_url: str | None = None,
    triton_metrics_url: str | None = None,
    nimify_api_url: str | None = None,
    nimify_api_metrics_url: str | None = None,
    prometheus_url: str | None = None,
) -> Endpoints:
    def pick(name: str, given: str | None, namespace: str, service: str, port: int) -> Endpoint:
        if given:
            return Endpoint(name, given.rstrip("/"), via_proxy=False)
        return Endpoint(name, service_proxy_url(server, namespace, service, port), via_proxy=True)

    return Endpoints(
        api_http=pick("nimify-api", nimify_api_url, nimify_namespace, "nimify-api", 8000),
        api_metrics=pick("nimify-api metrics", nimify_api_metrics_url, nimify_namespace, "nimify-api", 9090),
        triton_http=pick("triton", triton_url, triton_namespace, "triton-server", 8000),
        triton_metrics=pick("triton metrics", triton_metrics_url, triton_namespace, "triton-server", 8002),
        prometheus=pick("prometheus", prometheus_url, monitoring_namespace, "prometheus", 9090),
        prometheus_given=bool(prometheus_url),
    )
