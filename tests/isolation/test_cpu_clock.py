"""The CPU clock of a uid's processes where no control group counts them (the container level)."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from autograder.isolation.confine import ProcessCpuClock
from autograder.referee.plugin import Budget

SYSTEM_PYTHON = shutil.which("python3", path="/usr/bin:/bin")
UID = 64_321  # a uid no process on this machine uses
pytestmark = [
    pytest.mark.skipif(os.geteuid() != 0, reason="runs a process as another uid: needs root"),
    pytest.mark.skipif(SYSTEM_PYTHON is None, reason="needs a system python3 every uid can run"),
]

# The parent ignores SIGCHLD, so the kernel reaps its child at once and the child's CPU time reaches
# nobody's cutime; the parent outlives the child, so a reading of the live processes never sees it.
ESCAPE = """
import os, signal, time
signal.signal(signal.SIGCHLD, signal.SIG_IGN)
if os.fork() == 0:
    start = time.process_time()
    while time.process_time() - start < {burn}:
        pass
    os._exit(0)
time.sleep({burn} + 0.6)
"""


def _as_uid() -> None:
    os.setgroups([])
    os.setgid(UID)
    os.setuid(UID)


def _run(burn: float) -> None:
    subprocess.run([SYSTEM_PYTHON, "-c", ESCAPE.format(burn=burn)], preexec_fn=_as_uid, check=True, cwd="/")


def test_a_child_nobody_waits_for_is_counted_by_the_sampler():
    clock = ProcessCpuClock(UID, interval_s=0.02)
    with clock.watching():
        (sampled_0, live_0) = clock()
        _run(0.6)
        (sampled_1, live_1) = clock()
    assert sampled_1 - sampled_0 >= 0.45  # the child's 0.6 s, less what ran between two samples
    assert live_1 - live_0 < 0.3  # what reading the live processes alone would have charged


def test_a_budget_on_the_sampled_clock_charges_the_escaped_child():
    budget = Budget(10.0, ProcessCpuClock(UID, interval_s=0.02), "CPU")
    with budget.measure() as used:
        _run(0.6)
    assert used.seconds >= 0.45 and used.clock == "CPU time"
