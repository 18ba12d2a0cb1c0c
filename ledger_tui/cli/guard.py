"""The last line of defence: an unexpected exception is logged to a file, never shown raw.

Anything a user can type, pass or point the tool at has its own clear error; what is left is
a bug. Its traceback goes to ``errors.log`` in the user's state directory (private: 0600 in a
0700 directory) and the terminal gets one line saying where, with the exit code 70.
"""

from __future__ import annotations

import os
import traceback
from datetime import UTC, datetime
from pathlib import Path

from .. import __version__


def error_log_path() -> Path:
    """Where unexpected errors are logged: ``errors.log`` in the platform's user state dir."""
    from platformdirs import user_state_path

    return user_state_path("ledger-tui") / "errors.log"


def log_unexpected(error: BaseException, command: str | None) -> Path:
    """Append ``error``'s traceback (with time, version and command name) to the error log."""
    path = error_log_path()
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    stamp = datetime.now(UTC).isoformat(timespec="seconds")
    text = "".join(traceback.format_exception(error))
    header = f"--- {stamp} ledger-tui {__version__} command={command or 'console'}\n"
    descriptor = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    with os.fdopen(descriptor, "a", encoding="utf-8", errors="backslashreplace") as log:
        log.write(header + text)
    return path


def report_unexpected(error: BaseException, command: str | None) -> str:
    """The one line the terminal shows for a bug (the log's path, or why it could not be written)."""
    kind = type(error).__name__
    try:
        path = log_unexpected(error, command)
    except OSError as log_error:
        return f"ledger-tui: unexpected error ({kind}); the details could not be logged: {log_error}"
    return f"ledger-tui: unexpected error ({kind}); details in {path} (please report it)"
