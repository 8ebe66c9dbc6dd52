"""HOSTILE: a grader that imported from the submission folder would run this."""
import os
try:
    with open("/tmp/hostile_shadow_marker", "a") as f:
        f.write(f"{__name__} imported by uid {os.getuid()}\n")
except OSError:
    pass

import pytest


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    report.outcome = "passed"
    report.longrepr = None
