"""What flows and commands may do: queue messages, log activity. All inside one transaction."""

from __future__ import annotations

import logging
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.model.messages import AudienceKind, Message, Target
from storage.models import Identity, Workspace
from storage.repositories.outbox import OutboxRow
from storage.statuses import DeliveryClass
from storage.uow import UnitOfWork

log = logging.getLogger(__name__)

THREAD_KEY = "key:"
"""A thread parent named by logical key; the sender swaps in the platform reference."""


@dataclass(frozen=True)
class Origin:
    """Where the current event came from, so replies go back the same way."""

    platform: str
    workspace: str
    user_id: str | None = None
    channel_id: str | None = None
    is_direct: bool = False
    reply_token: str | None = None
    acted_at: datetime | None = None
    """When the person acted (the event arrived), for reply latency."""

    def answers(self, target: Target) -> bool:
        """Whether a message to `target` answers this person's own action.

        Anything addressed to them (a DM, an ephemeral answer, a modal, their home page) or
        posted where they typed is a reply; messages to other people are bulk.
        """
        if self.user_id is None or target.platform != self.platform:
            return False
        if target.workspace != self.workspace:
            return False
        if target.kind in (AudienceKind.EPHEMERAL, AudienceKind.MODAL, AudienceKind.HOME):
            return target.user_id == self.user_id
        if target.kind == AudienceKind.DM:
            return target.user_id == self.user_id
        if target.kind in (AudienceKind.CHANNEL, AudienceKind.THREAD):
            return self.channel_id is not None and target.channel_id == self.channel_id
        return False


class Effects:
    """Queues outgoing messages in the outbox and appends to the activity log.

    Idempotency keys derive from the source (an inbox event or a schedule occurrence)
    and a running count, so reprocessing the same source queues nothing twice.
    """

    def __init__(
        self,
        uow: UnitOfWork,
        *,
        source: str,
        now: datetime,
        platforms: frozenset[str],
        origin: Origin | None = None,
        group_platforms: frozenset[str] = frozenset(),
    ) -> None:
        self.uow = uow
        self.now = now
        self.origin = origin
        self._source = source
        self._platforms = platforms
        self._group_platforms = group_platforms & platforms
        """Platforms whose client can open a multi-person conversation."""
        self._count = 0
        self.queued = 0
        self.private = False
        """Set by `keep_private`: the inbound event must not stay readable in the inbox."""
        self.cohort_id: int | None = None
        """The cohort these effects are for, once known: bulk sends take turns by cohort."""

    def for_cohort(self, cohort_id: int) -> None:
        """Note the cohort these effects serve (the first one named wins)."""
        if self.cohort_id is None:
            self.cohort_id = cohort_id

    def keep_private(self) -> None:
        """Have the event's sender and values dropped from the inbox once it is handled.

        For what must not be traceable to a person afterwards (an anonymous vote): the
        inbox row keeps only its id, so a retried delivery is still recognised.
        """
        self.private = True

    @property
    def source(self) -> str:
        """What caused these effects (an inbox event or a schedule occurrence), stable on retry."""
        return self._source

    def _next_key(self) -> str:
        self._count += 1
        return f"{self._source}#{self._count}"

    async def queue(
        self,
        target: Target,
        message: Message,
        *,
        person_id: int | None = None,
        ref_key: str | None = None,
        update_of_key: str | None = None,
    ) -> None:
        """Queue a message for an already resolved platform address."""
        queued = await self.uow.outbox.enqueue(
            self.outbox_row(
                target,
                message,
                person_id=person_id,
                ref_key=ref_key,
                update_of_key=update_of_key,
            )
        )
        if queued is not None:
            self.queued += 1

    def outbox_row(
        self,
        target: Target,
        message: Message,
        *,
        person_id: int | None = None,
        ref_key: str | None = None,
        update_of_key: str | None = None,
    ) -> OutboxRow:
        """The outbox row for one message, with its idempotency key and delivery class."""
        reply = self.origin is not None and self.origin.answers(target)
        return OutboxRow(
            idempotency_key=self._next_key(),
            platform=target.platform,
            workspace=target.workspace,
            lane=target.lane,
            target=target.model_dump(mode="json"),
            message=message.model_dump(mode="json"),
            now=self.now,
            person_id=person_id,
            ref_key=ref_key,
            update_of_key=update_of_key,
            delivery_class=DeliveryClass.REPLY if reply else DeliveryClass.BULK,
            fair_key=self._fair_key(),
            reply_to_at=(self.origin.acted_at or self.now) if reply and self.origin else None,
        )

    def _fair_key(self) -> str:
        if self.cohort_id is not None:
            return f"cohort:{self.cohort_id}"
        return self._source[:200]

    async def dm(self, person_id: int, message: Message, *, ref_key: str | None = None) -> bool:
        """DM a person on the platform they last used (or any they can be reached on)."""
        target = await self._dm_target(person_id)
        if target is None:
            log.warning("no reachable identity", extra={"person_id": person_id})
            return False
        await self.queue(target, message, person_id=person_id, ref_key=ref_key)
        return True

    async def _dm_target(self, person_id: int) -> Target | None:
        return self._pick_dm_target(await self.uow.people.identities(person_id))

    async def dm_batch(self, person_ids: Collection[int]) -> DmBatch:
        """DMs to these people, queued together (their addresses are looked up now, at once)."""
        return DmBatch(self, await self._dm_targets_of(person_ids))

    async def _dm_targets_of(self, person_ids: Collection[int]) -> dict[int, Target]:
        """Where `dm` would reach each of these people; the unreachable are left out."""
        targets: dict[int, Target] = {}
        for person_id, pairs in (await self.uow.people.identities_of(person_ids)).items():
            target = self._pick_dm_target(pairs)
            if target is not None:
                targets[person_id] = target
        return targets

    def _pick_dm_target(self, pairs: Sequence[tuple[Identity, Workspace]]) -> Target | None:
        """A reachable identity to DM, on the event's platform first."""
        candidates = [
            (identity, workspace)
            for identity, workspace in pairs
            if identity.reachable and workspace.platform in self._platforms
        ]
        if not candidates:
            return None
        preferred = self.origin.platform if self.origin else None
        candidates.sort(key=lambda pair: pair[1].platform != preferred)
        identity, workspace = candidates[0]
        return Target(
            platform=workspace.platform,
            workspace=workspace.tenant_id,
            kind=AudienceKind.DM,
            user_id=identity.platform_user_id,
            conversation=identity.conversation_ref,
        )

    async def queue_rows(self, rows: Sequence[OutboxRow]) -> int:
        """Queue rows built by `outbox_row`, all in one statement; returns how many were new."""
        queued = len(await self.uow.outbox.enqueue_many(rows))
        self.queued += queued
        return queued

    async def group(self, person_ids: Sequence[int], message: Message) -> bool:
        """Say something to several people together; True when it went as one group message.

        A group conversation where a platform that can open one reaches them all (a Slack
        group DM); otherwise each person gets the same message by DM, so nobody is missed.
        """
        target = await self._group_target(person_ids)
        if target is not None:
            await self.queue(target, message)
            return True
        for person_id in person_ids:
            await self.dm(person_id, message)
        return False

    async def _group_target(self, person_ids: Sequence[int]) -> Target | None:
        if len(set(person_ids)) < 2 or not self._group_platforms:
            return None
        reach: dict[tuple[str, str], dict[int, str]] = {}
        for person_id in person_ids:
            for identity, space in await self.uow.people.identities(person_id):
                if identity.reachable and space.platform in self._group_platforms:
                    where = (space.platform, space.tenant_id)
                    reach.setdefault(where, {}).setdefault(person_id, identity.platform_user_id)
        everyone = [where for where, found in reach.items() if len(found) == len(set(person_ids))]
        if not everyone:
            return None
        preferred = self.origin.platform if self.origin else None
        platform, workspace = min(everyone, key=lambda where: (where[0] != preferred, where))
        users = reach[(platform, workspace)]
        return Target(
            platform=platform,
            workspace=workspace,
            kind=AudienceKind.GROUP,
            members=tuple(users[person_id] for person_id in dict.fromkeys(person_ids)),
        )

    async def channel(self, cohort_id: int, message: Message, *, ref_key: str | None = None) -> int:
        """Post in the cohort's channel on every enabled platform; returns how many."""
        self.for_cohort(cohort_id)
        posted = 0
        for platform, channel_id in (await self.uow.cohorts.channels(cohort_id)).items():
            if platform not in self._platforms:
                continue
            workspace = await self._workspace_for(platform)
            target = Target(
                platform=platform,
                workspace=workspace,
                kind=AudienceKind.CHANNEL,
                channel_id=channel_id,
            )
            await self.queue(target, message, ref_key=ref_key)
            posted += 1
        return posted

    async def post(
        self, platform: str, channel_id: str, message: Message, *, ref_key: str | None = None
    ) -> bool:
        """Post in a channel named by platform and id; False when the platform is off."""
        if platform not in self._platforms:
            return False
        target = Target(
            platform=platform,
            workspace=await self._workspace_for(platform),
            kind=AudienceKind.CHANNEL,
            channel_id=channel_id,
        )
        await self.queue(target, message, ref_key=ref_key)
        return True

    async def _workspace_for(self, platform: str) -> str:
        if self.origin is not None and self.origin.platform == platform:
            return self.origin.workspace
        return platform if platform == "local" else ""

    async def reply(self, message: Message, *, person_id: int | None = None) -> None:
        """Answer the current event: in the DM, or ephemerally where the person asked."""
        origin = self.origin
        if origin is None or origin.user_id is None:
            raise RuntimeError("reply() needs an inbound event to reply to")
        if origin.is_direct or origin.channel_id is None:
            target = Target(
                platform=origin.platform,
                workspace=origin.workspace,
                kind=AudienceKind.DM,
                user_id=origin.user_id,
                channel_id=origin.channel_id if origin.is_direct else None,
                reply_token=origin.reply_token,
            )
        else:
            target = Target(
                platform=origin.platform,
                workspace=origin.workspace,
                kind=AudienceKind.EPHEMERAL,
                user_id=origin.user_id,
                channel_id=origin.channel_id,
                reply_token=origin.reply_token,
            )
        await self.queue(target, message, person_id=person_id)

    async def surface(self, kind: AudienceKind, message: Message, *, person_id: int) -> None:
        """Show a home page or open a modal for the person behind the current event."""
        origin = self.origin
        if origin is None or origin.user_id is None:
            raise RuntimeError("surface() needs an inbound event to answer")
        target = Target(
            platform=origin.platform,
            workspace=origin.workspace,
            kind=kind,
            user_id=origin.user_id,
            channel_id=origin.channel_id,
            reply_token=origin.reply_token,
        )
        await self.queue(target, message, person_id=person_id)

    async def update(self, ref_key: str, message: Message) -> int:
        """Replace every message sent under `ref_key` (one per platform channel)."""
        originals = await self.uow.outbox.refs(ref_key)
        for original in originals:
            target = Target.model_validate(original.target)
            await self.queue(target, message, person_id=original.person_id, update_of_key=ref_key)
        return len(originals)

    async def thread(self, ref_key: str, message: Message) -> int:
        """Reply in the thread of every message sent under `ref_key`."""
        originals = await self.uow.outbox.refs(ref_key)
        for original in originals:
            parent = Target.model_validate(original.target)
            target = parent.model_copy(
                update={"kind": AudienceKind.THREAD, "thread_ref": f"{THREAD_KEY}{ref_key}"}
            )
            await self.queue(target, message, person_id=original.person_id)
        return len(originals)

    def log(
        self,
        verb: str,
        *,
        person_id: int | None = None,
        cohort_id: int | None = None,
        object_ref: str | None = None,
        data: dict[str, Any] | None = None,
        at: datetime | None = None,
    ) -> None:
        """Append to the activity log; `at` when the moment must not be exact (privacy)."""
        self.uow.activity.append(
            verb=verb,
            at=at or self.now,
            person_id=person_id,
            cohort_id=cohort_id,
            object_ref=object_ref,
            data=data,
        )

    async def log_each(
        self,
        verb: str,
        *,
        person_ids: Sequence[int],
        cohort_id: int | None = None,
        object_ref: str | None = None,
    ) -> None:
        """`log` the same entry for each of these people, in order, in one statement."""
        await self.uow.activity.append_for_each(
            verb=verb,
            at=self.now,
            person_ids=person_ids,
            cohort_id=cohort_id,
            object_ref=object_ref,
        )


class DmBatch:
    """DMs added one at a time and queued together, in one statement.

    Each row takes its idempotency key when it is added, when `Effects.dm` would have
    taken it, so the keys are those of sending the same DMs one by one.
    """

    def __init__(self, effects: Effects, targets: Mapping[int, Target]) -> None:
        self._effects = effects
        self._targets = targets
        """Where `Effects.dm` would reach each person this batch may reach."""
        self._rows: list[OutboxRow] = []

    def add(self, person_id: int, message: Message, *, ref_key: str | None = None) -> bool:
        """Add a DM to the person; False (and nothing added) when they cannot be reached."""
        target = self._targets.get(person_id)
        if target is None:
            log.warning("no reachable identity", extra={"person_id": person_id})
            return False
        row = self._effects.outbox_row(target, message, person_id=person_id, ref_key=ref_key)
        self._rows.append(row)
        return True

    async def queue(self) -> int:
        """Queue what was added since the last call; returns how many were new."""
        rows, self._rows = self._rows, []
        return await self._effects.queue_rows(rows) if rows else 0
