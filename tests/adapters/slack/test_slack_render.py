"""Block Kit rendering of every neutral block, within Slack's limits."""

from __future__ import annotations

from adapters.slack.render import (
    chunks,
    escape,
    home_view,
    modal_view,
    render_blocks,
    split_text,
)
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


def test_every_neutral_block_has_a_block_kit_form() -> None:
    message = Message(
        text="all blocks",
        blocks=[
            Section(text="*Hello*"),
            Fields(items=[("Cohort", "Pilot A"), ("Week", "3")]),
            Buttons(buttons=[Button(label="Yes", action_id="a.b", value="1", style="primary")]),
            Select(label="Pick", action_id="s.t", options=[Option(label="One", value="1")]),
            Rating(label="How was it?", action_id="r.t"),
            TextInput(label="Your answer", field_id="answer"),
            Divider(),
            Context(text="small print"),
            ResultBars(
                bars=[ResultBar(label="Pairs", count=3), ResultBar(label="Triads", count=1)]
            ),
        ],
    )
    blocks = render_blocks(message)
    kinds = [block["type"] for block in blocks]

    assert kinds == [
        "section",
        "section",
        "actions",
        "section",
        "section",
        "actions",
        "context",
        "context",
        "divider",
        "context",
        "section",
    ]
    assert blocks[1]["fields"][0]["text"] == "*Cohort*\nPilot A"
    assert blocks[2]["elements"][0]["style"] == "primary"
    assert blocks[3]["accessory"]["type"] == "static_select"
    assert [e["value"] for e in blocks[5]["elements"]] == ["1", "2", "3", "4", "5"]
    assert "75%" in blocks[-1]["text"]["text"]


def test_action_ids_are_unique_within_a_message() -> None:
    buttons = [Button(label=str(n), action_id="flow.answer", value=str(n)) for n in range(4)]
    blocks = render_blocks(
        Message(
            text="q", blocks=[Buttons(buttons=buttons), Rating(label="r", action_id="flow.answer")]
        )
    )
    ids = [e["action_id"] for b in blocks if b["type"] == "actions" for e in b["elements"]]

    assert len(ids) == len(set(ids)) == 9


def test_fifty_five_blocks_become_two_messages() -> None:
    message = Message(text="long", blocks=[Section(text=f"item {n}") for n in range(55)])

    parts = chunks(render_blocks(message))

    assert [len(part) for part in parts] == [50, 5]


def test_five_thousand_characters_split_into_sections_under_three_thousand() -> None:
    text = " ".join(["word"] * 1000)  # 4,999 characters
    blocks = render_blocks(Message(text=text, blocks=[Section(text=text)]))

    assert len(blocks) == 2
    assert all(len(block["text"]["text"]) <= 3000 for block in blocks)
    assert " ".join(block["text"]["text"] for block in blocks) == text


def test_split_text_keeps_every_character_of_unbroken_text() -> None:
    text = "x" * 7000
    assert "".join(split_text(text)) == text


def test_angle_brackets_are_escaped_but_links_and_mentions_kept() -> None:
    text = "Use /cohort join <cohort> & see <https://example.org|docs>, ask <@U123>"

    assert escape(text) == (
        "Use /cohort join &lt;cohort&gt; &amp; see <https://example.org|docs>, ask <@U123>"
    )


def test_the_bots_own_labelled_links_stay_links_with_the_label_escaped() -> None:
    text = "Here is <http://127.0.0.1:3978/dashboard?t=a&b=1|open the dashboard & KPIs>."

    assert escape(text) == (
        "Here is <http://127.0.0.1:3978/dashboard?t=a&b=1|open the dashboard &amp; KPIs>."
    )


def test_form_message_offers_a_button_and_opens_as_a_modal() -> None:
    form = Message(
        text="Weekly check-in",
        form_id="7:answers:",
        blocks=[
            Section(text="Tell us about your week"),
            TextInput(label="One success", field_id="success", multiline=True),
            TextInput(label="One challenge", field_id="challenge", optional=True),
        ],
    )
    chat = render_blocks(form, outbox_id=41)
    view = modal_view(form)

    assert chat[-1]["elements"][0]["value"] == "41"
    assert chat[-1]["elements"][0]["action_id"].startswith("form.open#")
    assert view["callback_id"] == "7:answers:"
    inputs = [b for b in view["blocks"] if b["type"] == "input"]
    assert [(b["block_id"], b["optional"]) for b in inputs] == [
        ("success", False),
        ("challenge", True),
    ]
    assert inputs[0]["element"]["multiline"] is True


def test_home_view_is_a_home_surface() -> None:
    view = home_view(Message(text="home", blocks=[Section(text="Hi")]))
    assert view["type"] == "home"
