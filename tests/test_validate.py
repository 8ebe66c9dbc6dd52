"""validate's static checks: every test says what it is worth."""

import textwrap

from autograder.validate import seeds_in_tests, unmarked_tests


def test_tests_without_a_points_marker_are_listed(tmp_path):
    (tmp_path / "hidden").mkdir()
    (tmp_path / "hidden" / "test_a.py").write_text(textwrap.dedent('''
        import pytest

        @pytest.mark.points(2)
        def test_marked(): pass

        def test_forgotten(): pass

        @pytest.mark.points(1)
        class TestGroup:
            def test_in_marked_class(self): pass

        class TestOther:
            def test_in_plain_class(self): pass

        def helper(): pass
    '''))
    (tmp_path / "hidden" / "test_b.py").write_text("import pytest\npytestmark = pytest.mark.points(0.5)\n\ndef test_module_marked(): pass\n")
    assert unmarked_tests(tmp_path) == ["hidden/test_a.py::test_forgotten", "hidden/test_a.py::test_in_plain_class"]


def test_a_seed_set_where_the_grader_runs_is_a_warning_and_one_inside_a_helper_sent_by_define_is_not(tmp_path):
    (tmp_path / "public").mkdir()
    (tmp_path / "public" / "test_c.py").write_text(textwrap.dedent('''
        import numpy as onp
        import pytest
        import torch
        from torch import manual_seed

        def build(cls, seed):
            torch.manual_seed(seed)
            return cls()

        @pytest.fixture
        def model(submission):
            manual_seed(0)
            return submission.net.TinyNet()

        def test_seeds_the_grader(submission):
            torch.manual_seed(0)
            model = submission.net.TinyNet()

        def test_seeds_in_a_helper(submission):
            model = submission.define(build)(submission.net.TinyNet, 0)

            def local(seed):
                onp.random.seed(seed)
            local(1)

        class TestGroup:
            async def test_numpy(self):
                onp.random.seed(3)
    '''))
    found = seeds_in_tests(tmp_path)
    assert [f.split(": `")[0] for f in found] == [
        "public/test_c.py::model, line 13", "public/test_c.py::test_seeds_the_grader, line 17",
        "public/test_c.py::test_seeds_in_a_helper, line 24", "public/test_c.py::TestGroup::test_numpy, line 29"], found
    assert "`torch.manual_seed(...)`" in found[0] and "`numpy.random.seed(...)`" in found[2] and "submission.define" in found[0]
