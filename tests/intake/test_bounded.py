import os
import time

import pytest

from autograder.intake.bounded import BoundedFailure, Bounds, run_bounded

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="bounded children need fork")


def test_the_answer_comes_back_and_the_child_does_not_touch_the_parent():
    marker = []
    answer = run_bounded(lambda: marker.append(1) or {"pid": os.getpid(), "text": "caf\udce9"})
    assert answer["pid"] != os.getpid() and answer["text"] == "caf\udce9"
    assert marker == []


def test_a_child_past_its_wall_clock_limit_is_killed():
    start = time.monotonic()
    with pytest.raises(BoundedFailure) as info:
        run_bounded(lambda: time.sleep(30) or {}, Bounds(wall_s=0.3))
    assert info.value.why == "timeout" and time.monotonic() - start < 5


def test_a_child_past_its_memory_limit_fails_alone():
    with pytest.raises(BoundedFailure) as info:
        run_bounded(lambda: {"n": len(bytearray(2 * 2**30))}, Bounds(memory_bytes=256 * 2**20))
    assert info.value.why == "memory"


def test_a_child_past_its_cpu_limit_is_stopped():
    def spin() -> dict:
        while True:
            pass

    with pytest.raises(BoundedFailure) as info:
        run_bounded(spin, Bounds(cpu_s=1, wall_s=20))
    assert info.value.why == "cpu"


def test_a_child_that_dies_is_a_crash_named_by_its_signal():
    with pytest.raises(BoundedFailure, match="SIGSEGV") as info:
        run_bounded(lambda: os.kill(os.getpid(), 11) or {})
    assert info.value.why == "crash"


def test_an_unexpected_exception_in_the_child_is_reported():
    with pytest.raises(BoundedFailure, match="ZeroDivisionError"):
        run_bounded(lambda: {"x": 1 / 0})


def test_writing_past_the_file_size_limit_fails_with_an_error_not_a_kill(tmp_path):
    def write() -> dict:
        try:
            (tmp_path / "big").write_bytes(b"x" * 2**20)
        except OSError as exc:
            return {"errno": exc.errno}
        return {}

    assert run_bounded(write, Bounds(file_bytes=2**16))["errno"] == 27  # EFBIG
