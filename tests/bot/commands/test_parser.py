"""The `/cohort` command line: tokens, mentions, options, errors and help."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.commands.parser import (
    CommandSpec,
    CommandSyntaxError,
    CommandTable,
    Mention,
    Option,
    ParsedCommand,
    tokenize,
)
from bot.model.roles import Role

STAFF = frozenset({Role.FACILITATOR, Role.MODERATOR})

HELP = CommandSpec(
    name="help",
    summary="Show what I can do",
    usage="[command]",
    max_args=1,
    details="Without a command, lists every command you can use.",
)
JOIN = CommandSpec(name="join", summary="Join a cohort", usage="COHORT", min_args=1, max_args=1)
MEMBERS = CommandSpec(
    name="members",
    summary="List the members of a cohort",
    usage="[cohort]",
    max_args=1,
    aliases=("who",),
)
POLL = CommandSpec(
    name="poll",
    summary="Start a poll in this channel",
    usage='"Question" "A" "B" ... [--multi] [--anonymous] [--closes 2h]',
    min_args=3,
    max_args=None,
    options=(
        Option("multi", "flag", "let people pick more than one answer"),
        Option("anonymous", "flag", "hide who voted for what"),
        Option("closes", "duration", "close the poll after this long"),
    ),
    roles=STAFF,
    aliases=("vote",),
    details="Put the question and each answer in quotes.",
)
REVIEW = CommandSpec(
    name="review",
    summary="Ask peers to review your work",
    usage="request LINK [--reviewers 2] | reviews",
    min_args=1,
    max_args=2,
    options=(Option("reviewers", "int", "how many reviewers to ask"),),
    subcommands=("request", "reviews"),
)
PAIR = CommandSpec(
    name="pair",
    summary="Pair people for a session",
    usage="@person @person [--cohort NAME]",
    options=(Option("cohort", "text", "the cohort to pair in"),),
    roles=frozenset({Role.FACILITATOR}),
)
BAN = CommandSpec(
    name="ban",
    summary="Remove someone from the program",
    usage="@person [--for 3d]",
    options=(Option("for", "duration"),),
    roles=frozenset({Role.MODERATOR}),
)
LEAVE = CommandSpec(name="leave", summary="Leave your cohort", usage="")


@pytest.fixture
def table() -> CommandTable:
    commands = CommandTable()
    for spec in (HELP, JOIN, MEMBERS, POLL, REVIEW, PAIR, BAN, LEAVE):
        commands.register(spec)
    return commands


def syntax_error(table: CommandTable, text: str) -> CommandSyntaxError:
    with pytest.raises(CommandSyntaxError) as caught:
        table.parse(text)
    return caught.value


# --- quoting --------------------------------------------------------------------------------


def test_quoted_poll_options_stay_whole() -> None:
    assert tokenize('poll "Best format?" "Pairs" "Triads"') == [
        "poll",
        "Best format?",
        "Pairs",
        "Triads",
    ]


def test_single_quotes_group_words_too() -> None:
    assert tokenize("poll 'Best format?' 'Small groups'") == [
        "poll",
        "Best format?",
        "Small groups",
    ]


def test_typographic_quotes_from_phones_group_words() -> None:
    text = "poll \u201cBest format?\u201d \u2018Pairs of two\u2019 \u201eTriads\u201c"
    assert tokenize(text) == ["poll", "Best format?", "Pairs of two", "Triads"]


def test_typographic_opening_quote_may_close_with_straight_quote() -> None:
    assert tokenize('poll \u201cBest format?" x') == ["poll", "Best format?", "x"]


def test_typographic_quotes_inside_straight_quotes_are_text() -> None:
    assert tokenize('"She said \u201chi\u201d twice" x') == ["She said \u201chi\u201d twice", "x"]


def test_apostrophes_inside_words_are_text() -> None:
    assert tokenize("checkin I'm stuck, don\u2019t know") == [
        "checkin",
        "I'm",
        "stuck,",
        "don\u2019t",
        "know",
    ]
    assert tokenize("'don't panic' x") == ["don't panic", "x"]


def test_backslash_escapes_a_quote_inside_quotes() -> None:
    assert tokenize(r'poll "Is \"pairing\" useful?" yes no') == [
        "poll",
        'Is "pairing" useful?',
        "yes",
        "no",
    ]
    assert tokenize(r"'it\'s' \"plain\"") == ["it's", '"plain"']


def test_backslashes_elsewhere_are_kept() -> None:
    assert tokenize(r"share C:\temp\notes.md a\nb") == ["share", r"C:\temp\notes.md", r"a\nb"]


def test_a_closing_quote_may_be_followed_by_punctuation() -> None:
    assert tokenize('"Pairs", "Triads"') == ["Pairs,", "Triads"]


def test_empty_quotes_give_an_empty_argument() -> None:
    assert tokenize('poll "" x') == ["poll", "", "x"]


def test_any_whitespace_separates_words() -> None:
    assert tokenize("join\tspring\n  autumn\u00a0x") == ["join", "spring", "autumn", "x"]


@pytest.mark.parametrize(
    "text", ['poll "Best format? Pairs', "poll \u201cBest format?", "poll 'open", '"a"b']
)
def test_unbalanced_quote_is_a_syntax_error(text: str) -> None:
    with pytest.raises(CommandSyntaxError, match=r"^Unbalanced quote"):
        tokenize(text)


def test_unbalanced_quote_in_a_known_command_shows_its_usage(table: CommandTable) -> None:
    error = syntax_error(table, 'poll "Best format? Pairs Triads')
    assert error.message.startswith("Unbalanced quote")
    assert error.usage == POLL.usage_line()


# --- mentions -------------------------------------------------------------------------------


def test_mentions_in_both_forms_are_collected_in_order(table: CommandTable) -> None:
    parsed = table.parse("pair <@U123ABC> <@U456DEF|Jane Doe>")
    assert parsed.mentions == (Mention("U123ABC"), Mention("U456DEF"))
    assert parsed.args == ()


def test_mention_position_does_not_matter(table: CommandTable) -> None:
    parsed = table.parse("<@U1> pair --cohort spring <@U2|ana>")
    assert parsed.spec is PAIR
    assert parsed.mentions == (Mention("U1"), Mention("U2"))
    assert parsed.options == {"cohort": "spring"}


def test_comma_separated_and_adjacent_mentions_are_split(table: CommandTable) -> None:
    parsed = table.parse("pair <@U1>, <@U2><@U3>,<@U4|Ann Lee>")
    assert [m.user_id for m in parsed.mentions] == ["U1", "U2", "U3", "U4"]


def test_teams_style_ids_are_mentions(table: CommandTable) -> None:
    parsed = table.parse("pair <@29:1AbC-x_Y> <@29:2zz|Bo>")
    assert parsed.mentions == (Mention("29:1AbC-x_Y"), Mention("29:2zz"))


def test_mentions_inside_quotes_stay_text(table: CommandTable) -> None:
    parsed = table.parse('poll "Thanks <@U1>?" yes no')
    assert parsed.args == ("Thanks <@U1>?", "yes", "no")
    assert parsed.mentions == ()


def test_tokenize_keeps_mentions_whole() -> None:
    assert tokenize("pair <@U1|Jane Doe> x") == ["pair", "<@U1|Jane Doe>", "x"]


# --- options --------------------------------------------------------------------------------


def test_flags_and_durations_are_typed(table: CommandTable) -> None:
    parsed = table.parse('poll "Best format?" Pairs Triads --multi --closes 2h')
    assert parsed.args == ("Best format?", "Pairs", "Triads")
    assert parsed.options == {"multi": True, "closes": timedelta(hours=2)}


@pytest.mark.parametrize("written", ["--closes 1h30m", "--closes=1h30m", '--closes="1h30m"'])
def test_option_values_follow_a_space_or_equals(table: CommandTable, written: str) -> None:
    parsed = table.parse(f"poll Q A B {written}")
    assert parsed.options == {"closes": timedelta(hours=1, minutes=30)}


def test_int_option(table: CommandTable) -> None:
    parsed = table.parse("review request https://example.org/pr/1 --reviewers=3")
    assert parsed.args == ("request", "https://example.org/pr/1")
    assert parsed.options == {"reviewers": 3}


def test_text_option_keeps_quoted_value_whole(table: CommandTable) -> None:
    assert table.parse('pair <@U1> <@U2> --cohort "Spring 2025"').options == {
        "cohort": "Spring 2025"
    }
    assert table.parse("pair --cohort=\u201cSpring 2025\u201d").options == {"cohort": "Spring 2025"}


def test_options_may_come_before_arguments(table: CommandTable) -> None:
    parsed = table.parse("poll --anonymous --closes 3d Q A B")
    assert parsed.args == ("Q", "A", "B")
    assert parsed.options == {"anonymous": True, "closes": timedelta(days=3)}


def test_absent_options_are_absent(table: CommandTable) -> None:
    parsed = table.parse("poll Q A B")
    assert dict(parsed.options) == {}
    assert not parsed.flag("multi")
    assert parsed.duration("closes") is None


def test_typed_accessors(table: CommandTable) -> None:
    parsed = table.parse("poll Q A B --multi --closes 30m")
    assert parsed.name == "poll"
    assert parsed.flag("multi")
    assert parsed.duration("closes") == timedelta(minutes=30)
    with pytest.raises(TypeError):
        parsed.integer("multi")
    assert table.parse("review request x --reviewers 2").integer("reviewers") == 2
    assert table.parse("pair --cohort spring").text("cohort") == "spring"


def test_option_names_are_case_insensitive(table: CommandTable) -> None:
    assert table.parse("poll Q A B --MULTI").options == {"multi": True}


def test_phone_dashes_count_as_double_dash(table: CommandTable) -> None:
    parsed = table.parse("poll Q A B \u2014multi \u2013closes 2h")
    assert parsed.options == {"multi": True, "closes": timedelta(hours=2)}


def test_double_dash_alone_ends_options(table: CommandTable) -> None:
    parsed = table.parse("poll --multi -- Q --anonymous B")
    assert parsed.args == ("Q", "--anonymous", "B")
    assert parsed.options == {"multi": True}


def test_quoted_dashes_are_arguments(table: CommandTable) -> None:
    parsed = table.parse('poll "--multi?" A B')
    assert parsed.args == ("--multi?", "A", "B")
    assert parsed.options == {}


def test_single_dash_words_are_arguments(table: CommandTable) -> None:
    assert table.parse("poll Q -1 -x").args == ("Q", "-1", "-x")


def test_unknown_option_is_named_with_the_usage_line(table: CommandTable) -> None:
    error = syntax_error(table, "poll Q A B --colses 2h")
    assert error.message == "poll has no option --colses. Did you mean --closes?"
    assert (
        error.usage == '/cohort poll "Question" "A" "B" ... [--multi] [--anonymous] [--closes 2h]'
    )


def test_unknown_option_on_a_command_without_options(table: CommandTable) -> None:
    error = syntax_error(table, "join spring --now")
    assert error.message == "join has no option --now. It takes no options."
    assert error.usage == "/cohort join COHORT"


@pytest.mark.parametrize(
    "text", ["poll Q A B --closes", "poll Q A B --closes --multi", "poll Q A B --closes="]
)
def test_missing_option_value_is_an_error(table: CommandTable, text: str) -> None:
    error = syntax_error(table, text)
    assert error.message == "--closes needs a value, like --closes 2h."
    assert error.usage == POLL.usage_line()


def test_bad_duration_says_why(table: CommandTable) -> None:
    error = syntax_error(table, "poll Q A B --closes 2x")
    assert error.message == "--closes: '2x' is not a duration (use 30m, 2h, 3d or 2w)."
    assert error.usage == POLL.usage_line()


@pytest.mark.parametrize("value", ["two", "2.5", "1_000", "\u0663"])
def test_bad_int_says_why(table: CommandTable, value: str) -> None:
    error = syntax_error(table, f"review request x --reviewers {value}")
    assert error.message == f"--reviewers needs a whole number, not '{value}'."
    assert error.usage == REVIEW.usage_line()


def test_flag_with_a_value_is_an_error(table: CommandTable) -> None:
    assert syntax_error(table, "poll Q A B --multi=yes").message == (
        "--multi doesn't take a value."
    )


def test_valued_option_given_twice_is_an_error(table: CommandTable) -> None:
    error = syntax_error(table, "poll Q A B --closes 2h --closes 3h")
    assert error.message == "--closes is given twice."


# --- commands -------------------------------------------------------------------------------


def test_unknown_command_suggests_closest(table: CommandTable) -> None:
    error = syntax_error(table, "pol Q A B")
    assert error.message == (
        "Unknown command 'pol'. Did you mean 'poll'? Try /cohort help to see all commands."
    )
    assert error.usage is None
    assert str(error) == error.message


def test_unknown_command_without_a_close_match(table: CommandTable) -> None:
    error = syntax_error(table, "xyzzy")
    assert error.message == "Unknown command 'xyzzy'. Try /cohort help to see all commands."


def test_unknown_command_without_help_does_not_mention_help() -> None:
    commands = CommandTable()
    commands.register(POLL)
    assert syntax_error(commands, "fooo").message == "Unknown command 'fooo'."


@pytest.mark.parametrize("text", ["POLL Q A B", "Poll Q A B", "VOTE Q A B", "vote Q A B"])
def test_command_names_and_aliases_are_case_insensitive(table: CommandTable, text: str) -> None:
    assert table.parse(text).spec is POLL


def test_alias_resolves_to_the_spec(table: CommandTable) -> None:
    parsed = table.parse("who spring")
    assert parsed.spec is MEMBERS
    assert parsed.name == "members"
    assert parsed.args == ("spring",)


@pytest.mark.parametrize(
    "text",
    [
        "members spring",
        "cohort members spring",
        "/cohort members spring",
        " /COHORT  members spring",
    ],
)
def test_leading_cohort_or_slash_cohort_is_ignored(table: CommandTable, text: str) -> None:
    parsed = table.parse(text)
    assert (parsed.spec, parsed.args) == (MEMBERS, ("spring",))


def test_cohort_prefix_only_as_a_whole_word(table: CommandTable) -> None:
    assert syntax_error(table, "cohorts").message.startswith("Unknown command 'cohorts'.")


def test_custom_prefix_is_stripped_and_shown_in_usage() -> None:
    commands = CommandTable(prefix="/learn")
    commands.register(JOIN)
    assert commands.parse("learn join spring").args == ("spring",)
    assert syntax_error(commands, "/learn join").usage == "/learn join COHORT"


@pytest.mark.parametrize("text", ["", "   ", "cohort", "/cohort", "<@U1>"])
def test_empty_text_is_help(table: CommandTable, text: str) -> None:
    parsed = table.parse(text)
    assert parsed.spec is HELP
    assert parsed.args == ()


def test_empty_text_without_a_help_command_is_an_error() -> None:
    commands = CommandTable()
    commands.register(JOIN)
    assert syntax_error(commands, "").message == "Type a command after /cohort."


def test_help_option_asks_for_the_commands_help(table: CommandTable) -> None:
    assert table.parse("poll --help") == ParsedCommand(HELP, ("poll",), {}, ())
    assert table.parse("who --help").args == ("members",)
    assert table.parse("--help").spec is HELP


def test_help_with_a_command_name(table: CommandTable) -> None:
    assert table.parse("help poll").args == ("poll",)


def test_too_few_arguments_shows_the_usage_line(table: CommandTable) -> None:
    error = syntax_error(table, 'poll "Best format?" Pairs')
    assert error.message == "poll needs at least 3 arguments (you gave 2)."
    assert str(error) == (
        "poll needs at least 3 arguments (you gave 2).\n"
        'Usage: /cohort poll "Question" "A" "B" ... [--multi] [--anonymous] [--closes 2h]'
    )


def test_exact_argument_count_is_worded_exactly(table: CommandTable) -> None:
    assert syntax_error(table, "join").message == "join needs 1 argument (you gave 0)."


def test_too_many_arguments_hints_at_quotes(table: CommandTable) -> None:
    error = syntax_error(table, "join spring cohort 2025")
    assert error.message == "join takes 1 argument (you gave 3). Put text with spaces in quotes."
    assert error.usage == "/cohort join COHORT"
    assert table.parse('join "spring cohort 2025"').args == ("spring cohort 2025",)


def test_command_without_arguments_rejects_them(table: CommandTable) -> None:
    error = syntax_error(table, "leave now")
    assert error.message == "leave takes no arguments (you gave 1)."
    assert error.usage == "/cohort leave"


def test_mentions_do_not_count_as_arguments(table: CommandTable) -> None:
    assert table.parse("leave <@U1>").mentions == (Mention("U1"),)


def test_subcommand_is_normalised(table: CommandTable) -> None:
    assert table.parse("review REVIEWS").args == ("reviews",)


def test_unknown_subcommand_suggests_closest(table: CommandTable) -> None:
    error = syntax_error(table, "review requets x")
    assert error.message == "Unknown review command 'requets'. Did you mean 'request'?"
    assert error.usage == "/cohort review request LINK [--reviewers 2] | reviews"
    assert syntax_error(table, "review zzz").message == (
        "Unknown review command 'zzz'. Use one of: request, reviews."
    )


def test_missing_subcommand_lists_the_choices(table: CommandTable) -> None:
    assert syntax_error(table, "review").message == "review needs one of: request, reviews."


def test_long_input_is_shortened_in_messages(table: CommandTable) -> None:
    message = syntax_error(table, "x" * 500).message
    assert len(message) < 120


# --- the table and specs --------------------------------------------------------------------


@pytest.mark.parametrize(
    "spec",
    [
        CommandSpec(name="POLL", summary="", usage=""),
        CommandSpec(name="survey", summary="", usage="", aliases=("vote",)),
        CommandSpec(name="who", summary="", usage=""),
        CommandSpec(name="ask", summary="", usage="", aliases=("ask",)),
    ],
)
def test_register_rejects_a_taken_name_or_alias(table: CommandTable, spec: CommandSpec) -> None:
    with pytest.raises(ValueError, match="already registered"):
        table.register(spec)


def test_get_finds_names_and_aliases(table: CommandTable) -> None:
    assert table.get("Members") is MEMBERS
    assert table.get("who") is MEMBERS
    assert table.get("nope") is None


def test_specs_keep_registration_order(table: CommandTable) -> None:
    assert [spec.name for spec in table.specs()] == [
        "help",
        "join",
        "members",
        "poll",
        "review",
        "pair",
        "ban",
        "leave",
    ]


@pytest.mark.parametrize(
    "make",
    [
        lambda: CommandSpec(name="x", summary="", usage="", min_args=2, max_args=1),
        lambda: CommandSpec(name="x", summary="", usage="", min_args=-1),
        lambda: CommandSpec(name="two words", summary="", usage=""),
        lambda: CommandSpec(name="x", summary="", usage="", aliases=("--y",)),
        lambda: CommandSpec(
            name="x", summary="", usage="", options=(Option("a", "flag"), Option("A", "int"))
        ),
        lambda: Option("--closes", "duration"),
        lambda: Option("closes", "date"),  # type: ignore[arg-type]  # checks the runtime guard
    ],
)
def test_inconsistent_specs_are_refused(make: object) -> None:
    assert callable(make)
    with pytest.raises(ValueError):  # noqa: PT011  # each case has its own message
        make()


def test_usage_line() -> None:
    assert JOIN.usage_line() == "/cohort join COHORT"
    assert LEAVE.usage_line() == "/cohort leave"
    assert MEMBERS.usage_line("/learn") == "/learn members [cohort]"


def test_allows_by_role() -> None:
    assert JOIN.allows(frozenset())
    assert POLL.allows({Role.MODERATOR})
    assert not POLL.allows({Role.PARTICIPANT, Role.MENTOR})


# --- help -----------------------------------------------------------------------------------


def test_help_text_lists_every_command_in_order_without_roles(table: CommandTable) -> None:
    assert table.help_text() == "\n".join(
        [
            "/cohort help [command] — Show what I can do",
            "/cohort join COHORT — Join a cohort",
            "/cohort members [cohort] — List the members of a cohort",
            '/cohort poll "Question" "A" "B" ... [--multi] [--anonymous] [--closes 2h]'
            " — Start a poll in this channel",
            "/cohort review request LINK [--reviewers 2] | reviews — Ask peers to review your work",
            "/cohort pair @person @person [--cohort NAME] — Pair people for a session",
            "/cohort ban @person [--for 3d] — Remove someone from the program",
            "/cohort leave — Leave your cohort",
            "",
            "For details on one command: /cohort help COMMAND",
        ]
    )


def test_help_text_lists_commands_for_other_roles_last(table: CommandTable) -> None:
    lines = table.help_text(frozenset({Role.PARTICIPANT})).splitlines()
    names = [line.split()[1] for line in lines if line.startswith("/cohort")]
    assert names == ["help", "join", "members", "review", "leave", "poll", "pair", "ban"]
    heading = lines.index("For facilitators and moderators:")
    assert lines[heading + 1].startswith("/cohort poll ")
    assert lines[heading - 1] == ""


def test_help_text_heading_names_only_the_missing_roles(table: CommandTable) -> None:
    lines = table.help_text(frozenset({Role.FACILITATOR})).splitlines()
    heading = lines.index("For moderators:")
    assert [line.split()[1] for line in lines[heading + 1 : heading + 2]] == ["ban"]
    assert any(line.startswith("/cohort poll ") for line in lines[:heading])


def test_help_text_with_every_role_has_no_second_group(table: CommandTable) -> None:
    assert table.help_text(frozenset(Role)) == table.help_text()


def test_command_help_shows_everything_about_one_command(table: CommandTable) -> None:
    assert table.command_help("Vote") == "\n".join(
        [
            '/cohort poll "Question" "A" "B" ... [--multi] [--anonymous] [--closes 2h]',
            "Start a poll in this channel",
            "Put the question and each answer in quotes.",
            "Options:",
            "  --multi — let people pick more than one answer",
            "  --anonymous — hide who voted for what",
            "  --closes 2h — close the poll after this long",
            "Also written: vote",
            "Only for facilitators and moderators.",
        ]
    )


def test_command_help_of_a_plain_command(table: CommandTable) -> None:
    assert table.command_help("join") == "/cohort join COHORT\nJoin a cohort"


def test_command_help_of_an_unknown_command_suggests(table: CommandTable) -> None:
    with pytest.raises(CommandSyntaxError, match="Did you mean 'members'"):
        table.command_help("member")
