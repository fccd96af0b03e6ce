"""The runbook's "Recovery Verification": health checks, monitoring verification and a light load test, run as
checks over HTTP (no Textual here)."""
