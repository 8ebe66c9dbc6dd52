"""Cells every handout notebook shares: running with stubs, and written answers the grader collects.

Used by scripts/build_a*_notebook.py. `stop_at_stubs` lets a notebook run top to bottom before the
student has written anything, saying which function to write next; `answer_cells` writes markdown
cells tagged `written-answer` (autograder.intake.answers.WRITTEN_ANSWER_TAG) that grading collects from
the submitted notebook into a result's `metadata.written_answers`.
"""

from __future__ import annotations

import textwrap

from nbformat.v4 import new_code_cell, new_markdown_cell

from autograder.intake.answers import ANSWER_PLACEHOLDER, WRITTEN_ANSWER_TAG

GUARD_INTRO = """## While you work

Most cells below run inside `with stop_at_stubs():`. When a cell reaches a function you have not
written yet, it stops there and prints which one to write next, for example
``write `layers.affine_forward` next (layers.py)``; the notebook still runs to the end. Once you have
written it, run the cell again."""

GUARD_CODE = '''import contextlib
import os
import traceback

STUBS_REACHED = []  # the functions the cells reached that still raise NotImplementedError, in order


def _your_frame(exc):
    """Return (`module.function`, file) for the innermost frame of your modules in exc's traceback, or None."""
    here = os.path.abspath(os.getcwd())
    for frame, _ in reversed(list(traceback.walk_tb(exc.__traceback__))):
        path = os.path.abspath(frame.f_code.co_filename)
        if os.path.dirname(path) == here and path.endswith(".py"):
            file = os.path.basename(path)
            return f"{file[:-3]}.{frame.f_code.co_qualname}", file
    return None


@contextlib.contextmanager
def stop_at_stubs():
    """Run a cell; at a function you have not written yet, stop the cell and say which one to write next."""
    try:
        yield
    except NotImplementedError as exc:
        name, file = _your_frame(exc) or (str(exc) or "the function in the traceback", "your modules")
        STUBS_REACHED.append(name)
        print(f"write `{name}` next ({file}); this cell stopped there.")
    except NameError as exc:
        if not STUBS_REACHED or _your_frame(exc):  # a name missing in your own code is a bug to see
            raise
        print(f"skipped: this cell needs `{exc.name}`, which a cell above could not compute yet "
              f"(write `{STUBS_REACHED[0]}` first).")'''

SUMMARY_CODE = """if STUBS_REACHED:
    print(f"Next: write `{STUBS_REACHED[0]}`. Cells stopped at: {', '.join(dict.fromkeys(STUBS_REACHED))}.")
else:
    print("Every cell ran to its end: the functions this notebook uses are all written.")"""


def guard_cells() -> list:
    """Return the markdown and code cells that define `stop_at_stubs`."""
    return [new_markdown_cell(GUARD_INTRO), new_code_cell(GUARD_CODE)]


def guarded(code: str):
    """Return a code cell running `code` inside `with stop_at_stubs():`."""
    return new_code_cell("with stop_at_stubs():\n" + textwrap.indent(code, "    "))


def summary_cells() -> list:
    """Return the last cells: which function to write next, or that every cell ran."""
    return [new_markdown_cell("## Where you are"), new_code_cell(SUMMARY_CODE)]


def answer_cells(questions: list[tuple[str, str]]) -> list:
    """Return, per (answer id, question text), the question and a markdown answer cell tagged `written-answer`."""
    cells = [
        new_markdown_cell(
            "### Questions\n\nWrite each answer in the cell under it (double-click it). These cells are tagged "
            f"`{WRITTEN_ANSWER_TAG}`: your answers are collected from the notebook you submit."
        )
    ]
    for n, (answer_id, text) in enumerate(questions, start=1):
        cells.append(new_markdown_cell(f"**{n}.** {text}\n\n**Your answer:**"))
        answer = new_markdown_cell(ANSWER_PLACEHOLDER)
        answer.metadata.update({"tags": [WRITTEN_ANSWER_TAG], "answer_id": answer_id})
        cells.append(answer)
    return cells
