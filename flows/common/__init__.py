"""What every feature shares: help and the member list, time off, `/cohort me`, mentions.

Its modules are the base the other features build on; it imports none of them. The
commands live in `basics`, `availability` and `me`; `view` renders their replies and
notices (pure functions).
"""

from __future__ import annotations

from flows.common import availability, basics, me
from flows.common.wiring import Wiring


def register(wiring: Wiring) -> None:
    basics.register(wiring.router)
    availability.register(router=wiring.router)
    me.register(router=wiring.router, config=wiring.config)
