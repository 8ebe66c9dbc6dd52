import zipfile

import nbformat
import pytest

from autograder.intake.staging import SubmissionError, stage, submission_name

ADD = "def add(a, b):\n    return a + b\n"
MUL = "def mul(a, b):\n    return a * b\n"


def test_folder_is_staged_and_hashed(trivial, make_submission, tmp_path):
    folder = make_submission(ADD + MUL, name="alice")
    staged = stage(folder, trivial.spec, tmp_path / "s1")
    again = stage(folder, trivial.spec, tmp_path / "s2")
    assert staged.name == "alice" and (staged.path / "arith.py").read_text() == ADD + MUL
    assert staged.sha256 == again.sha256 and len(staged.sha256) == 64


def test_zip_with_a_top_level_folder_finds_the_modules(trivial, tmp_path):
    archive = tmp_path / "bob.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("a0_trivial/arith.py", ADD + MUL)
        zf.writestr("a0_trivial/notes.txt", "hello")
    staged = stage(archive, trivial.spec, tmp_path / "s")
    assert staged.name == "bob" and (staged.path / "arith.py").is_file()


def test_zip_with_parent_paths_is_refused(trivial, tmp_path):
    archive = tmp_path / "evil.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("../../escape.py", "x = 1")
    with pytest.raises(SubmissionError, match="unsafe path '../../escape.py'"):
        stage(archive, trivial.spec, tmp_path / "s")
    assert not (tmp_path.parent / "escape.py").exists()


def test_corrupt_zip_is_refused_with_a_next_step(trivial, tmp_path):
    archive = tmp_path / "broken.zip"
    archive.write_bytes(b"PK\x03\x04 not really")
    with pytest.raises(SubmissionError, match="not a valid zip file. Re-create it"):
        stage(archive, trivial.spec, tmp_path / "s")


def test_loose_py_named_like_a_module(trivial, tmp_path):
    path = tmp_path / "arith.py"
    path.write_text(ADD + MUL)
    assert (stage(path, trivial.spec, tmp_path / "s").path / "arith.py").read_text() == ADD + MUL


def test_notebook_keeps_definitions_and_drops_top_level_code(trivial, tmp_path):
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_markdown_cell("# my work"),
        nbformat.v4.new_code_cell("import numpy as np\n%matplotlib inline\nfrom arith import add"),
        nbformat.v4.new_code_cell(ADD + "SCALE = 2\nprint(add(1, 2))\ntrain_forever()"),
        nbformat.v4.new_code_cell(MUL + "!pip install something"),
    ]
    path = tmp_path / "carol.ipynb"
    nbformat.write(nb, path)
    staged = stage(path, trivial.spec, tmp_path / "s")
    code = (staged.path / "_notebook.py").read_text()
    assert "def add" in code and "def mul" in code and "SCALE = 2" in code and "import numpy as np" in code
    assert "print(" not in code and "train_forever" not in code and "from arith" not in code
    assert "from _notebook import *" in (staged.path / "arith.py").read_text()
    assert staged.notes


def test_corrupt_notebook_is_refused(trivial, tmp_path):
    path = tmp_path / "dave.ipynb"
    path.write_text("{ this is not json")
    with pytest.raises(SubmissionError, match="not a readable notebook"):
        stage(path, trivial.spec, tmp_path / "s")


def test_non_utf8_loose_file_is_refused(trivial, tmp_path):
    path = tmp_path / "erin_solution.py"
    path.write_bytes(b"def add(a, b):\n    return a + b  # \xff\xfe\n")
    with pytest.raises(SubmissionError, match="not UTF-8"):
        stage(path, trivial.spec, tmp_path / "s")


def test_folder_without_any_handout_file_is_refused(trivial, tmp_path):
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "readme.txt").write_text("hi")
    with pytest.raises(SubmissionError, match="holds none of the handout files"):
        stage(tmp_path / "empty", trivial.spec, tmp_path / "s")


def test_submission_name_strips_every_suffix(tmp_path):
    path = tmp_path / "frank.tar.zip"
    path.write_text("")
    assert submission_name(path) == "frank"
