"""The post-mortem draft of a recorded session: ``postmortem.md`` and a self-contained ``report.html``, written from
the session's journal (and its latency series and snapshots when present). Knows nothing of the TUI."""
