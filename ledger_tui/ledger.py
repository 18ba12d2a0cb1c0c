"""The one engine builder: store URL and options in, an Engine (named balances loaded) out.

Every face (CLI, console, loader, benchmarks) gets its engine here, so the rules for which
store, which named balances and which schema steps apply are written once.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from .domain.blocks import DEFAULT_MARGIN
from .domain.document import read_bounded
from .domain.errors import LedgerError, NotFound, ValidationError
from .domain.named import NamedBalance, parse_named_balances
from .engine import Engine, system_clock
from .origin_balances import ADDRESS_CONFIG_NAME, parse_origin_balances
from .samples import BALANCES, sample_text
from .store.base import Store
from .store.credentials import Credentials, resolve_credentials

__all__ = ["Credentials", "LedgerOptions", "build_engine", "open_ledger", "open_store", "read_named_balances"]
from .store.url import CassandraUrl, SqliteUrl, StoreUrl, parse_store_url


@dataclass(frozen=True, slots=True)
class LedgerOptions:
    """What picks a ledger: the store URL (else ``$LEDGER_STORE``, else the user's file) and the
    named-balances file (else ``$LEDGER_BALANCES``, else the bundled sample)."""

    store: str | None = None
    balances: Path | None = None
    clock: Callable[[], datetime] = system_clock
    #: How long the sealer waits for writes in flight (see docs/balance-blocks.md).
    seal_margin: timedelta = DEFAULT_MARGIN
    #: A Cassandra credentials file (else the environment, $LEDGER_CREDENTIALS or the user's file).
    credentials_file: Path | None = None
    #: Credentials given directly (e.g. typed at a prompt); win over every other source.
    credentials: Credentials | None = None


def open_store(url: StoreUrl, credentials: Credentials | None = None) -> Store:
    """A not-yet-connected Store for ``url`` (the Cassandra driver is imported only if needed)."""
    if isinstance(url, SqliteUrl):
        from .store.sqlite import SqliteStore

        return SqliteStore(url.path, busy_timeout_s=url.busy_timeout_s)
    assert isinstance(url, CassandraUrl)
    from .store.cassandra import CassandraStore

    return CassandraStore(url, credentials)


def store_credentials(options: LedgerOptions, url: StoreUrl) -> Credentials | None:
    """The credentials a Cassandra store logs in with (None: none configured, or SQLite)."""
    if not isinstance(url, CassandraUrl):
        return None
    return options.credentials or resolve_credentials(options.credentials_file)


def named_balances_path(options: LedgerOptions) -> Path | None:
    """The named-balances file chosen by the options or the environment (None: the bundled one)."""
    if options.balances is not None:
        return options.balances
    from_env = os.environ.get("LEDGER_BALANCES")
    return Path(from_env) if from_env else None


def _read_text(path: Path) -> str:
    try:
        with path.open("rb") as stream:  # bounded: --balances /dev/zero must not fill memory
            return read_bounded(stream).decode("utf-8")
    except FileNotFoundError:
        raise NotFound(f"named balance file {path} does not exist") from None
    except OSError as error:
        raise ValidationError.single(str(path), f"cannot be read: {error.strerror}") from None
    except UnicodeDecodeError:
        raise ValidationError.single(str(path), "is not UTF-8 text") from None


def read_named_balances(path: Path | None) -> dict[str, NamedBalance]:
    """Named balances from ``path`` (or the bundled sample), with a clear error for bad files.

    A ``.yml``/``.yaml`` file is the origin service's ``balance_definitions.yml``; its aliases
    are read from the ``address_config.yml`` beside it.
    """
    if path is None:
        return parse_named_balances(sample_text(BALANCES), "bundled balances.toml")
    text = _read_text(path)
    if path.suffix.lower() in (".yml", ".yaml"):
        aliases = path.with_name(ADDRESS_CONFIG_NAME)
        return parse_origin_balances(text, _read_text(aliases), str(path), str(aliases))
    return parse_named_balances(text, str(path))


def build_engine(options: LedgerOptions) -> Engine:
    """An engine over the store the options name, not yet connected (the console connects it
    in a worker). A bad named-balances file does not stop the engine: asking for a named
    balance reports why it could not be loaded."""
    url = parse_store_url(options.store)
    store = open_store(url, store_credentials(options, url))
    try:
        named, problem = read_named_balances(named_balances_path(options)), None
    except LedgerError as error:
        named, problem = {}, error
    return Engine(
        store,
        clock=options.clock,
        named_balances=named,
        named_balances_error=problem,
        seal_margin=options.seal_margin,
    )


@asynccontextmanager
async def open_ledger(options: LedgerOptions) -> AsyncIterator[Engine]:
    """A connected engine for the duration of the block (closed afterwards, also on error)."""
    engine = build_engine(options)
    await engine.connect()
    try:
        yield engine
    finally:
        await engine.close()
