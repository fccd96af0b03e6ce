"""Only the kubeconfig loader's own errors refuse a context: an asyncio error or another thread's, logged while the
kubeconfig loads, is not the kubeconfig's problem (a CI run once failed a good context on "Task was destroyed")."""

from __future__ import annotations

import logging
import threading

from kubernetes.config import kube_config

from nimify_tui.kube.kubeconfig_check import exec_failures


def test_the_loaders_error_is_collected_and_nothing_else() -> None:
    with exec_failures() as failures:
        logging.getLogger("asyncio").error("Task was destroyed but it is pending!")
        other = threading.Thread(target=lambda: logging.error("an error of another thread"))
        other.start()
        other.join()
        logging.error("an error of this module, not of the loader")
        # what the loader itself does with a failing exec plugin: logging.error on the root logger, from its module
        record = logging.LogRecord("root", logging.ERROR, kube_config.__file__, 474, "exec: %s", ("boom",), None)
        logging.getLogger().handle(record)
    assert failures == ["exec: boom"]
