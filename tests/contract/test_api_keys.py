"""API keys in the ledger, on both stores: unique names and one revocation under races, only
hashes stored, and a record that does not hold its name opens nothing."""

from __future__ import annotations

import asyncio

import pytest

from ledger_tui.domain.errors import NotFound, ValidationError
from ledger_tui.domain.keys import KEY_SETTING, NAME_SETTING, POST, READ, split_key
from ledger_tui.engine import Engine
from ledger_tui.store.base import Store


async def test_twenty_creates_racing_for_one_name_make_one_key(engine: Engine) -> None:
    results = await asyncio.gather(
        *(engine.keys().create("payments", frozenset({POST})) for _ in range(20)), return_exceptions=True
    )
    made = [r for r in results if not isinstance(r, BaseException)]
    refused = [r for r in results if isinstance(r, ValidationError)]
    assert len(made) == 1 and len(refused) == 19
    assert "payments exists" in str(refused[0])
    (record,) = await engine.keys().all()
    assert record.key_id == made[0][0].key_id


async def test_racing_revokes_record_one_revocation(engine: Engine) -> None:
    record, _ = await engine.keys().create("ops", frozenset({READ, POST}))
    outcomes = await asyncio.gather(*(engine.keys().revoke(which) for which in ["ops", record.key_id] * 10))
    assert {o.revoked_at for o in outcomes} == {outcomes[0].revoked_at} and outcomes[0].revoked_at is not None
    assert (await engine.keys().find("ops")).revoked_at == outcomes[0].revoked_at
    with pytest.raises(ValidationError):  # a revoked key keeps its name
        await engine.keys().create("ops", frozenset({READ}))


async def test_the_ledger_keeps_the_hash_never_the_key(engine: Engine, store: Store) -> None:
    record, key = await engine.keys().create("reader", frozenset({READ}), rate_limit=50)
    key_id, secret = split_key(key) or ("", "")
    assert key_id == record.key_id and len(secret) == 48
    settings = await store.read_settings()
    assert settings[NAME_SETTING + "reader"] == key_id
    assert (
        secret not in settings[KEY_SETTING + key_id] and record.secret_hash in settings[KEY_SETTING + key_id]
    )
    cache = engine.keys().cache()
    found = await cache.authenticate(key)
    assert found is not None and found.name == "reader" and found.rate_limit == 50
    assert await cache.authenticate(key[:-1] + ("1" if key.endswith("0") else "0")) is None
    assert await cache.authenticate(f"ltk_{'0' * 12}_{secret}") is None
    assert await cache.authenticate(secret) is None


async def test_a_record_whose_name_went_elsewhere_opens_nothing(engine: Engine, store: Store) -> None:
    record, key = await engine.keys().create("batch", frozenset({POST}))
    stray, stray_key = await engine.keys().create("stray", frozenset({POST}))
    moved = await store.replace_setting(NAME_SETTING + "stray", stray.key_id, record.key_id)
    assert moved == record.key_id  # as if "stray" had lost its name to another create
    assert [r.name for r in await engine.keys().all()] == ["batch"]
    cache = engine.keys().cache()
    assert await cache.authenticate(stray_key) is None and await cache.authenticate(key) is not None


async def test_bad_names_scopes_and_unknown_keys_are_refused_by_field(engine: Engine) -> None:
    with pytest.raises(ValidationError, match="name"):
        await engine.keys().create("no spaces", frozenset({READ}))
    with pytest.raises(ValidationError, match="rate_limit"):
        await engine.keys().create("fast", frozenset({READ}), rate_limit=0)
    with pytest.raises(NotFound):
        await engine.keys().revoke("nobody")
    assert await engine.keys().all() == []
