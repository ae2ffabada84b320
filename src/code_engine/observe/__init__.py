"""Observability of CODE itself: structured logs, Prometheus metrics, OpenTelemetry traces."""
