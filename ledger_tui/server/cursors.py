"""Stateless page cursors for HTTP: opaque to clients, but nothing kept on the server.

A cursor survives a restart and works on any server of a pool. An entries cursor carries the
last effective millisecond read, how many entries of that millisecond were already answered,
and the ``as_of`` the first page pinned, so later pages show the same snapshot even while
posts arrive. It is bound to its query (address and range): used on another it is refused.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from dataclasses import dataclass

from ..domain.model import ADDRESS_FIELDS, Address
from ..domain.timeutil import TimeRange, to_epoch_ms
from .errors import ApiError


def _encode(data: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(data, separators=(",", ":")).encode()).decode().rstrip("=")


def _decode(text: str) -> object:
    try:
        return json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
    except (ValueError, binascii.Error):
        raise ApiError(400, "is not a cursor this server issued", "cursor") from None


def query_binding(address: Address, time_range: TimeRange) -> str:
    """A short fingerprint of the read a cursor belongs to."""
    bounds = [None if t is None else to_epoch_ms(t) for t in (time_range.start, time_range.end)]
    return hashlib.sha256(json.dumps([str(address), bounds]).encode()).hexdigest()[:12]


@dataclass(frozen=True, slots=True)
class EntriesCursor:
    """Where the next page of entries starts."""

    millis: int
    seen_at_millis: int
    as_of_ms: int
    binding: str

    def encode(self) -> str:
        """The opaque text handed to the client."""
        return _encode({"t": self.millis, "n": self.seen_at_millis, "a": self.as_of_ms, "q": self.binding})

    @staticmethod
    def decode(text: str, binding: str) -> EntriesCursor:
        """Parse a client's cursor; refuses a forged shape or one from another query."""
        data = _decode(text)
        try:
            assert isinstance(data, dict)
            cursor = EntriesCursor(int(data["t"]), int(data["n"]), int(data["a"]), str(data["q"]))
        except (AssertionError, KeyError, TypeError, ValueError):
            raise ApiError(400, "is not a cursor this server issued", "cursor") from None
        if cursor.binding != binding:
            raise ApiError(400, "belongs to another query (address, start and end must not change)", "cursor")
        if cursor.seen_at_millis < 0:
            raise ApiError(400, "is not a cursor this server issued", "cursor")
        return cursor


def encode_account(address: Address) -> str:
    """A cursor after ``address`` in account order."""
    return _encode(list(address.as_tuple()))


def decode_account(text: str) -> Address:
    """The account a cursor points after."""
    data = _decode(text)
    if (
        not isinstance(data, list)
        or len(data) != len(ADDRESS_FIELDS)
        or not all(isinstance(p, str) for p in data)
    ):
        raise ApiError(400, "is not a cursor this server issued", "cursor")
    return Address(*data)
