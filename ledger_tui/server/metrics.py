"""Counters for ``GET /metrics`` in the Prometheus text format (no client library needed).

Labels are route templates, never raw paths or values, so the number of series stays fixed.
"""

from __future__ import annotations

import time
from collections import defaultdict

Labels = tuple[tuple[str, str], ...]

HELP = {
    "ledger_http_requests_total": "HTTP requests answered, by method, route and status",
    "ledger_http_request_seconds_total": "Seconds spent answering requests, by route",
    "ledger_http_requests_in_flight": "Requests being answered now",
    "ledger_entry_sets_total": "Entry sets submitted, by outcome (recorded, duplicate, rejected, conflict)",
    "ledger_entries_recorded_total": "Entries (legs) newly recorded",
    "ledger_store_unavailable_total": "Requests that found the store unavailable",
    "ledger_request_timeouts_total": "Requests that ran past their time limit",
    "ledger_uptime_seconds": "Seconds since the server started",
}


class Metrics:
    """Monotonic counters and one gauge, rendered on demand."""

    def __init__(self) -> None:
        self._values: dict[str, dict[Labels, float]] = defaultdict(lambda: defaultdict(float))
        self.in_flight = 0
        self._started = time.monotonic()

    def count(self, name: str, amount: float = 1, **labels: str) -> None:
        """Add ``amount`` to the counter ``name`` with ``labels``."""
        self._values[name][tuple(sorted(labels.items()))] += amount

    def value(self, name: str, **labels: str) -> float:
        """The current value of one series (0 if never counted)."""
        return self._values.get(name, {}).get(tuple(sorted(labels.items())), 0.0)

    def observe_request(self, method: str, route: str, status: int, seconds: float) -> None:
        """Count one answered request and its duration."""
        self.count("ledger_http_requests_total", method=method, route=route, status=str(status))
        self.count("ledger_http_request_seconds_total", seconds, route=route)

    def render(self) -> str:
        """Every series in the Prometheus text exposition format."""
        series = {name: dict(values) for name, values in self._values.items()}
        series["ledger_http_requests_in_flight"] = {(): float(self.in_flight)}
        series["ledger_uptime_seconds"] = {(): round(time.monotonic() - self._started, 3)}
        lines: list[str] = []
        for name in sorted(series):
            kind = "counter" if name.endswith("_total") else "gauge"
            lines += [f"# HELP {name} {HELP.get(name, name)}", f"# TYPE {name} {kind}"]
            for labels, value in sorted(series[name].items()):
                text = ",".join(f'{key}="{_escape(val)}"' for key, val in labels)
                shown = int(value) if float(value).is_integer() else value
                lines.append(f"{name}{{{text}}} {shown}" if text else f"{name} {shown}")
        return "\n".join(lines) + "\n"


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
