"""The people side of an incident: severity, the outage clock, escalation, and status updates (no UI here)."""
