"""An httpx client on the ASGI app over a fresh ledger of each store, with the origin's named balances."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from ledger_tui.engine import Engine
from ledger_tui.ledger import read_named_balances
from ledger_tui.server.app import create_app
from ledger_tui.server.settings import ServerSettings

from ..support.origin_configs import write_origin_configs

JSON = {"content-type": "application/json"}


@pytest.fixture
def origin_engine(make_engine: Callable[..., Engine], tmp_path: Path) -> Engine:
    """An engine whose named balances are the origin's YAML definitions."""
    return make_engine(named_balances=read_named_balances(write_origin_configs(tmp_path)))


@pytest.fixture
def settings() -> ServerSettings:
    return ServerSettings()


@pytest.fixture
def app(origin_engine: Engine, settings: ServerSettings) -> FastAPI:
    return create_app(origin_engine, settings)


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as http:
        yield http
