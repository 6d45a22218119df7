"""Operations endpoints: liveness, readiness and Prometheus metrics."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST

log = logging.getLogger(__name__)

ReadinessCheck = Callable[[], Awaitable[dict[str, str]]]
"""Returns problems by component; empty when ready."""
MetricsRender = Callable[[], Awaitable[bytes]]


def add_ops_routes(
    app: web.Application, *, readiness: ReadinessCheck, metrics: MetricsRender
) -> None:
    async def healthz(_request: web.Request) -> web.Response:
        return web.json_response({"status": "up"})

    async def readyz(_request: web.Request) -> web.Response:
        try:
            problems = await readiness()
        except Exception as error:
            log.exception("readiness check failed")
            problems = {"database": f"unreachable ({type(error).__name__})"}
        if problems:
            return web.json_response({"status": "not ready", "problems": problems}, status=503)
        return web.json_response({"status": "ready"})

    async def metrics_page(_request: web.Request) -> web.Response:
        body = await metrics()
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})

    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/metrics", metrics_page)
