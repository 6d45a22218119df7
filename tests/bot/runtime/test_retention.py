"""Message payloads older than `retention.messages_days` are pruned; rows and newer ones stay."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from storage.models import InboxEvent, OutboxMessage
from storage.uow import unit_of_work
from tests.harness import demo_config, running_bot


async def test_pruning_removes_payloads_past_retention_and_keeps_the_rows(
    sqlite_url: str,
) -> None:
    async with running_bot(demo_config(sqlite_url)) as playground:
        await playground.say("alex", "help")
        await playground.advance(timedelta(days=31))
        await playground.say("jordan", "help")

        pruned = await playground.bot.pruner.run()
        again = await playground.bot.pruner.run()

        async with unit_of_work(playground.bot.sessions) as uow:
            inbox = list(await uow.session.scalars(select(InboxEvent).order_by(InboxEvent.id)))
            outbox = list(
                await uow.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))
            )
        assert (pruned.inbox, pruned.outbox) == (1, 1)
        assert (again.inbox, again.outbox) == (0, 0), "each row pruned once"
        assert inbox[0].payload == {"pruned": True}
        assert inbox[1].payload["text"] == "help"
        assert outbox[0].message["pruned"] is True
        assert outbox[0].status == "sent", "the delivery log keeps the row"
        assert "pruned" not in outbox[-1].message
