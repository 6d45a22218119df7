"""The settings repository: a value generated once and kept (the first writer wins), or recorded."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from storage.db import SessionFactory
from storage.uow import unit_of_work
from tests.storage.conftest import NOW, wait_until_blocked


async def test_the_first_value_stored_is_kept(sessions: SessionFactory) -> None:
    async with unit_of_work(sessions) as uow:
        first = await uow.settings.get_or_create("server_secret", make=lambda: "first", now=NOW)
        same_transaction = await uow.settings.get_or_create(
            "server_secret", make=lambda: "second", now=NOW
        )
    async with unit_of_work(sessions) as uow:
        after_restart = await uow.settings.get_or_create(
            "server_secret", make=lambda: "third", now=NOW + timedelta(days=1)
        )

    assert (first, same_transaction, after_restart) == ("first", "first", "first")


async def test_each_key_keeps_its_own_value(sessions: SessionFactory) -> None:
    async with unit_of_work(sessions) as uow:
        secret = await uow.settings.get_or_create("server_secret", make=lambda: "s3cr3t", now=NOW)
        namespace = await uow.settings.get_or_create(
            "xapi_namespace", make=lambda: "6f1c-uuid", now=NOW
        )
    async with unit_of_work(sessions) as uow:
        again = await uow.settings.get_or_create("xapi_namespace", make=lambda: "other", now=NOW)

    assert (secret, namespace, again) == ("s3cr3t", "6f1c-uuid", "6f1c-uuid")


async def test_two_replicas_creating_one_setting_at_once_agree_on_the_first_value(
    pg_sessions: SessionFactory,
) -> None:
    async def second_replica() -> str:
        async with unit_of_work(pg_sessions) as second:
            return await second.settings.get_or_create(
                "server_secret", make=lambda: "from-second", now=NOW
            )

    async with unit_of_work(pg_sessions) as first:
        mine = await first.settings.get_or_create(
            "server_secret", make=lambda: "from-first", now=NOW
        )
        racing = asyncio.create_task(second_replica())
        await wait_until_blocked(first)

    assert mine == "from-first"
    assert await racing == "from-first"


async def test_a_recorded_value_is_read_back_and_replaced_by_the_next_record(
    sessions: SessionFactory,
) -> None:
    async with unit_of_work(sessions) as uow:
        missing = await uow.settings.get("simulation.ended_at")
        await uow.settings.put("simulation.ended_at", "2027-02-11T06:00:00+00:00", now=NOW)
    async with unit_of_work(sessions) as uow:
        recorded = await uow.settings.get("simulation.ended_at")
        await uow.settings.put("simulation.ended_at", "2027-03-11T06:00:00+00:00", now=NOW)
    async with unit_of_work(sessions) as uow:
        replaced = await uow.settings.get("simulation.ended_at")

    assert (missing, recorded) == (None, "2027-02-11T06:00:00+00:00")
    assert replaced == "2027-03-11T06:00:00+00:00"
