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
