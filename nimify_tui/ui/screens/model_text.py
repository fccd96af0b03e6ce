"""The Triton model drill-down's tabs, from the runtime: the config asked from Triton, the statistics of the polls."""

from __future__ import annotations

from nimify_tui.live.keys import TRITON
from nimify_tui.live.runtime import Runtime
from nimify_tui.triton import model_text
from nimify_tui.triton.client import TritonClient, TritonEndpoint


def model_config_text(runtime: Runtime, model: str) -> str:
    endpoint = TritonEndpoint.of(runtime.endpoints.triton_http, runtime.client)
    with TritonClient(endpoint) as client:
        return model_text.model_config_text(client, model)


def model_stats_text(runtime: Runtime, model: str) -> str:
    return model_text.model_stats_text(runtime.store.value(TRITON), model)
