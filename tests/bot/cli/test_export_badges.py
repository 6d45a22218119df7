"""`cohortbot export-badges`: Open Badges 2.0 assertions, the recipient hashed, exit codes."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
from datetime import datetime
from pathlib import Path
from typing import Any

from click.testing import CliRunner, Result

from bot.cli.main import main
from tests.conftest import REPO_ROOT
from tests.flows.checkin.checkin_helpers import join, shipped
from tests.flows.recognition.badge_helpers import a_badge_pass
from tests.harness import CHANNEL, Playground, demo_config, running_bot

PUBLIC = "https://cohortbot.example.com"


def export(url: str, *options: str, public_url: str = PUBLIC) -> Result:
    env = {"DATABASE_URL": url, "COHORTBOT_PUBLIC_URL": public_url}
    args = ["export-badges", "--config", str(REPO_ROOT / "app.yaml"), *options]
    return CliRunner().invoke(main, args, env=env)


async def award_some(playground: Playground) -> None:
    """Dana hosts a session (a rule badge); she awards Sam a badge by hand; Alex joins."""
    await join(playground, "alex")
    await playground.say("dana", "/cohort session start", channel=CHANNEL)
    await a_badge_pass(playground)
    await playground.say(
        "dana", "/cohort badge award @sam program-completed for the pilot", channel=CHANNEL
    )


async def awarded_in_the_playground(url: str) -> None:
    async with running_bot(shipped(url)) as playground:
        await award_some(playground)


def check_assertion(document: dict[str, Any], email: str) -> None:
    """The fields Open Badges 2.0 requires of a hosted assertion and its embedded badge."""
    assert document["@context"] == "https://w3id.org/openbadges/v2"
    assert document["type"] == "Assertion"
    assert document["id"].startswith(f"{PUBLIC}/badges/assertions/")
    recipient = document["recipient"]
    assert (recipient["type"], recipient["hashed"]) == ("email", True)
    digest = hashlib.sha256((email + recipient["salt"]).encode()).hexdigest()
    assert recipient["identity"] == f"sha256${digest}"
    assert email not in json.dumps(document), "the address itself is never exported"
    assert document["verification"] == {"type": "hosted"}
    assert datetime.fromisoformat(document["issuedOn"]).tzinfo is not None
    badge = document["badge"]
    assert badge["type"] == "BadgeClass"
    assert badge["id"].startswith(f"{PUBLIC}/badges/classes/pilot/")
    assert badge["name"]
    assert badge["description"]
    assert badge["criteria"]["narrative"]
    mime, _, data = badge["image"].partition(";base64,")
    assert mime == "data:image/svg+xml"
    assert base64.b64decode(data).startswith(b"<svg")
    issuer = badge["issuer"]
    assert issuer["type"] == "Profile"
    assert (issuer["id"], issuer["name"], issuer["url"]) == (
        f"{PUBLIC}/badges/issuers/pilot",
        "Peer learning pilot",
        PUBLIC,
    )


async def test_export_writes_hosted_assertions_with_a_salted_email_hash(
    database_url: str, tmp_path: Path
) -> None:
    await awarded_in_the_playground(database_url)
    out = tmp_path / "dana.json"

    dana = await asyncio.to_thread(
        export, database_url, "--person", "local:dana", "--out", str(out)
    )
    sam = await asyncio.to_thread(export, database_url, "--person", "SAM@example.com")

    assert dana.exit_code == 0, dana.output
    assert "Exported 1 badge(s) of Dana Fischer to" in dana.stderr
    (hosted,) = json.loads(out.read_text(encoding="utf-8"))
    check_assertion(hosted, "dana@example.com")
    assert hosted["badge"]["name"] == "Session host"
    assert "narrative" not in hosted, "a rule badge has no reason"
    assert sam.exit_code == 0, sam.output
    (by_hand,) = json.loads(sam.stdout)
    check_assertion(by_hand, "sam@example.com")
    assert (by_hand["badge"]["name"], by_hand["narrative"]) == ("Pilot graduate", "for the pilot")
    assert by_hand["recipient"]["salt"] != hosted["recipient"]["salt"]


async def test_export_refuses_unknown_people_people_without_email_and_unknown_cohorts(
    sqlite_url: str,
) -> None:
    await awarded_in_the_playground(sqlite_url)

    nobody = await asyncio.to_thread(export, sqlite_url, "--person", "nobody@example.com")
    alex = await asyncio.to_thread(export, sqlite_url, "--person", "local:alex")
    cohort = await asyncio.to_thread(
        export, sqlite_url, "--person", "local:dana", "--cohort", "pilot-z"
    )
    filtered = await asyncio.to_thread(
        export, sqlite_url, "--person", "local:dana", "--cohort", "PILOT-A"
    )
    unverifiable = await asyncio.to_thread(export, sqlite_url, "--person", "1", public_url="")

    assert nobody.exit_code == 1
    assert "nobody is known as 'nobody@example.com'" in nobody.stderr
    assert nobody.stdout == ""
    assert alex.exit_code == 1
    assert "Alex Schneider has no email address" in alex.stderr
    assert cohort.exit_code == 2
    assert "there is no cohort 'pilot-z' (cohorts: pilot-a)" in cohort.stderr
    assert filtered.exit_code == 0
    assert len(json.loads(filtered.stdout)) == 1
    assert unverifiable.exit_code == 0
    assert "server.public_url is not set" in unverifiable.stderr
    for document in json.loads(unverifiable.stdout):
        assert document["id"].startswith("urn:uuid:")


async def test_the_bot_hosts_each_exported_assertion_its_badge_class_and_issuer_at_their_ids(
    database_url: str,
) -> None:
    async with running_bot(demo_config(database_url, COHORTBOT_PUBLIC_URL=PUBLIC)) as playground:
        await award_some(playground)
        exported = await asyncio.to_thread(export, database_url, "--person", "sam@example.com")
        (document,) = json.loads(exported.stdout)

        async def fetch(iri: str) -> tuple[int, Any]:
            response = await playground.http.get(iri.removeprefix(PUBLIC))
            body = await response.json(content_type=None) if response.status == 200 else None
            return response.status, body

        assert await fetch(document["id"]) == (200, document), "hosted as exported, same salt"
        assert await fetch(document["badge"]["id"]) == (200, document["badge"])
        assert await fetch(document["badge"]["issuer"]["id"]) == (
            200,
            document["badge"]["issuer"],
        )
        assert (await fetch(f"{PUBLIC}/badges/assertions/999"))[0] == 404
        assert (await fetch(f"{PUBLIC}/badges/classes/pilot/golden-star"))[0] == 404
        response = await playground.http.get(document["id"].removeprefix(PUBLIC))
        assert response.content_type == "application/ld+json"
