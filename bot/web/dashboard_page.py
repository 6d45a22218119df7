"""What the dashboard page shows, as plain data, and its HTML rendering."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup

_TEMPLATES = Environment(
    loader=PackageLoader("bot", "web/templates"),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)


@dataclass(frozen=True)
class ScopeLink:
    """One entry of the cohort and program picker."""

    label: str
    url: str
    current: bool


@dataclass(frozen=True)
class KpiRow:
    """A KPI as the table shows it; `status` is green, amber, red or none."""

    key: str
    name: str
    shown: str
    target: str
    status: str
    trend: str = ""


@dataclass(frozen=True)
class ChartCard:
    title: str
    svg: str
    caption: str = ""


@dataclass(frozen=True)
class AtRisk:
    name: str
    reason: str


@dataclass(frozen=True)
class DashboardPage:
    title: str
    subtitle: str
    generated_at: datetime
    scopes: list[ScopeLink] = field(default_factory=list)
    kpis: list[KpiRow] = field(default_factory=list)
    charts: list[ChartCard] = field(default_factory=list)
    at_risk: list[AtRisk] = field(default_factory=list)


STATUS_LABELS = {
    "green": "on target",
    "amber": "at risk",
    "red": "needs intervention",
    "none": "no data",
}


def render_page(page: DashboardPage) -> str:
    template = _TEMPLATES.get_template("dashboard.html")
    charts = [(card, Markup(card.svg)) for card in page.charts]  # noqa: S704 - our own SVG, labels escaped
    return template.render(page=page, charts=charts, status_labels=STATUS_LABELS)


def render_refusal(message: str) -> str:
    """The refusal page; a `command` in the message is shown as code, not with its backticks."""
    pieces = message.split("`")
    if len(pieces) % 2 == 0:  # an unmatched backtick is just a character
        pieces = [message]
    reason = Markup("").join(
        Markup("<code>{}</code>").format(piece) if index % 2 else piece
        for index, piece in enumerate(pieces)
    )
    return _TEMPLATES.get_template("refused.html").render(message=reason)
