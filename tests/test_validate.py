"""validate's static checks: every test says what it is worth."""

import textwrap

from autograder.validate import unmarked_tests


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
