"""The executor of the app's thread workers (snapshots, actions, in-pod steps, describe): one that does not hold
the quit.

On quit, asyncio waits for its default executor to finish the work it runs, without a limit (Python 3.11). A
snapshot asking an API server that answered a minute late held the quit for minutes, the screen already gone. This
executor's shutdown cancels what has not started and leaves what runs to end with the process; the command then
ends the process without waiting for those threads (``cli._end_process``), once the journal is closed.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor


class QuitWithoutWaiting(ThreadPoolExecutor):
    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        super().shutdown(wait=False, cancel_futures=True)
