"""The live data of one session: the store, and the sources that fill it (informers, pollers, the triage).

Data flows one way: sources (threads and one asyncio loop) write immutable records and snapshots into the store
under typed keys (``keys.py``); the panes' row builders (``nimify_tui.render``) and the UI only read it.
"""
