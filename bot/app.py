"""The composition root: builds every part of cohortbot from the configuration."""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import os
import socket
from collections.abc import Mapping
from datetime import timedelta

from aiohttp import web
from sqlalchemy.exc import SQLAlchemyError

from adapters.local.adapter import LocalAdapter, PlaygroundChannel, PlaygroundPerson
from adapters.local.guard import HostPolicy
from adapters.slack.app import SlackAdapter
from adapters.teams.app import TeamsAdapter
from bot.commands.router import CommandRouter
from bot.config import AppConfig
from bot.config.poll_secret import secret_file, with_poll_secret
from bot.model.events import InboundEvent
from bot.model.ports import Adapter, PlatformClient, UserProfiles, supports_group_dm
from bot.runtime import retention, simulation_record
from bot.runtime.clock import Clock, SystemClock
from bot.runtime.cohort_setup import CohortSetup
from bot.runtime.dispatch import Dispatcher
from bot.runtime.engine import FlowEngine
from bot.runtime.scheduler import Scheduler, TaskRegistry
from bot.runtime.seed import seed_from_config
from bot.runtime.sender import Sender
from bot.support.metrics import Metrics
from bot.support.server_secret import ServerSecret
from bot.web.links import DashboardLinks
from bot.web.ops import add_ops_routes
from bot.xapi import delivery as xapi_delivery
from bot.xapi.lrs import LrsClient
from flows.common.wiring import Wiring
from flows.registry import register_all, register_routes
from storage import migrate
from storage.db import create_engine, is_sqlite, session_factory, sqlite_path
from storage.files import open_to_others, sqlite_files
from storage.leader import LeaderLock
from storage.statuses import StatementStatus
from storage.uow import unit_of_work

log = logging.getLogger(__name__)

READY_WRITE_SECONDS = 2.0
READY_PROBE_KEY = "readyz.last_write"
"""`/readyz` writes this setting: ready means the inbox could take an event now."""


class StartupError(Exception):
    """The bot cannot start as configured; the message says why and what to change."""


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class CohortBot:
    """One running bot: database, adapters, dispatcher, scheduler, sender and web routes."""

    def __init__(
        self,
        config: AppConfig,
        *,
        clock: Clock | None = None,
        node_id: str | None = None,
        extra_clients: Mapping[str, PlatformClient] | None = None,
    ) -> None:
        config = with_poll_secret(config)
        self.config = config
        self.clock = clock or SystemClock()
        self.node_id = node_id or f"{socket.gethostname()}:{os.getpid()}"
        self._check_exposure()
        self.engine = create_engine(config.storage.url, echo=config.storage.echo)
        self._check_file_modes()
        self.sessions = session_factory(self.engine)
        self.metrics = Metrics()
        self.flows = FlowEngine(config)
        self.router = CommandRouter()
        self.tasks = TaskRegistry()
        self.cohort_setup = CohortSetup()
        self.secret = ServerSecret(config.server.secret_key)
        self.links = DashboardLinks(lambda: self.secret.value)
        register_all(
            Wiring(
                router=self.router,
                engine=self.flows,
                tasks=self.tasks,
                config=config,
                setup=self.cohort_setup,
                links=self.links,
            )
        )
        self.flows.register_tasks(self.tasks)
        self.adapters: dict[str, Adapter] = {}
        self.local = self._local_adapter() if config.platforms.local.enabled else None
        if self.local is not None:
            self.adapters[self.local.platform] = self.local
        if config.platforms.slack.enabled:
            slack = SlackAdapter(config.platforms.slack, sink=self.accept)
            self.adapters[slack.platform] = slack
        teams = self._teams_adapter()
        if teams is not None:
            self.adapters[teams.platform] = teams
        clients: dict[str, PlatformClient] = {n: a.client for n, a in self.adapters.items()}
        clients.update(extra_clients or {})
        self.platforms = frozenset(clients)
        group_platforms = frozenset(n for n, c in clients.items() if supports_group_dm(c))
        self.sender = Sender(
            sessions=self.sessions,
            clock=self.clock,
            clients=clients,
            config=config.sender,
            metrics=self.metrics,
            leader=LeaderLock(self.engine, "cohortbot.sender"),
        )
        self.dispatcher = Dispatcher(
            sessions=self.sessions,
            clock=self.clock,
            engine=self.flows,
            router=self.router,
            metrics=self.metrics,
            platforms=self.platforms,
            on_effects=self.sender.wake,
            config=config,
            # SQLite has one writer: more workers would only queue on its lock.
            workers=2 if is_sqlite(config.storage.url) else 8,
            group_platforms=group_platforms,
            profiles={n: c for n, c in clients.items() if isinstance(c, UserProfiles)},
        )
        self.scheduler = Scheduler(
            sessions=self.sessions,
            clock=self.clock,
            tasks=self.tasks,
            platforms=self.platforms,
            node_id=self.node_id,
            grace=timedelta(minutes=config.scheduler.grace_minutes),
            tick_seconds=config.scheduler.tick_seconds,
            on_effects=self.sender.wake,
            group_platforms=group_platforms,
            # SQLite has one writer; PostgreSQL runs different cohorts' timers side by side.
            concurrency=1 if is_sqlite(config.storage.url) else 8,
        )
        self.xapi = (
            xapi_delivery.XapiDelivery(
                sessions=self.sessions,
                clock=self.clock,
                config=config,
                client=LrsClient(config.xapi),
            )
            if config.xapi.enabled
            else None
        )
        self.tasks.register(xapi_delivery.TASK, xapi_delivery.task_handler(self.xapi))
        self.pruner = retention.Pruner(self.sessions, self.clock, config.retention)
        self.tasks.register(retention.TASK, retention.task_handler(self.pruner))
        self.web = web.Application()
        for adapter in self.adapters.values():
            adapter.add_routes(self.web)
        add_ops_routes(self.web, readiness=self.readiness, metrics=self.render_metrics)
        register_routes(
            self.web, sessions=self.sessions, config=config, now=self.clock.now, links=self.links
        )
        self._sender_task: asyncio.Task[None] | None = None
        self._xapi_task: asyncio.Task[None] | None = None
        self._accepting = True

    def _check_exposure(self) -> None:
        server = self.config.server
        if (
            self.config.platforms.local.enabled
            and not is_loopback(server.host)
            and not server.playground_token
        ):
            raise StartupError(
                f"The playground would be open to the network on {server.host}. Bind to "
                "127.0.0.1 (HOST), set COHORTBOT_PLAYGROUND_TOKEN, or disable "
                "platforms.local in app.yaml."
            )

    def _check_file_modes(self) -> None:
        """Warn about a database or secret file that others than its owner may read.

        Files made by cohortbot are owner-only; older ones, copies and restores may not
        be, and changing a mode the operator may have chosen is left to them.
        """
        database = sqlite_path(self.config.storage.url)
        paths = [*(sqlite_files(database) if database else []), secret_file(self.config)]
        for path in paths:
            mode = open_to_others(path)
            if mode is not None:
                log.warning(
                    "%s is open to other users (mode %o): it holds secrets; chmod 600 it",
                    path,
                    mode,
                )

    def _teams_adapter(self) -> TeamsAdapter | None:
        """Teams always runs: validated with an app id, else emulator mode on loopback only."""
        teams = self.config.platforms.teams
        loopback = is_loopback(self.config.server.host)
        if teams.emulator_mode and not loopback:
            log.warning(
                "Teams is off: emulator mode (no MICROSOFT_APP_ID) is allowed only on loopback"
            )
            return None
        try:
            return TeamsAdapter(teams, sink=self.accept, clock=self.clock, loopback=loopback)
        except ValueError as error:
            raise StartupError(str(error)) from error

    def _local_adapter(self) -> LocalAdapter:
        local = self.config.platforms.local
        channels = [
            PlaygroundChannel(id=cohort.channels["local"], name=cohort.name)
            for cohort in self.config.cohorts
            if cohort.channels.get("local")
        ]
        people = [
            PlaygroundPerson(id=p.id, name=p.name, time_zone=p.time_zone, email=p.email)
            for p in local.people
        ]

        async def roles() -> dict[str, list[str]]:
            async with unit_of_work(self.sessions) as uow:
                found = await uow.cohorts.roles_by_user("local", local.workspace)
            return {user: sorted(names) for user, names in found.items()}

        return LocalAdapter(
            workspace=local.workspace,
            people=people,
            channels=channels,
            sink=self.accept,
            roles=roles,
            clock=self.clock,
            token=self.config.server.playground_token,
            hosts=HostPolicy.for_server(self.config.server.host, self.config.server.public_url),
            secret_key=lambda: self.secret.value,
        )

    async def accept(self, event: InboundEvent) -> bool:
        """The adapters' event sink; refuses new events while shutting down."""
        if not self._accepting:
            raise web.HTTPServiceUnavailable(text="cohortbot is shutting down")
        return await self.dispatcher.accept(event)

    async def prepare(self, *, upgrade: bool = True) -> None:
        """Migrate, seed from app.yaml, and process events left from before a stop."""
        if upgrade:
            await migrate.upgrade(self.engine)
        for adapter in self.adapters.values():
            await adapter.start()
        async with unit_of_work(self.sessions) as uow:
            await self.secret.load(uow, now=self.clock.now())
            await seed_from_config(uow, self.config, now=self.clock.now())
            await self.cohort_setup.install(uow, self.config, now=self.clock.now())
            await xapi_delivery.install_timer(uow, self.config, now=self.clock.now())
            await retention.install_timer(uow, self.config.retention, now=self.clock.now())
            if self.local is not None:
                self.local.add_people(
                    [
                        PlaygroundPerson(id=p.id, name=p.name, time_zone=p.time_zone)
                        for p in await simulation_record.staff(uow)
                    ]
                )
        recovered = await self.dispatcher.recover()
        if recovered:
            log.info("recovered pending events", extra={"count": recovered})

    def start_background(self) -> None:
        """Start the scheduler's ticker, the outbox sender loop and the xAPI delivery loop."""
        self.scheduler.start()
        self._sender_task = asyncio.create_task(self.sender.run())
        if self.xapi is not None:
            self._xapi_task = asyncio.create_task(self.xapi.run())

    async def stop(self) -> None:
        """Stop intake, finish events and sends in flight, leave the rest in the outbox."""
        self._accepting = False
        await self.dispatcher.drain()
        await self.dispatcher.close()
        await self.pruner.wait()
        self.scheduler.stop()
        self.sender.stop()
        if self._sender_task is not None:
            await self._sender_task
            self._sender_task = None
        if self.xapi is not None:
            self.xapi.stop()
            if self._xapi_task is not None:
                await self._xapi_task
                self._xapi_task = None
            await self.xapi.close()
        for adapter in self.adapters.values():
            await adapter.close()
        await self.engine.dispose()

    async def readiness(self) -> dict[str, str]:
        if not await migrate.is_current(self.engine):
            return {"migrations": "the database schema is not at the latest revision"}
        problem = await self._write_problem()
        return {"database": problem} if problem else {}

    async def _write_problem(self) -> str | None:
        """Why the database cannot take a write within the acknowledgement budget, if so."""
        try:
            async with asyncio.timeout(READY_WRITE_SECONDS), unit_of_work(self.sessions) as uow:
                await uow.settings.put(
                    READY_PROBE_KEY, self.clock.now().isoformat(), now=self.clock.now()
                )
        except TimeoutError:
            return f"a write took longer than {READY_WRITE_SECONDS:g} s"
        except (SQLAlchemyError, OSError) as error:
            return f"cannot write: {type(error).__name__}"
        return None

    async def render_metrics(self) -> bytes:
        async with unit_of_work(self.sessions) as uow:
            depth = await uow.outbox.depth()
            queues = await uow.outbox.depth_by_class()
        for status in ("pending", "sending", "sent", "dead", "superseded"):
            self.metrics.outbox_depth.labels(status).set(depth.get(status, 0))
        self.metrics.outbox_queue.clear()
        for platform, workspace, delivery_class, waiting in queues:
            self.metrics.outbox_queue.labels(platform, workspace, delivery_class).set(waiting)
        for (platform, workspace), rate in self.sender.learned_rates().items():
            self.metrics.learned_rate.labels(platform, workspace).set(rate)
        if self.xapi is not None:
            async with unit_of_work(self.sessions) as uow:
                queue = await uow.xapi.depth()
            for status in StatementStatus:
                self.metrics.xapi_queue.labels(status).set(queue.get(status, 0))
        self.metrics.scheduler_lag.set(self.scheduler.lag_seconds)
        self.metrics.scheduler_runs.set(self.scheduler.runs)
        return self.metrics.render()

    # Test and simulation helpers: drive everything on the injected clock.

    async def settle(self, *, rounds: int = 20) -> None:
        """Process accepted events, run due timers and deliver until nothing is left to do."""
        for _ in range(rounds):
            await self.dispatcher.drain()
            ran = await self.scheduler.tick()
            sent = await self.sender.drain_once()
            if self.xapi is not None:
                await self.xapi.run_requested()
            if not ran and not sent and not self.dispatcher.busy:
                return
