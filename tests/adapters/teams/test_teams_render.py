"""Neutral messages as Adaptive Cards 1.5 and Teams text: every block, and past the limits."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from adapters.teams import translate
from adapters.teams.markup import to_teams
from adapters.teams.render import (
    CARD_CONTENT_TYPE,
    MAX_CARD_BYTES,
    activity_size,
    render,
)
from bot.model.events import ActionInvoked, FormSubmitted
from bot.model.messages import (
    Button,
    Buttons,
    Context,
    Divider,
    Fields,
    Message,
    Option,
    Rating,
    ResultBar,
    ResultBars,
    Section,
    Select,
    TextInput,
)
from tests.adapters.teams.conftest import card_actions, card_text, payload

MESSAGE_LIMIT = 28_000
"""Teams refuses a message past about 28 KB."""
NOW = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)


def _card(activity: dict[str, Any]) -> dict[str, Any]:
    [attachment] = activity["attachments"]
    assert attachment["contentType"] == CARD_CONTENT_TYPE
    content: dict[str, Any] = attachment["content"]
    return content


def _body(message: Message, **options: Any) -> list[dict[str, Any]]:
    [activity] = render(message, **options)
    body: list[dict[str, Any]] = _card(activity)["body"]
    return body


def test_a_message_without_blocks_is_a_markdown_text_activity() -> None:
    [activity] = render(Message(text="*Done.* See <https://example.com|the agenda>."))

    assert activity == {
        "type": "message",
        "text": "**Done.** See [the agenda](https://example.com).",
        "textFormat": "markdown",
    }


def test_plain_text_keeps_angle_brackets_visible() -> None:
    [activity] = render(Message(text="Usage: cohort join <cohort>"))

    assert activity["text"] == "Usage: cohort join &lt;cohort&gt;"


def test_a_cards_notification_summary_and_fallback_are_plain_text() -> None:
    text = (
        "Your time zone is set to *Europe/Berlin*. "
        "See <https://example.com/faq|the FAQ>, _ask_ <@29:1x|Sam>."
    )
    [activity] = render(Message(text=text, blocks=[Section(text=text)]))

    plain = "Your time zone is set to Europe/Berlin. See the FAQ, ask Sam."
    assert activity["summary"] == plain
    assert _card(activity)["fallbackText"] == plain


def test_a_card_is_adaptive_card_1_5_with_the_text_as_fallback() -> None:
    [activity] = render(Message(text="Welcome!", blocks=[Section(text="*Welcome!*")]))

    card = _card(activity)
    assert card["type"] == "AdaptiveCard"
    assert card["version"] == "1.5"
    assert card["fallbackText"] == "Welcome!"
    assert activity["summary"] == "Welcome!"
    assert card["body"] == [{"type": "TextBlock", "text": "**Welcome!**", "wrap": True}]


def test_fields_become_a_fact_set() -> None:
    body = _body(Message(text="x", blocks=[Fields(items=[("Cohort", "Pilot A"), ("Zone", "UTC")])]))

    assert body == [
        {
            "type": "FactSet",
            "facts": [{"title": "Cohort", "value": "Pilot A"}, {"title": "Zone", "value": "UTC"}],
        }
    ]


def test_buttons_are_actions_carrying_the_action_id_and_value() -> None:
    buttons = Buttons(
        buttons=[
            Button(label="Yes", action_id="flow.answer", value="7:tz:UTC", style="primary"),
            Button(label="Leave", action_id="cohort.leave", value="3", style="danger"),
        ]
    )

    [action_set] = _body(Message(text="x", blocks=[buttons]))

    yes, leave = action_set["actions"]
    assert action_set["type"] == "ActionSet"
    assert yes == {
        "type": "Action.Execute",
        "title": "Yes",
        "verb": "flow.answer",
        "data": {"cohortbot": {"action": "flow.answer", "value": "7:tz:UTC"}},
        "style": "positive",
    }
    assert leave["style"] == "destructive"


def test_buttons_can_be_action_submit() -> None:
    buttons = Buttons(buttons=[Button(label="Go", action_id="a.b", value="1")])

    [action_set] = _body(Message(text="x", blocks=[buttons]), execute=False)

    assert action_set["actions"] == [
        {
            "type": "Action.Submit",
            "title": "Go",
            "data": {"cohortbot": {"action": "a.b", "value": "1"}},
        }
    ]


def test_more_than_six_buttons_wrap_into_several_rows() -> None:
    many = Buttons(buttons=[Button(label=str(n), action_id="x", value=str(n)) for n in range(9)])

    rows = _body(Message(text="x", blocks=[many]))

    assert [len(row["actions"]) for row in rows] == [6, 3]


def test_a_select_is_a_choice_set_with_its_own_submit() -> None:
    select = Select(
        label="Pick a slot",
        action_id="session.slot",
        options=[Option(label="Mon", value="mon"), Option(label="Tue", value="tue")],
        multi=True,
    )

    choice, submit_row = _body(Message(text="x", blocks=[select]))

    assert choice["type"] == "Input.ChoiceSet"
    assert choice["isMultiSelect"] is True
    assert choice["choices"] == [{"title": "Mon", "value": "mon"}, {"title": "Tue", "value": "tue"}]
    [submit] = submit_row["actions"]
    assert submit["data"] == {"cohortbot": {"action": "session.slot", "input": choice["id"]}}


def test_a_rating_is_five_numbered_actions_with_its_scale_explained() -> None:
    rating = Rating(label="How useful was the session?", action_id="survey.rate")

    label, row, scale = _body(Message(text="x", blocks=[rating]))

    assert label["text"] == "How useful was the session?"
    assert [a["title"] for a in row["actions"]] == ["1", "2", "3", "4", "5"]
    assert row["actions"][3]["data"] == {"cohortbot": {"action": "survey.rate", "value": "4"}}
    assert scale["text"] == "1 = poor · 5 = excellent"
    assert scale["isSubtle"] is True


def test_a_form_has_its_inputs_and_one_submit_with_the_form_id() -> None:
    message = Message(
        text="Check-in",
        form_id="12:checkin",
        blocks=[
            Section(text="Your weekly check-in"),
            TextInput(label="What went well?", field_id="success", multiline=True),
            Context(text="Two sentences are plenty."),
            TextInput(label="Anything else?", field_id="extra", optional=True, placeholder="…"),
        ],
    )

    intro, success, hint, extra, submit_row = _body(message)

    assert intro["text"] == "Your weekly check-in"
    assert success == {
        "type": "Input.Text",
        "id": "success",
        "label": "What went well?",
        "isMultiline": True,
        "isRequired": True,
        "errorMessage": "Please fill this in.",
    }
    assert hint["size"] == "Small"
    assert extra["isRequired"] is False
    assert extra["placeholder"] == "…"
    [submit] = submit_row["actions"]
    ours = submit["data"]["cohortbot"]
    assert (ours["form"], ours["fields"]) == ("12:checkin", ["success", "extra"])
    # The form itself rides along, so a refused one can be shown again without a database.
    assert Message.model_validate(ours["message"]).form_id == "12:checkin"


def test_a_text_input_outside_a_form_asks_for_a_typed_answer() -> None:
    [hint] = _body(Message(text="x", blocks=[TextInput(label="Your area?", field_id="area")]))

    assert hint["type"] == "TextBlock"
    assert "Your area?" in hint["text"]


def test_a_divider_separates_the_next_block_and_context_is_small_and_subtle() -> None:
    first, second = _body(
        Message(text="x", blocks=[Section(text="a"), Divider(), Context(text="b")])
    )

    assert "separator" not in first
    assert second["separator"] is True
    assert (second["size"], second["isSubtle"]) == ("Small", True)


def test_result_bars_show_counts_and_percentages() -> None:
    bars = ResultBars(bars=[ResultBar(label="Yes", count=3), ResultBar(label="No", count=1)])

    yes, no = _body(Message(text="x", blocks=[bars]))

    assert yes["type"] == "ColumnSet"
    assert "3 (75%)" in card_text({"attachments": [{"content": yes}]})
    assert "1 (25%)" in card_text({"attachments": [{"content": no}]})
    assert "█" * 15 in yes["columns"][1]["items"][0]["text"]


def test_mentions_become_teams_mention_entities() -> None:
    [text] = render(Message(text="Paired <@29:abc|Dana Fischer> and <@29:def>"))
    [card] = render(Message(text="x", blocks=[Section(text="Hi <@29:abc|Dana Fischer>!")]))

    assert text["text"] == "Paired <at>Dana Fischer</at> and <at>29:def</at>"
    assert text["entities"][0] == {
        "type": "mention",
        "text": "<at>Dana Fischer</at>",
        "mentioned": {"id": "29:abc", "name": "Dana Fischer"},
    }
    assert _card(card)["body"][0]["text"] == "Hi <at>Dana Fischer</at>!"
    assert _card(card)["msteams"]["entities"][0]["mentioned"]["id"] == "29:abc"


@pytest.mark.parametrize(
    ("neutral", "teams"),
    [
        ("*bold* and _italic_", "**bold** and _italic_"),
        ("2 * 3 * 4", "2 * 3 * 4"),
        ("<https://example.com>", "https://example.com"),
        ("see <https://example.com/a?b=1|docs>", "see [docs](https://example.com/a?b=1)"),
        ("~welcome~ done", "welcome done"),
        ("Type `skip` or `/cohort help`", "Type \u201cskip\u201d or \u201ccohort help\u201d"),
        ("> nobody knows\nwho said it", "\u201cnobody knows\u201d\nwho said it"),
    ],
)
def test_neutral_markup_becomes_adaptive_card_markdown(neutral: str, teams: str) -> None:
    assert to_teams(neutral)[0] == teams


@pytest.mark.parametrize(
    ("neutral", "teams"),
    [
        ("*bold* ~old~ `skip`", "**bold** ~~old~~ `skip`"),
        ("> a quote with <cohort>", "> a quote with &lt;cohort&gt;"),
        ("Type `/cohort help`", "Type `cohort help`"),
    ],
)
def test_neutral_markup_becomes_teams_message_markdown(neutral: str, teams: str) -> None:
    assert to_teams(neutral, in_card=False)[0] == teams


def test_55_blocks_are_all_rendered_within_the_size_limit() -> None:
    blocks = [Section(text=f"Item {n}: " + "detail " * 60) for n in range(55)]

    activities = render(Message(text="A long list", blocks=list(blocks)))

    rendered = [block["text"] for a in activities for block in _card(a)["body"]]
    assert len(rendered) == 55
    assert rendered[54].startswith("Item 54:")
    assert len(activities) > 1, "more than one card's worth"
    assert all(activity_size(a) < MESSAGE_LIMIT for a in activities)
    assert all(len(str(_card(a)["body"]).encode()) < MAX_CARD_BYTES * 1.1 for a in activities)


def test_5000_characters_of_text_arrive_whole() -> None:
    long = ("The quick brown fox jumps over the lazy dog. " * 120)[:5000]

    [as_text] = render(Message(text=long))
    as_card = render(Message(text=long, blocks=[Section(text=long)]))

    assert as_text["text"] == long.strip()
    joined = " ".join(block["text"] for a in as_card for block in _card(a)["body"])
    assert joined.split() == long.split()
    assert all(len(block["text"]) <= 3000 for a in as_card for block in _card(a)["body"])
    assert all(activity_size(a) < MESSAGE_LIMIT for a in [as_text, *as_card])


def test_very_long_text_is_split_into_several_activities_under_the_limit() -> None:
    long = "Ünïcödé wörds " * 6000  # 84,000 characters, multi-byte

    activities = render(Message(text=long))

    assert len(activities) > 1
    assert all(activity_size(a) < MESSAGE_LIMIT for a in activities)
    assert " ".join(a["text"] for a in activities).split() == long.split()


def test_a_form_is_never_split_across_cards() -> None:
    filler = [Section(text="x" * 2900) for _ in range(12)]
    inputs = [TextInput(label=f"Q{n}", field_id=f"q{n}") for n in range(3)]

    activities = render(Message(text="Review", form_id="9:review", blocks=[*filler, *inputs]))

    [with_form] = [
        a for a in activities if any(el["type"] == "Input.Text" for el in _card(a)["body"])
    ]
    ids = [el["id"] for el in _card(with_form)["body"] if el["type"] == "Input.Text"]
    assert ids == ["q0", "q1", "q2"]
    assert card_actions(with_form)[-1]["data"]["cohortbot"]["form"] == "9:review"


def _clicked(action: dict[str, Any], inputs: dict[str, str] | None = None) -> dict[str, Any]:
    """The invoke Teams sends when `action` is clicked (inputs merged into its data)."""
    activity = payload("invoke_adaptive_card_action.json")
    activity["value"]["action"] = {**action, "data": {**action["data"], **(inputs or {})}}
    return activity


def test_a_rendered_button_round_trips_to_the_same_action() -> None:
    button = Button(label="Yes", action_id="flow.answer", value="7:tz:Europe/Berlin")
    [action] = card_actions(render(Message(text="x", blocks=[Buttons(buttons=[button])]))[0])

    [event] = translate.events(_clicked(action), now=NOW)

    assert isinstance(event, ActionInvoked)
    assert (event.action_id, event.value) == ("flow.answer", "7:tz:Europe/Berlin")


def test_a_rendered_select_round_trips_with_the_chosen_value() -> None:
    select = Select(
        label="Slot", action_id="session.slot", options=[Option(label="Mon", value="mon")]
    )
    [activity] = render(Message(text="x", blocks=[select]))
    choice = _card(activity)["body"][0]
    [action] = card_actions(activity)

    [event] = translate.events(_clicked(action, {choice["id"]: "mon"}), now=NOW)

    assert isinstance(event, ActionInvoked)
    assert (event.action_id, event.value) == ("session.slot", "mon")


def test_a_rendered_form_round_trips_with_only_its_fields() -> None:
    message = Message(
        text="x",
        form_id="12:checkin",
        blocks=[
            Select(label="Mood", action_id="m", options=[Option(label="ok", value="ok")]),
            TextInput(label="Well?", field_id="success"),
        ],
    )
    [activity] = render(message)
    submit = card_actions(activity)[-1]

    [event] = translate.events(_clicked(submit, {"success": "Pairing", "select_0": "ok"}), now=NOW)

    assert isinstance(event, FormSubmitted)
    assert event.form_id == "12:checkin"
    assert event.values == {"success": "Pairing"}
