"""Written answers: markdown cells tagged `written-answer` in the notebooks a submission holds."""

from __future__ import annotations

import json
from pathlib import Path

from autograder.intake.names import truncate

WRITTEN_ANSWER_TAG = "written-answer"
ANSWER_PLACEHOLDER = "_Write your answer here._"
MAX_ANSWER_CHARS, MAX_ANSWERS = 20_000, 20  # a result file stays small whatever a notebook holds


def written_answers(notebook: Path) -> dict[str, str]:
    """Return {answer id: text} from a notebook's markdown cells tagged `written-answer`; an unreadable notebook gives {}."""
    try:
        cells = json.loads(notebook.read_text(encoding="utf-8", errors="replace")).get("cells", [])
    except (OSError, ValueError, RecursionError, AttributeError):
        return {}
    answers: dict[str, str] = {}
    for n, cell in enumerate(c for c in cells if isinstance(c, dict) and c.get("cell_type") == "markdown"):
        meta = cell.get("metadata") if isinstance(cell.get("metadata"), dict) else {}
        if WRITTEN_ANSWER_TAG not in (meta.get("tags") or []):
            continue
        source = cell.get("source", "")
        text = "".join(map(str, source)) if isinstance(source, list) else str(source)
        key = truncate(str(meta.get("answer_id") or cell.get("id") or f"answer_{n}"), 80)
        answers[key] = truncate(text.replace(ANSWER_PLACEHOLDER, "").strip(), MAX_ANSWER_CHARS)
        if len(answers) == MAX_ANSWERS:
            break
    return answers


def written_answers_in(folder: Path) -> dict[str, str]:
    """Return the written answers of the notebooks at the top of a staged submission folder (the first notebook wins per id)."""
    answers: dict[str, str] = {}
    for notebook in sorted(p for p in folder.glob("*") if p.suffix.casefold() == ".ipynb" and p.is_file() and not p.is_symlink()):
        answers = written_answers(notebook) | answers
    return answers
