import io
import os
import time
import zipfile

import nbformat
import pytest

from autograder.intake.bounded import Bounds
from autograder.intake.source import MAX_CELLS
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


# ---------------------------------------------------------------- legitimate submissions that must not be penalised


def test_bom_and_crlf_sources_are_staged_as_plain_utf8_with_lf(trivial, tmp_path):
    folder = tmp_path / "gina"
    folder.mkdir()
    (folder / "arith.py").write_bytes(b"\xef\xbb\xbf" + (ADD + MUL).replace("\n", "\r\n").encode())
    staged = stage(folder, trivial.spec, tmp_path / "s")
    assert (staged.path / "arith.py").read_bytes() == (ADD + MUL).encode()


def test_a_loose_py_with_a_bom_serves_every_module(trivial, tmp_path):
    path = tmp_path / "hank_solution.py"
    path.write_bytes(b"\xef\xbb\xbf" + (ADD + MUL).replace("\n", "\r\n").encode())
    code = (stage(path, trivial.spec, tmp_path / "s").path / "_notebook.py").read_text()
    assert code.startswith("def add") and "def mul" in code and "\r" not in code


def _notebook(path, *cells):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(c) for c in cells]
    nbformat.write(nb, path)
    return path


def test_a_future_import_in_a_later_notebook_cell_is_hoisted(trivial, tmp_path):
    path = _notebook(tmp_path / "ivy.ipynb", ADD, "from __future__ import annotations\n" + MUL.replace("(a, b)", "(a: Tensor, b)"))
    code = (stage(path, trivial.spec, tmp_path / "s").path / "_notebook.py").read_text()
    assert code.startswith("from __future__ import annotations\n") and code.count("__future__") == 1
    compile(code, "_notebook.py", "exec")


def test_a_notebook_cell_that_does_not_parse_is_left_out_with_a_note(trivial, tmp_path):
    path = _notebook(tmp_path / "jo.ipynb", ADD, "np.sum?\nfor", MUL)
    staged = stage(path, trivial.spec, tmp_path / "s")
    code = (staged.path / "_notebook.py").read_text()
    assert "def add" in code and "def mul" in code
    assert any("code cell 2 of jo.ipynb was left out: syntax error" in n for n in staged.notes)


def test_definitions_are_kept_as_written_and_a_shared_line_is_split(trivial, tmp_path):
    path = tmp_path / "kim_solution.py"
    path.write_text("import os\n@staticmethod\ndef add(a, b):\n    # my comment\n    return a + b\nX = 1; os.system('x')\n" + MUL)
    code = (stage(path, trivial.spec, tmp_path / "s").path / "_notebook.py").read_text()
    assert "@staticmethod\ndef add(a, b):\n    # my comment\n" in code and "X = 1\n" in code
    assert "os.system" not in code and "def mul" in code


def test_file_and_folder_names_that_are_not_utf8_are_left_out_with_a_note(trivial, make_submission, tmp_path):
    folder = make_submission(ADD + MUL, name="liam")
    (folder / os.fsdecode(b"donn\xe9es.csv")).write_text("1,2")
    os.mkdir(os.path.join(os.fsencode(folder), b"r\xe9sultats"))
    staged = stage(folder, trivial.spec, tmp_path / "s")
    assert sorted(p.name for p in staged.path.iterdir()) == ["arith.py"]
    assert any("donn\\xe9es.csv" in n for n in staged.notes) and any("r\\xe9sultats" in n for n in staged.notes)


def test_a_named_pipe_in_a_folder_is_left_out_never_opened(trivial, make_submission, tmp_path):
    folder = make_submission(ADD + MUL, name="lena")
    os.mkfifo(folder / "progress.fifo")
    staged = stage(folder, trivial.spec, tmp_path / "s", bounds=Bounds(wall_s=10))
    assert sorted(p.name for p in staged.path.iterdir()) == ["arith.py"]
    assert "`progress.fifo` was left out: it is not a regular file" in staged.notes


def test_zip_with_a_top_folder_and_macos_junk(trivial, tmp_path):
    archive = tmp_path / "mia.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("handout/arith.py", ADD + MUL)
        zf.writestr("__MACOSX/handout/._arith.py", b"\x00\x05\x16\x07junk")
        zf.writestr("handout/.DS_Store", b"junk")
    staged = stage(archive, trivial.spec, tmp_path / "s")
    assert sorted(p.name for p in staged.path.rglob("*")) == ["arith.py"]


def test_zip_naming_a_file_in_bytes_that_are_not_utf8_despite_its_flag(trivial, tmp_path):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        zf.writestr("arith.py", ADD + MUL)
        zf.writestr("café.txt", "data")  # stored with the UTF-8 flag
    archive = tmp_path / "noah.zip"
    archive.write_bytes(buffer.getvalue().replace("café".encode(), b"caf\xe9\xe9"))
    staged = stage(archive, trivial.spec, tmp_path / "s")
    assert (staged.path / "arith.py").read_text() == ADD + MUL
    assert any("were not valid UTF-8" in n for n in staged.notes)


def test_a_latin1_module_is_staged_with_a_note_naming_the_byte(trivial, tmp_path):
    folder = tmp_path / "olga"
    folder.mkdir()
    (folder / "arith.py").write_bytes(b"# caf\xe9\n" + ADD.encode())
    staged = stage(folder, trivial.spec, tmp_path / "s")
    assert any("arith.py is not UTF-8 (byte 0xe9 on line 1)" in n for n in staged.notes)
    (folder / "arith.py").write_bytes(b"# -*- coding: latin-1 -*-\n# caf\xe9\n" + ADD.encode())
    assert stage(folder, trivial.spec, tmp_path / "s2").notes == []


# ---------------------------------------------------------------- hostile files: bounded, linear, clear


def test_staging_past_its_time_limit_is_the_submissions_error(trivial, tmp_path):
    path = tmp_path / "pat_solution.py"
    path.write_text(ADD + MUL + "".join(f"v{i} = {i}\n" for i in range(100_000)))
    with pytest.raises(SubmissionError, match="reading it took more than 0.05 s"):
        stage(path, trivial.spec, tmp_path / "s", bounds=Bounds(wall_s=0.05))


def test_a_notebook_holding_14_mb_of_code_is_refused_at_once(trivial, tmp_path):
    row = "[" + ", ".join(["0.5"] * 50) + "],\n"
    path = _notebook(tmp_path / "quinn.ipynb", ADD + MUL, "WEIGHTS = [\n" + row * (14_000_000 // len(row)) + "]\n")
    start = time.monotonic()
    with pytest.raises(SubmissionError, match=r"holds 13\.\d MiB of code; at most 3 MiB is read"):
        stage(path, trivial.spec, tmp_path / "s")
    assert time.monotonic() - start < 5


def test_a_14_mb_notebook_with_outputs_stages_under_a_512_mib_cap(trivial, tmp_path):
    nb = nbformat.v4.new_notebook()
    output = nbformat.v4.new_output("stream", name="stdout", text="x" * 3500)
    nb.cells = [nbformat.v4.new_code_cell(ADD + MUL)] + [nbformat.v4.new_code_cell(f"y{i} = {i}", outputs=[output]) for i in range(4000)]
    path = tmp_path / "ruth.ipynb"
    nbformat.write(nb, path)
    assert path.stat().st_size > 14_000_000
    staged = stage(path, trivial.spec, tmp_path / "s", bounds=Bounds(memory_bytes=512 * 2**20))
    assert "def mul" in (staged.path / "_notebook.py").read_text()


def test_too_many_notebook_cells_are_refused(trivial, tmp_path):
    path = _notebook(tmp_path / "sam.ipynb", *[f"y{i} = {i}" for i in range(MAX_CELLS + 1)])
    with pytest.raises(SubmissionError, match=f"at most {MAX_CELLS} are read"):
        stage(path, trivial.spec, tmp_path / "s")


@pytest.mark.slow
def test_a_26_mb_py_of_top_level_statements_stages_in_linear_time(trivial, tmp_path):
    parts, size, i = [ADD, MUL], 0, 0
    while size < 2_600_000:
        parts.append(f"v{i}=1\n" if i % 50 else f"def f{i}(x):\n    return x\n")
        size, i = size + len(parts[-1]), i + 1
    path = tmp_path / "tom_solution.py"
    path.write_text("".join(parts))
    staged = stage(path, trivial.spec, tmp_path / "s")
    assert staged.seconds < 10, staged
    assert (staged.path / "_notebook.py").read_text().count("\n") >= i


# ---------------------------------------------------------------- several candidate folders, letter case


STUB = "def add(a, b):\n    raise NotImplementedError('add')\n"


def test_a_zip_with_a_draft_and_a_final_folder_grades_the_final_one_and_says_so(trivial, tmp_path):
    archive = tmp_path / "uma.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("a1/final/arith.py", ADD + MUL)
        zf.writestr("a1/draft/arith.py", STUB)  # written last: the newest file must not win over the name
    staged = stage(archive, trivial.spec, tmp_path / "s")
    assert (staged.path / "arith.py").read_text() == ADD + MUL
    assert sorted(p.name for p in staged.path.rglob("*")) == ["arith.py"]
    note = next(n for n in staged.notes if "folders hold the handout files" in n)
    assert "graded `a1/final/`" in note and "`a1/draft/`" in note


def test_a_zip_with_two_complete_folders_grades_one_and_the_note_names_it(trivial, tmp_path):
    archive = tmp_path / "vic.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("work/v1/arith.py", ADD + MUL + "VERSION = 1\n")
        zf.writestr("work/v2/arith.py", ADD + MUL + "VERSION = 2\n")
    staged = stage(archive, trivial.spec, tmp_path / "s")
    note = next(n for n in staged.notes if "folders hold the handout files" in n)
    assert note.startswith("2 folders hold the handout files (") and "`work/v1/`" in note and "`work/v2/`" in note
    graded = note.split("graded `work/")[1][:2]
    assert (staged.path / "arith.py").read_text().endswith(f"VERSION = {graded[1]}\n")
    assert note.endswith("Submit only one copy of your files.")


def test_file_and_zip_names_differing_from_the_handout_only_in_case_are_graded_with_a_note(trivial, tmp_path):
    archive = tmp_path / "EVE.ZIP"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("Handout/Arith.py", ADD + MUL)
    staged = stage(archive, trivial.spec, tmp_path / "s")
    assert staged.name == "EVE" and sorted(p.name for p in staged.path.iterdir()) == ["arith.py"]
    assert "`Arith.py` was graded as `arith.py`, the handout's name; name your files exactly as the handout does" in staged.notes


def test_a_loose_py_in_capitals_is_the_handout_module(trivial, tmp_path):
    path = tmp_path / "ARITH.PY"
    path.write_text(ADD + MUL)
    staged = stage(path, trivial.spec, tmp_path / "s")
    assert (staged.path / "arith.py").read_text() == ADD + MUL
    assert any("`ARITH.PY` was graded as `arith.py`" in n for n in staged.notes)


def test_a_file_in_the_handouts_case_wins_over_one_in_another_case(trivial, make_submission, tmp_path):
    folder = make_submission(ADD + MUL, name="wes")
    (folder / "Arith.py").write_text(STUB)
    staged = stage(folder, trivial.spec, tmp_path / "s")
    assert (staged.path / "arith.py").read_text() == ADD + MUL
    assert not any("was graded as" in n for n in staged.notes)


def test_a_notebook_with_a_capitalised_extension_is_read(trivial, tmp_path):
    path = _notebook(tmp_path / "xena.IPYNB", ADD, MUL)
    staged = stage(path, trivial.spec, tmp_path / "s")
    assert "def mul" in (staged.path / "_notebook.py").read_text()
