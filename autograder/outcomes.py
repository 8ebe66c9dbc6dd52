"""The grading outcomes and the messages that name them; the bottom layer, imported by everything above."""

# Outcomes, kept apart (DESIGN.md, "Grading outcomes").
PASSED = "passed"
FAILED = "failed"
ERRORED = "errored"
NOT_ATTEMPTED = "not attempted"
TIMED_OUT = "timed out"
CRASHED = "crashed"
GRADER_ERROR = "grader error"
OUTCOMES = (PASSED, FAILED, ERRORED, NOT_ATTEMPTED, TIMED_OUT, CRASHED, GRADER_ERROR)

NOT_ATTEMPTED_MSG = "Not attempted: `{name}` still raises NotImplementedError. Fill in the marked region."
TIMEOUT_MSG = "Timed out: {test} took longer than its {limit:g} s limit. Look for an endless loop or slow Python loops."
OOM_MSG = "Out of memory: {test} exceeded the {limit} MiB memory limit. Avoid building huge arrays."
GRADER_ERROR_MSG = "Internal grading error in {test}; this is not your fault. Your instructor has been notified in the log."
CRASH_MSG = "Crashed: {why} during {test}. The other tests still ran."
STARTUP_TIMEOUT_MSG = (
    "Timed out: importing your modules did not finish within {limit:g} s, so no test could run. "
    "Move top-level work (training, loops) into functions."
)
OUTPUT_MSG = "Your code wrote more than the {limit} MiB allowed for output and files (in {test}). Print less."
UNUSABLE_MSG = "The test could not use what your code returned ({kind}: {error}). Check the return values against the docstring."
SIGNATURE_MSG = "{name} could not be called as the handout specifies: {handout} ({yours}). Keep the handout's signature."
CALL_MSG = "{name} could not be called with the test's arguments ({error}). Keep the names and signatures from the handout."
ATTRIBUTE_MSG = "Your `{owner}` has no attribute `{attr}`, which the handout's `{owner}` defines ({error}). Keep the names from the handout."
UNFIT_MSG = (
    "{subject} cannot be used as the test needs it ({error}). Return what the docstring describes "
    "(a list, tuple, dict or NumPy array); wrap a lazy `map`, `filter` or generator in list(...)."
)
REPLY_MSG = (
    "What {subject} returned cannot be sent to the grader: {error}. "
    "Return plain values (numbers, lists, tuples, dicts, NumPy arrays of numbers) as the docstring says."
)
ITEM_MSG = "{subject} has no item {key} ({error}). Check the keys and the length the docstring gives."
SERVE_FAILED_MSG = (
    "The process running your code could not serve this test's request. Leave the objects the test gives you "
    "and Python's built-ins as they are; if your code does, tell your instructor."
)
