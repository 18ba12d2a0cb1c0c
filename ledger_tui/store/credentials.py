"""Store credentials: from the environment or an owner-only TOML file, never from the URL.

A password must not travel in a store URL (URLs end up in headers, logs, shell history and
error text), so it is read here and handed to the store separately; its repr hides it.
"""

from __future__ import annotations

import os
import stat
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from ..domain.errors import ValidationError

ENV_USERNAME = "LEDGER_CASSANDRA_USERNAME"
ENV_PASSWORD = "LEDGER_CASSANDRA_PASSWORD"
ENV_FILE = "LEDGER_CREDENTIALS"
#: The table of the credentials file that holds ``username`` and ``password``.
SECTION = "cassandra"


@dataclass(frozen=True, slots=True)
class Credentials:
    """A username and password for the store, and where they came from (for error messages)."""

    username: str
    password: str = field(repr=False)
    source: str = ""


def default_credentials_path() -> Path:
    """``credentials.toml`` in the user's config dir (used only when it exists)."""
    from platformdirs import user_config_path

    return user_config_path("ledger-tui") / "credentials.toml"


def resolve_credentials(path: Path | None = None) -> Credentials | None:
    """Credentials from ``path``, else $LEDGER_CASSANDRA_USERNAME/PASSWORD, else $LEDGER_CREDENTIALS,
    else the user's credentials.toml if it exists; None when none are configured."""
    if path is not None:
        return read_credentials_file(path)
    username, password = os.environ.get(ENV_USERNAME), os.environ.get(ENV_PASSWORD)
    if username is not None or password is not None:
        if not username or password is None:
            missing = ENV_USERNAME if not username else ENV_PASSWORD
            raise ValidationError.single(missing, "is not set (both username and password are needed)")
        return Credentials(username, password, "environment")
    from_env = os.environ.get(ENV_FILE)
    if from_env:
        return read_credentials_file(Path(from_env).expanduser())
    default = default_credentials_path()
    return read_credentials_file(default) if default.exists() else None


def read_credentials_file(path: Path) -> Credentials:
    """The ``[cassandra]`` username and password of a TOML file only its owner can read."""
    where = str(path)
    try:
        info = path.stat()
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ValidationError.single(where, "credentials file does not exist") from None
    except OSError as error:
        raise ValidationError.single(where, f"cannot be read: {error.strerror}") from None
    if not stat.S_ISREG(info.st_mode):
        raise ValidationError.single(where, "credentials file is not a regular file")
    if info.st_mode & 0o077:
        raise ValidationError.single(
            where,
            f"credentials file is readable by others (mode {stat.S_IMODE(info.st_mode):04o}); "
            f"run: chmod 600 {path}",
        )
    if hasattr(os, "getuid") and info.st_uid != os.getuid():
        raise ValidationError.single(where, "credentials file belongs to another user")
    try:
        table = tomllib.loads(raw.decode("utf-8")).get(SECTION)
    except UnicodeDecodeError:
        raise ValidationError.single(where, "credentials file is not UTF-8 text") from None
    except tomllib.TOMLDecodeError as error:  # its text names a line and column, never a value
        raise ValidationError.single(where, f"credentials file is not valid TOML: {error}") from None
    if not isinstance(table, dict):
        raise ValidationError.single(where, f"needs a [{SECTION}] table with username and password")
    username, password = table.get("username"), table.get("password")
    if not isinstance(username, str) or not username:
        raise ValidationError.single(f"{where}: {SECTION}.username", "must be a non-empty string")
    if not isinstance(password, str):
        raise ValidationError.single(f"{where}: {SECTION}.password", "must be a string")
    return Credentials(username, password, where)
