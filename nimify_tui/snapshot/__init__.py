"""Snapshots: the runbook's "Immediate Documentation" of an outage, taken in one go without a screen.

:func:`~nimify_tui.snapshot.take.take_snapshot` writes ``state.txt``, ``pods-describe.txt``, ``events.txt``,
``logs/``, ``triton.json``, ``metrics/``, ``triage.json`` and ``manifest.json`` into one folder.
"""
