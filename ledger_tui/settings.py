"""The user's config file (TOML: default store, balances file, theme, page size) and the
console's remembered state (last store, screen and theme), both in the user's own dirs.

Order of precedence: command-line flags, then LEDGER_* variables, then (for the console) the
remembered state, then the config file, then built-in defaults. Credentials never go here:
they live in credentials.toml (mode 0600) or LEDGER_CASSANDRA_*, so a config file can be shared.
"""

from __future__ import annotations

import json
import os
import tomllib
from dataclasses import asdict, dataclass
from pathlib import Path

from .domain.errors import LedgerError
from .store.url import parse_store_url

ENV_CONFIG = "LEDGER_CONFIG"
KEYS = ("store", "balances", "theme", "page_size")
PAGE_SIZES = range(10, 1001)
SCREENS = ("compose", "browse", "chart", "trial", "holds")
_SECRETS = ("username", "password", "credentials")


class SettingsError(ValueError):
    """A config file that cannot be used: names the file, the key and the reason."""


@dataclass(frozen=True, slots=True)
class Settings:
    """What the config file sets (None: not set there)."""

    store: str | None = None
    balances: Path | None = None
    theme: str | None = None
    page_size: int | None = None


@dataclass(frozen=True, slots=True)
class ConsoleState:
    """What the console restores on the next start."""

    store: str | None = None
    screen: str | None = None
    theme: str | None = None


def config_path() -> Path:
    """``$LEDGER_CONFIG``, else ``config.toml`` in the user's config dir."""
    from platformdirs import user_config_path

    from_env = os.environ.get(ENV_CONFIG)
    return Path(from_env).expanduser() if from_env else user_config_path("ledger-tui") / "config.toml"


def state_path() -> Path:
    """``state.json`` in the user's state dir (the console writes it on exit)."""
    from platformdirs import user_state_path

    return user_state_path("ledger-tui") / "state.json"


def known_themes() -> list[str]:
    """Theme names the console can use."""
    from textual.theme import BUILTIN_THEMES

    return sorted(BUILTIN_THEMES)


def load_settings(path: Path | None = None) -> Settings:
    """The config file's settings (none when it does not exist); SettingsError when it is bad."""
    path = path or config_path()
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return Settings()
    except OSError as error:
        raise SettingsError(f"config {path}: cannot be read: {error.strerror}") from None
    try:
        table = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise SettingsError(f"config {path}: is not UTF-8 text") from None
    except tomllib.TOMLDecodeError as error:
        raise SettingsError(f"config {path}: not valid TOML: {error}") from None

    def bad(key: str, reason: str) -> SettingsError:
        return SettingsError(f"config {path}: {key}: {reason}")

    for key in table:
        if key.lower() in _SECRETS or (isinstance(table[key], dict) and key == "cassandra"):
            raise bad(key, "credentials do not belong here: use credentials.toml (mode 0600) or "
                      "LEDGER_CASSANDRA_USERNAME/LEDGER_CASSANDRA_PASSWORD")  # fmt: skip
        if key not in KEYS:
            raise bad(key, f"unknown key (known: {', '.join(KEYS)})")
    for key in ("store", "balances", "theme"):
        if key in table and (not isinstance(table[key], str) or not table[key].strip()):
            raise bad(key, "must be a non-empty string")
    store = table.get("store")
    if store is not None:
        try:
            parse_store_url(store)
        except LedgerError as error:
            raise bad("store", str(error)) from None
    theme = table.get("theme")
    if theme is not None and theme not in known_themes():
        raise bad("theme", f"unknown theme {theme!r} (known: {', '.join(known_themes())})")
    page_size = table.get("page_size")
    if page_size is not None and (
        isinstance(page_size, bool) or not isinstance(page_size, int) or page_size not in PAGE_SIZES
    ):
        raise bad("page_size", f"must be a whole number from {PAGE_SIZES.start} to {PAGE_SIZES.stop - 1}")
    balances = table.get("balances")
    return Settings(store, Path(balances).expanduser() if balances else None, theme, page_size)


def read_state(path: Path | None = None) -> ConsoleState:
    """The remembered state; an unreadable or odd file is ignored (it is only a convenience)."""
    try:
        data = json.loads((path or state_path()).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return ConsoleState()
    if not isinstance(data, dict):
        return ConsoleState()
    store, screen, theme = (data.get(key) for key in ("store", "screen", "theme"))
    if isinstance(store, str):
        try:
            parse_store_url(store)
        except LedgerError:
            store = None  # written by an older version, or edited by hand: the default then
    return ConsoleState(
        store if isinstance(store, str) else None,
        screen if screen in SCREENS else None,
        theme if isinstance(theme, str) and theme in known_themes() else None,
    )


def write_state(state: ConsoleState, path: Path | None = None) -> None:
    """Remember ``state`` for the next start (best effort: a read-only home is not an error)."""
    target = path or state_path()
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(asdict(state), indent=2) + "\n", encoding="utf-8")
    except OSError:
        pass
