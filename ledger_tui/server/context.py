"""What a route needs from the app: the engine, the counters and the limits."""

from __future__ import annotations

from fastapi import Request

from ..engine import Engine
from .metrics import Metrics
from .settings import ServerSettings


def engine_of(request: Request) -> Engine:
    """The engine every route calls (the server's only way to the ledger)."""
    engine: Engine = request.app.state.engine
    return engine


def metrics_of(request: Request) -> Metrics:
    """The server's counters."""
    metrics: Metrics = request.app.state.metrics
    return metrics


def settings_of(request: Request) -> ServerSettings:
    """The server's limits."""
    settings: ServerSettings = request.app.state.settings
    return settings
