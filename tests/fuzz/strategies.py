"""Hypothesis strategies for hostile input: documents, address parts, amounts, times, URLs, flags.

Each strategy mixes what the adversarial run found (lone surrogates, NFD lookalikes, bidi
overrides, unbounded exponents, year 10000, duplicate keys, non-UTF-8 bytes, Arabic-Indic
digits) with valid values, so a run exercises both the rejections and the round trips.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from hypothesis import strategies as st

from ledger_tui.domain.timeutil import LATEST_ENTRY_MS, MAX_EPOCH_MS

#: Characters that make trouble: surrogates, controls, bidi/zero-width formats, separators,
#: a combining accent (NFD), CQL/SQL/JSON quoting, a slash, Arabic-Indic and full-width digits.
NASTY = (
    "\ud800\udfff\udcff\x00\x07\x1b\x7f\x85\u200b\u200d\u202e\u2066\ufeff \u00a0\u2028\u3000"
    "\u0301'\"\\;%_/$*٠١٩０９"
)
#: Hostile-but-valid text: emoji, RTL letters, CQL quote characters and statement separators.
ODD_BUT_VALID = ["🙂", "💸", "حساب", "עו״ש", "O'Brien", "''", '"', "$$", ";--", "日本", "é", "Ω", "ß", "ﬁ"]


def hostile_text(max_size: int = 12) -> st.SearchStrategy[str]:
    """Short text drawn from nasty characters, odd-but-valid pieces and plain letters."""
    piece = st.one_of(
        st.sampled_from(list(NASTY)),
        st.sampled_from(ODD_BUT_VALID),
        st.text("abcxyz-_.0123456789", min_size=1, max_size=4),
        st.characters(codec=None),  # anything at all, surrogates included
    )
    return st.lists(piece, max_size=max_size).map("".join)


def valid_part() -> st.SearchStrategy[str]:
    """An address part the ledger accepts, odd characters included."""
    return st.lists(
        st.one_of(st.sampled_from(ODD_BUT_VALID), st.text("abc-_.019", min_size=1, max_size=3)),
        min_size=1,
        max_size=4,
    ).map("".join)


def address_parts() -> st.SearchStrategy[object]:
    """A value for an address part: valid, hostile, too long, or not a string at all."""
    return st.one_of(
        valid_part(),
        hostile_text(),
        st.just("x" * 257),
        st.sampled_from([None, 1, [], {}, True, ""]),
    )


def amounts() -> st.SearchStrategy[object]:
    """An amount: fine, out of precision, unbounded, non-ASCII, or the wrong type."""
    return st.one_of(
        st.sampled_from(["1", "1.00", "0.01", 5, "1e2", "1E+2", "0.001", "0", "-1", "1e-2"]),
        st.sampled_from(["1e9999999999999999999999", "1e-9999999999999999999999", "9" * 70, "١٢", "１"]),
        st.sampled_from([True, None, [], "NaN", "Infinity", "", " 1 ", "1_0", "0x10"]),
        st.decimals(allow_nan=False, allow_infinity=False, places=2, min_value=0, max_value=10**6).map(str),
        st.integers(min_value=-(10**30), max_value=10**30),
        hostile_text(6),
    )


def timestamps() -> st.SearchStrategy[object]:
    """An effective time around every edge: 1970, 9999-11/12, year 10000, unbounded, non-ASCII."""
    edges = [-1, 0, 1, LATEST_ENTRY_MS, LATEST_ENTRY_MS + 1, MAX_EPOCH_MS, MAX_EPOCH_MS + 1, 10**30]
    return st.one_of(
        st.sampled_from(edges),
        st.integers(min_value=-(10**20), max_value=10**20),
        st.sampled_from(
            [
                "1970-01-01T00:00:00Z",
                "9999-11-30T23:59:59.999Z",
                "9999-12-01T00:00:00Z",
                "9999-12-31T23:59:59.999Z",
                "9999-12-31T23:30:00-01:00",
                "0001-01-01",
                "1e9999999999999999999999",
                "٢٠٢٤-01-01",
                "2024-02-30",
                "9" * 40,
                "",
                "1.5",
            ]
        ),
        st.datetimes().map(lambda moment: moment.isoformat()),
        hostile_text(8),
        st.sampled_from([True, None, [1], {"a": 1}]),
    )


@st.composite
def legs(draw: st.DrawFn) -> dict[str, Any]:
    """One leg in the origin's shape with hostile values in some fields."""
    currency = draw(st.sampled_from(["GBP", "GBP", "JPY", "gbp", "XXX", "G\u0301BP", "GB"]))
    address = {
        "legal_entity": draw(st.one_of(st.just("le"), address_parts())),
        "namespace": draw(st.one_of(st.just("ns"), address_parts())),
        "name": draw(st.one_of(st.just("n"), address_parts())),
        "currency": currency,
        "account_id": draw(st.one_of(valid_part(), address_parts())),
    }
    leg: dict[str, Any] = {
        "address": address,
        "type": draw(st.sampled_from(["debit", "credit", "credit", "Debit", "", "debit\u200b"])),
        "amount": draw(st.one_of(st.just("1.00"), amounts())),
        "description": draw(st.one_of(st.just(""), hostile_text(20), st.just("d" * 1025))),
    }
    if draw(st.booleans()):
        leg["timestamp"] = draw(timestamps())
    return leg


def _number(value: object) -> str:
    """JSON text of a value; strings that look like big numbers may go in as bare JSON numbers."""
    return json.dumps(value, ensure_ascii=True)  # \ud800 escapes survive as JSON escapes


@st.composite
def odd_valid_documents(draw: st.DrawFn) -> bytes:
    """A balanced set the ledger must accept and return verbatim: emoji, RTL, quotes, both ends
    of time, amounts as strings and JSON numbers."""
    amount = draw(st.decimals(min_value=1, max_value=10**9, places=2).map(str))
    description = st.lists(
        st.one_of(
            st.sampled_from([*ODD_BUT_VALID, " ", "\u202b", "\t"]),
            st.text(max_size=3).filter(lambda t: t.isprintable()),
        ),
        max_size=6,
    ).map("".join)
    when = st.one_of(st.none(), st.sampled_from([0, LATEST_ENTRY_MS]), st.integers(0, LATEST_ENTRY_MS))
    legs = []
    for side in ("debit", "credit"):
        leg: dict[str, Any] = {
            "address": {
                "legal_entity": draw(valid_part()),
                "namespace": "ns",
                "name": draw(valid_part()),
                "currency": "GBP",
                "account_id": draw(valid_part()),
            },
            "type": side,
            "amount": amount if draw(st.booleans()) else "__number__",
            "description": draw(description),
        }
        stamp = draw(when)
        if stamp is not None:
            leg["timestamp"] = stamp
        legs.append(leg)
    text = json.dumps({"entries": legs}, ensure_ascii=draw(st.booleans()))
    return text.replace('"__number__"', amount).encode()


@st.composite
def documents(draw: st.DrawFn) -> bytes:
    """A hostile JSON document as bytes (a third of them valid but odd), with structural mutations."""
    if draw(st.integers(0, 2)) == 0:
        return draw(odd_valid_documents())
    count = draw(st.sampled_from([0, 1, 2, 2, 2, 3, 4, 201]))
    entries = [draw(legs()) for _ in range(min(count, 4))]
    if count == 201:
        entries = entries * 51
    data: dict[str, Any] = {"entries": entries}
    if draw(st.booleans()):
        data["transaction_id"] = draw(
            st.one_of(
                st.uuids().map(str),
                st.sampled_from(
                    ["١١١١١١١١-1111-1111-1111-111111111111", "{" + str(uuid.UUID(int=1)) + "}", 7]
                ),
                hostile_text(8),
            )
        )
    text = _number(data)
    mutation = draw(
        st.sampled_from(["none", "none", "none", "bare-number", "duplicate", "latin-1", "bom", "cut", "nest"])
    )
    if mutation == "bare-number":  # an unbounded exponent as a JSON number, not a string
        text = text.replace(
            '"1.00"', draw(st.sampled_from(["1e9999999999999999999999", "1e-99999", "1" * 80])), 1
        )
    elif mutation == "duplicate":
        text = text.replace('"type": ', '"type": "debit", "type": ', 1).replace(
            '{"entries"', '{"entries": [], "entries"', 1
        )
    elif mutation == "latin-1":
        return text.encode("utf-8", "surrogatepass") + b"caf\xe9"
    elif mutation == "bom":
        return b"\xef\xbb\xbf" + text.encode()
    elif mutation == "cut":
        text = text[: draw(st.integers(0, max(len(text) - 1, 0)))]
    elif mutation == "nest":
        text = "[" * draw(st.integers(1, 50_000))
    return text.encode("utf-8", "surrogatepass")


def store_urls(tmp: str) -> st.SearchStrategy[str]:
    """Store URLs that must be rejected (1) or are unreachable (3); none reaches a real ledger."""
    port = st.one_of(
        st.sampled_from(["9", "0", "65536", "٩٠٤٢", "9042\n", "-1", "", "99999999999"]), hostile_text(4)
    )
    host = st.one_of(
        st.sampled_from(
            ["127.0.0.1", "[::1]", "no-such-host.invalid", "[::1", "h\udcff", "a,b", ",", "é.invalid"]
        ),
        hostile_text(6),
    )
    keyspace = st.one_of(st.sampled_from(["ks", "KS", "1ks", "k" * 49, ""]), hostile_text(6))
    option = st.sampled_from(
        [
            "",
            "?timeout=١٠",
            "?timeout=0",
            "?replication=x",
            "?consistency=NONE",
            "?dc=a%0Ab",
            "?x=1",
            "?timeout=1",
        ]
    )
    cassandra = st.builds(lambda h, p, k, o: f"cassandra://{h}:{p}/{k}{o}", host, port, keyspace, option)
    sqlite = st.one_of(
        st.sampled_from(
            ["sqlite:", "sqlite:/dev/null", "sqlite:/", "sqlite:/proc/nope/x.db", f"sqlite:{tmp}"]
        ),
        st.builds(
            lambda o: f"sqlite:{tmp}/l.sqlite{o}",
            st.sampled_from(["?busy_timeout=١", "?busy_timeout=", "?x=1", "?busy_timeout=1_0"]),
        ),
    )
    anything = hostile_text(10).filter(bool)  # "" means the default store, which is valid
    return st.one_of(cassandra, sqlite, anything, st.sampled_from(["mysql://x", "cassandra:/ks", "sqlite"]))


@st.composite
def read_arguments(draw: st.DrawFn) -> list[str]:
    """Arguments of a read-only command with hostile flag values."""
    address = draw(
        st.one_of(
            st.builds(
                lambda *p: "/".join(p),
                address_parts().map(str),
                st.just("ns"),
                st.just("n"),
                st.sampled_from(["GBP", "gbp", "GB\u0301P"]),
                st.one_of(st.just("*"), address_parts().map(str)),
            ),
            hostile_text(20),
        )
    )
    instant = st.one_of(timestamps().map(str), st.just("9999-12-31T23:59:59Z"), st.just("0001-01-01"))
    command = draw(st.sampled_from(["balance", "entries", "show", "reverse", "accounts", "verify"]))
    if command in ("show", "reverse"):
        return [
            command,
            draw(
                st.one_of(
                    st.uuids().map(str), hostile_text(40), st.just("١" * 8 + "-1111-1111-1111-111111111111")
                )
            ),
        ]
    if command in ("accounts", "verify"):
        return [command]
    argv = [command, "--address", address]
    for flag in ("--start", "--end", "--as-of"):
        if draw(st.booleans()):
            argv += [flag, draw(instant)]
    if command == "entries":
        argv += ["--format", draw(st.sampled_from(["table", "csv", "json"]))]
    return argv
