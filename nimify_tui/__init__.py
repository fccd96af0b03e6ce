"""nimify-tui: live triage of Nimify Anything GPU inference outages."""

__version__ = "0.1.0"
