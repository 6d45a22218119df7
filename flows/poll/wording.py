"""Reading a poll as typed: the question and its options, quoted or not.

Quoted text is always one piece. Bare words are read as prose: the question ends at its
first `?` (or at the first `|` when it has none), and bare options are separated by `|`
when there is one, otherwise by commas. Whatever cannot be read that way is refused
rather than guessed, so a poll is never posted with options nobody meant.
"""

from __future__ import annotations

from dataclasses import dataclass

NO_QUESTION_END = (
    "Where does the question end? End it with `?`, put it in quotes, or separate "
    "question and options with `|`."
)
EMPTY_OPTION = "An option is empty."


@dataclass(frozen=True)
class Wording:
    """A poll as typed: the question and each option, stripped."""

    question: str
    options: tuple[str, ...]


@dataclass(frozen=True)
class _Run:
    text: str
    quoted: bool


def _runs(args: tuple[str, ...], quoted: tuple[bool, ...]) -> list[_Run]:
    """Quoted arguments one run each; neighbouring bare words joined into one run."""
    runs: list[_Run] = []
    for text, was_quoted in zip(args, quoted, strict=True):
        if not was_quoted and runs and not runs[-1].quoted:
            runs[-1] = _Run(f"{runs[-1].text} {text}", quoted=False)
        else:
            runs.append(_Run(text, was_quoted))
    return runs


def _split(text: str, *, after_question: bool) -> list[str]:
    """Bare options: `|`-separated when there is a `|`, else comma-separated.

    A separator right after the question (`Best day? | Mon | Tue`, `Best day?, Mon | Tue`)
    opens the list and is not an empty option.
    """
    if after_question:
        text = text.strip().removeprefix(",").removeprefix("|")
    separator = "|" if "|" in text else ","
    pieces = [piece.strip() for piece in text.split(separator)]
    if any(not piece for piece in pieces):
        raise ValueError(EMPTY_OPTION)
    return pieces


def read_poll(args: tuple[str, ...], quoted: tuple[bool, ...]) -> Wording:
    """The question and options of `/cohort poll ...`; ValueError says what is unclear."""
    runs = _runs(args, quoted)
    first, rest = runs[0], runs[1:]
    options: list[str] = []
    if first.quoted:
        question = first.text
    elif "?" in first.text:
        before, _, after = first.text.partition("?")
        question = f"{before}?"
        if after.strip():
            options += _split(after, after_question=True)
    elif "|" in first.text:
        question, _, after = first.text.partition("|")
        options += _split(after, after_question=False)
    elif rest and "," not in first.text:
        question = first.text  # bare words up to the first quoted option
    else:
        raise ValueError(NO_QUESTION_END)
    for run in rest:
        options += [run.text.strip()] if run.quoted else _split(run.text, after_question=False)
    return Wording(question=question.strip(), options=tuple(options))
