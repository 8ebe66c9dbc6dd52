"""Which folders a confined submission process must still read: Python, its packages, the engine."""

from __future__ import annotations

import sys

from autograder.isolation.confine import interpreter_paths


def test_package_folders_added_to_the_path_stay_readable_and_course_folders_do_not(tmp_path, monkeypatch):
    site = tmp_path / "extra" / "site-packages"
    installed = tmp_path / "vendored"
    course = tmp_path / "course" / "tests"
    for folder in (site, installed / "numpy-2.0.dist-info", course):
        folder.mkdir(parents=True)
    monkeypatch.setattr(sys, "path", ["", "relative/dir", str(course), str(site), str(installed), str(tmp_path / "gone")])
    paths = interpreter_paths()
    assert str(site) in paths and str(installed) in paths
    assert str(course) not in paths and not any(p.startswith(str(tmp_path / "course")) for p in paths)
    assert sys.prefix in paths and sys.base_prefix in paths
