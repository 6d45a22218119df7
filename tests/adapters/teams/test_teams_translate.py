"""Teams activities (Microsoft's documented shapes) as neutral events."""

from __future__ import annotations

from datetime import UTC, datetime

from adapters.teams import translate
from adapters.teams.refs import Ref, Sent
from bot.model.events import ActionInvoked, FormSubmitted, MemberJoined, MessageReceived
from tests.adapters.teams.conftest import APP_ID, CHANNEL, TENANT, payload

NOW = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)


def test_a_personal_message_is_direct_and_carries_the_conversation_reference() -> None:
    activity = payload("message_personal.json")

    [event] = translate.events(activity, now=NOW)

    assert isinstance(event, MessageReceived)
    assert event.text == "help"
    assert event.is_direct is True
    assert event.channel_id is None
    assert event.actor.platform == "teams"
    assert event.actor.workspace == TENANT
    assert event.actor.user_id == activity["from"]["id"]
    assert event.actor.display_name == "Alex Schneider"
    assert event.actor.time_zone == "Europe/Berlin"
    assert event.occurred_at == datetime(2026, 11, 23, 8, 0, 0, 123456, tzinfo=UTC)
    assert event.conversation is not None
    assert event.conversation["conversation"]["id"] == activity["conversation"]["id"]
    assert event.conversation["serviceUrl"] == activity["serviceUrl"]
    assert event.conversation["bot"]["id"] == f"28:{APP_ID}"
    assert event.conversation["user"]["id"] == activity["from"]["id"]
    token = Ref.decode(event.reply_token)
    assert token == Ref(activity["serviceUrl"], activity["conversation"]["id"], activity["id"])


def test_the_event_id_is_the_activity_id_within_its_conversation() -> None:
    activity = payload("message_personal.json")
    again = translate.events(activity, now=NOW)[0].event_id
    elsewhere = dict(activity, conversation={**activity["conversation"], "id": "a:other"})

    assert translate.events(activity, now=NOW)[0].event_id == again
    assert translate.events(elsewhere, now=NOW)[0].event_id != again
    assert translate.events(elsewhere, now=NOW)[0].event_id == f"{activity['id']}@a:other"
    assert len(again) <= 120, "long conversation ids are digested"


def test_a_channel_mention_addresses_the_bot_and_names_the_channel() -> None:
    activity = payload("message_channel_mention.json")

    [event] = translate.events(activity, now=NOW)

    assert isinstance(event, MessageReceived)
    assert event.text == "cohort join pilot-a"
    assert event.mentions_bot is True
    assert event.is_direct is False
    assert event.channel_id == CHANNEL
    assert event.thread_ref == activity["conversation"]["id"]
    assert event.conversation is None, "only a personal chat is a DM reference"


def test_other_mentions_become_neutral_mentions() -> None:
    activity = payload("message_channel_mention.json")
    activity["text"] = "<at>cohortbot</at> cohort members <at>Dana Fischer</at>&nbsp;please"
    activity["entities"].append(
        {
            "type": "mention",
            "text": "<at>Dana Fischer</at>",
            "mentioned": {"id": "29:dana", "name": "Dana Fischer"},
        }
    )

    [event] = translate.events(activity, now=NOW)

    assert isinstance(event, MessageReceived)
    assert event.text == "cohort members <@29:dana|Dana Fischer> please"


def test_a_channel_message_without_the_bots_mention_does_not_address_it() -> None:
    activity = payload("message_channel_mention.json")
    activity["text"] = "cohort help"
    activity["entities"] = []

    [event] = translate.events(activity, now=NOW)

    assert isinstance(event, MessageReceived)
    assert event.mentions_bot is False


def test_a_group_chat_is_its_own_channel() -> None:
    activity = payload("message_channel_mention.json")
    activity["conversation"] = {
        "isGroup": True,
        "conversationType": "groupChat",
        "tenantId": TENANT,
        "id": "19:meeting_abc@thread.v2",
    }
    del activity["channelData"]["channel"]

    [event] = translate.events(activity, now=NOW)

    assert event.channel_id == "19:meeting_abc@thread.v2"
    assert event.is_direct is False


def test_the_bot_installed_in_personal_scope_is_one_member_joined_from_the_installer() -> None:
    activity = payload("conversation_update_bot_added.json")

    [event] = translate.events(activity, now=NOW)

    assert isinstance(event, MemberJoined)
    assert event.bot_added is True
    assert event.actor.user_id == activity["from"]["id"]
    assert event.is_direct is True
    assert event.conversation is not None


def test_people_added_to_a_team_each_join() -> None:
    activity = payload("conversation_update_member_added.json")
    activity["membersAdded"].append({"id": "29:second"})

    events = translate.events(activity, now=NOW)

    assert [e.actor.user_id for e in events] == [activity["membersAdded"][0]["id"], "29:second"]
    assert all(isinstance(e, MemberJoined) and not e.bot_added for e in events)
    assert len({e.event_id for e in events}) == 2
    assert events[0].channel_id == "19:pilot-team@thread.tacv2"


def test_the_bot_added_to_a_team_greets_once() -> None:
    activity = payload("conversation_update_member_added.json")
    activity["membersAdded"] = [{"id": f"28:{APP_ID}"}]

    [event] = translate.events(activity, now=NOW)

    assert isinstance(event, MemberJoined)
    assert event.bot_added is True


def test_members_removed_are_not_events() -> None:
    activity = payload("conversation_update_member_added.json")
    activity["membersRemoved"] = activity.pop("membersAdded")

    assert translate.events(activity, now=NOW) == []


def test_action_submit_is_an_action_with_the_card_it_came_from() -> None:
    activity = payload("message_action_submit.json")

    [event] = translate.events(activity, now=NOW)

    assert isinstance(event, ActionInvoked)
    assert (event.action_id, event.value) == ("flow.answer", "1:time_zone:Europe/Berlin")
    assert event.is_direct is True
    assert Sent.decode(event.message_ref) == Sent(activity["conversation"]["id"], "1763884860001")


def test_action_execute_is_an_action() -> None:
    [event] = translate.events(payload("invoke_adaptive_card_action.json"), now=NOW)

    assert isinstance(event, ActionInvoked)
    assert (event.action_id, event.value) == ("flow.answer", "1:time_zone:Europe/Berlin")


def test_a_form_submission_is_a_form_with_its_values() -> None:
    activity = payload("message_action_submit.json")
    activity["value"] = {
        "cohortbot": {"form": "5:checkin", "fields": ["success", "challenge"]},
        "success": "Gave feedback",
        "challenge": "",
    }

    [event] = translate.events(activity, now=NOW)

    assert isinstance(event, FormSubmitted)
    assert event.form_id == "5:checkin"
    assert event.values == {"success": "Gave feedback", "challenge": ""}


def test_a_submit_from_someone_elses_card_is_ignored() -> None:
    activity = payload("message_action_submit.json")
    activity["value"] = {"cohortbot": {}, "x": "1"}

    assert translate.events(activity, now=NOW) == []


def test_an_unknown_time_zone_is_not_passed_on() -> None:
    activity = payload("message_personal.json")
    activity["localTimezone"] = "Mars/Olympus_Mons"
    activity["entities"] = [{"type": "clientInfo", "timezone": "Mars/Olympus_Mons"}]

    [event] = translate.events(activity, now=NOW)

    assert event.actor.time_zone is None


def test_the_client_info_entity_gives_the_sender_zone_without_local_timezone() -> None:
    activity = payload("message_personal.json")
    del activity["localTimezone"]
    activity["entities"] = [{"type": "clientInfo", "locale": "ja-JP", "timezone": "Asia/Tokyo"}]

    [event] = translate.events(activity, now=NOW)

    assert event.actor.time_zone == "Asia/Tokyo"


def test_typing_and_other_activities_are_not_events() -> None:
    activity = payload("message_personal.json")
    activity["type"] = "typing"

    assert translate.events(activity, now=NOW) == []


def test_a_reference_round_trips_and_refuses_garbage() -> None:
    ref = Ref("https://smba.trafficmanager.net/emea/", "a:1", "17")

    assert Ref.decode(ref.encode()) == ref
    assert Ref.decode("not a reference at all") is None
    assert Sent.decode(Sent("19:x@thread.tacv2", "17").encode()) == Sent("19:x@thread.tacv2", "17")
    assert Sent.decode("no-activity") is None
