"""Intake: turn what a student handed in into a staged folder of importable modules."""

MAX_NOTES = 50


class SubmissionError(ValueError):
    """A submission cannot be staged; the message says what is wrong and what to do."""


def add_note(notes: list[str], text: str) -> None:
    """Append a note for the student and TA, keeping at most `MAX_NOTES`."""
    if len(notes) < MAX_NOTES:
        notes.append(text)
    elif len(notes) == MAX_NOTES:
        notes.append("more notes were left out")
