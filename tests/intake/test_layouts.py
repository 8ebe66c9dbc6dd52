"""LMS downloads as the LMSs write them, built from A1's example files: one submission per student, times, names."""

import datetime as dt
import os
import shutil
import struct
import zipfile
from pathlib import Path

import pytest
import yaml

from autograder.course import find_assignment
from autograder.intake.layouts import (
    LayoutError,
    choose_base,
    detect_layout,
    handout_name,
    pick_source,
    read_download,
    scan_folder,
)
from tests.conftest import REPO

A1 = find_assignment("a1_mlp_numpy")
ALICE = REPO / "examples" / "submissions" / "a1_mlp_numpy" / "alice_correct"
MIA = REPO / "examples" / "submissions" / "a1_mlp_numpy" / "mia_untouched_stub"
FILES = ["layers.py", "init.py", "optim.py", "mlp.py", "train.py"]
UTC = dt.UTC


def _stamp(path: Path, when: dt.datetime) -> None:
    os.utime(path, (when.timestamp(), when.timestamp()))


def _zip_folder(folder: Path, archive: Path, prefix: str = "") -> Path:
    with zipfile.ZipFile(archive, "w") as zf:
        for f in sorted(folder.iterdir()):
            if f.is_file():
                zf.write(f, prefix + f.name)
    return archive


def canvas_download(root: Path) -> Path:
    """Two students as Canvas names them: Jane's loose files (one late, one re-uploaded), Bob's zip."""
    root.mkdir(parents=True)
    jane = dt.datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
    for name in FILES:
        shown = "layers-1.py" if name == "layers.py" else name  # re-uploaded after a first attempt
        target = root / f"doejane_LATE_1234_5678_{shown}"
        shutil.copyfile(ALICE / name, target)
        _stamp(target, jane - dt.timedelta(minutes=FILES.index(name)))
    bob = _zip_folder(MIA, root / "smithbob_2345_6789_a1.zip", prefix="a1/")
    _stamp(bob, dt.datetime(2026, 3, 1, 20, 0, tzinfo=UTC))
    return root


def moodle_download(root: Path) -> Path:
    """Moodle's `Download all submissions`: a folder per student holding the zip they uploaded, and online text."""
    alice = root / "Alice Correct_10001_assignsubmission_file_"
    alice.mkdir(parents=True)
    _zip_folder(ALICE, alice / "my_a1.zip", prefix="a1_mlp_numpy/")
    mia = root / "Mia Stub_10002_assignsubmission_file_"
    mia.mkdir()
    for name in FILES:
        shutil.copyfile(MIA / name, mia / name)
    text = root / "Alice Correct_10001_assignsubmission_onlinetext_"
    text.mkdir()
    (text / "onlinetext.html").write_text("<p>see my zip</p>")
    return root


GRADESCOPE_METADATA = """\
submission_111:
  :submitters:
  - :name: Alice Correct
    :sid: '900001'
    :email: alice@uni.edu
  :created_at: 2026-03-01 20:15:02.123456789 -08:00
  :score: !ruby/object:BigDecimal 18:0.1e3
  :status: processed
submission_222:
  :submitters:
  - :name: Mia Stub
    :sid: '900002'
    :email: mia@uni.edu
  - :name: Max Partner
    :sid: '900003'
    :email: max@uni.edu
  :created_at: 2026-03-03 09:00:00.000000000 -08:00
"""


def gradescope_export(root: Path) -> Path:
    """Gradescope's `Export Submissions`: a wrapping folder, submission_metadata.yml and a folder per submission."""
    top = root / "assignment_4242_export"
    for key, src in (("submission_111", ALICE), ("submission_222", MIA)):
        shutil.copytree(src, top / key)
    (top / "submission_metadata.yml").write_text(GRADESCOPE_METADATA)
    shutil.copytree(MIA, top / "submission_333")  # a folder the metadata does not list
    return root


def _zip_tree(folder: Path, archive: Path, when: dt.datetime | None = None) -> Path:
    with zipfile.ZipFile(archive, "w") as zf:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                info = zipfile.ZipInfo(path.relative_to(folder).as_posix(), (when or dt.datetime.fromtimestamp(path.stat().st_mtime)).timetuple()[:6])
                zf.writestr(info, path.read_bytes())
    return archive


def test_a_canvas_download_of_two_students_is_two_submissions_under_the_handout_names(tmp_path):
    got = read_download([canvas_download(tmp_path / "dl")], A1.spec, tmp_path / "work")
    assert got.layouts == {str(tmp_path / "dl"): "canvas"} and got.skipped == []
    jane, bob = sorted(got.received, key=lambda r: r.name)
    assert (jane.name, bob.name) == ("doejane", "smithbob")
    assert sorted(p.name for p in jane.source.iterdir()) == sorted(FILES)
    assert (jane.source / "layers.py").read_bytes() == (ALICE / "layers.py").read_bytes()
    assert any("layers-1.py" in n and "layers.py" in n for n in jane.notes)
    assert jane.marked_late and not bob.marked_late
    assert jane.students[0].lms_id == "1234" and jane.students[0].login == "doejane"
    assert bob.source.name == "smithbob_2345_6789_a1.zip" or bob.source.suffix == ".zip"
    assert jane.submitted_at == dt.datetime(2026, 3, 2, 10, 0, tzinfo=UTC) and "file time" in jane.time_source


def test_a_canvas_zip_keeps_its_entry_times_and_a_zip_stamped_all_at_once_gives_no_time(tmp_path):
    folder = canvas_download(tmp_path / "dl")
    archive = _zip_tree(folder, tmp_path / "submissions.zip")
    got = read_download([archive], A1.spec, tmp_path / "work")
    assert {r.name for r in got.received} == {"doejane", "smithbob"} and got.layouts[str(archive)] == "canvas"
    jane = next(r for r in got.received if r.name == "doejane")
    assert jane.submitted_at == dt.datetime(2026, 3, 2, 10, 0, tzinfo=UTC)  # DOS time, read in UTC (no due date)
    packed = _zip_tree(folder, tmp_path / "packed.zip", when=dt.datetime(2026, 3, 9, 8, 0))
    again = read_download([packed], A1.spec, tmp_path / "work2")
    assert all(r.submitted_at is None and r.time_source.startswith("none: every file") for r in again.received)


def test_a_zip_entry_with_a_utc_extended_timestamp_wins_over_its_dos_time(tmp_path):
    from autograder.intake.layouts import _zip_time

    info = zipfile.ZipInfo("x", (2026, 3, 2, 10, 0, 0))
    when = dt.datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
    info.extra = struct.pack("<HHBi", 0x5455, 5, 1, int(when.timestamp()))
    assert _zip_time(info, UTC) == when.timestamp()
    assert _zip_time(zipfile.ZipInfo("y", (2026, 3, 2, 10, 0, 0)), UTC) == dt.datetime(2026, 3, 2, 10, 0, tzinfo=UTC).timestamp()


def test_a_moodle_download_grades_the_zip_inside_each_folder_and_skips_online_text(tmp_path):
    archive = _zip_tree(moodle_download(tmp_path / "dl"), tmp_path / "A1-12345.zip")
    got = read_download([archive], A1.spec, tmp_path / "work")
    by_name = {r.name: r for r in got.received}
    assert set(by_name) == {"Alice Correct_10001", "Mia Stub_10002"} and got.layouts[str(archive)] == "moodle"
    assert by_name["Alice Correct_10001"].source.name == "my_a1.zip"
    assert by_name["Mia Stub_10002"].source.is_dir()
    assert by_name["Alice Correct_10001"].students[0].lms_id == "10001"
    assert [(s.path, s.why) for s in got.skipped] == [
        (f"{archive}:Alice Correct_10001_assignsubmission_onlinetext_", "Moodle `onlinetext` entry (not submitted files)")
    ]


def test_moodle_flat_files_are_grouped_per_participant(tmp_path):
    root = tmp_path / "dl"
    root.mkdir()
    for name in FILES:
        shutil.copyfile(ALICE / name, root / f"Alice Correct_10001_assignsubmission_file_{name}")
    got = read_download([root], A1.spec, tmp_path / "work", layout="moodle")
    (alice,) = got.received
    assert sorted(p.name for p in alice.source.iterdir()) == sorted(FILES)


def test_a_gradescope_export_reads_submitters_and_times_from_its_metadata(tmp_path):
    archive = _zip_tree(gradescope_export(tmp_path / "dl"), tmp_path / "export.zip")
    got = read_download([archive], A1.spec, tmp_path / "work")
    by_name = {r.name: r for r in got.received}
    assert set(by_name) == {"900001", "900002"} and got.layouts[str(archive)] == "gradescope"
    alice = by_name["900001"]
    assert alice.submitted_at == dt.datetime(2026, 3, 1, 20, 15, 2, 123456, tzinfo=dt.timezone(dt.timedelta(hours=-8)))
    assert alice.time_source == "Gradescope :created_at:" and alice.students[0].email == "alice@uni.edu"
    assert [s.sis_id for s in by_name["900002"].students] == ["900002", "900003"]
    assert [Path(s.path).name for s in got.skipped] == ["submission_333"]


def test_gradescope_metadata_is_read_safely(tmp_path):
    root = gradescope_export(tmp_path / "dl") / "assignment_4242_export"
    (root / "submission_metadata.yml").write_text(f"submission_111: !!python/object/apply:os.system ['touch {tmp_path}/pwned']\n")
    with pytest.raises(LayoutError, match="not valid YAML"):
        read_download([tmp_path / "dl"], A1.spec, tmp_path / "work", layout="gradescope")
    assert not (tmp_path / "pwned").exists()


@pytest.mark.parametrize(
    ("build", "layout"),
    [(canvas_download, "canvas"), (moodle_download, "moodle"), (gradescope_export, "gradescope")],
)
def test_layouts_are_detected_from_names(tmp_path, build, layout):
    assert detect_layout(build(tmp_path / "dl")) == layout


def test_a_folder_of_plain_submissions_is_folders_and_a_mixed_one_asks_for_layout(tmp_path):
    plain = tmp_path / "plain"
    for name in ("alice", "bob"):
        shutil.copytree(ALICE, plain / name)
    assert detect_layout(plain) == "folders"
    mixed = canvas_download(tmp_path / "mixed")
    for name in ("alice", "bob", "carol"):
        shutil.copytree(ALICE, mixed / name)
    with pytest.raises(LayoutError, match="--layout canvas, moodle, gradescope or folders"):
        read_download([mixed], A1.spec, tmp_path / "work", each=True)


def test_without_each_a_student_folder_is_one_submission_and_an_lms_download_is_read_as_one(tmp_path):
    got = read_download([ALICE, canvas_download(tmp_path / "dl")], A1.spec, tmp_path / "work")
    assert [r.name for r in got.received] == ["alice_correct", "doejane", "smithbob"]
    assert got.received[0].source == ALICE and got.received[0].layout == "folders"


def test_each_reports_what_it_skipped_and_reads_upper_case_extensions(tmp_path):
    subs = tmp_path / "subs"
    subs.mkdir()
    shutil.copytree(ALICE, subs / "alice")
    shutil.copytree(ALICE, subs / "_bob")
    shutil.copytree(ALICE, subs / ".carol")
    _zip_folder(ALICE, subs / "DAN.ZIP")
    shutil.copyfile(ALICE / "layers.py", subs / "EVE.PY")
    (subs / "notes.pdf").write_bytes(b"%PDF")
    (subs / ".DS_Store").write_bytes(b"x")
    found, skipped = scan_folder(subs)
    assert [p.name for p in found] == ["DAN.ZIP", "EVE.PY", "alice"]
    why = {Path(s.path).name: s.why for s in skipped}
    assert why["_bob"].startswith("its name starts with `_`") and why[".carol"].startswith("hidden")
    assert why["notes.pdf"].startswith("not a submission (.pdf)") and why[".DS_Store"] == "system or cache file"
    got = read_download([subs], A1.spec, tmp_path / "work", each=True)
    dan = next(r for r in got.received if r.name == "DAN")
    assert dan.source.name == "DAN.zip" and zipfile.is_zipfile(dan.source) and "read as a `.zip` file" in dan.notes[0]


def test_a_folder_holding_only_zips_is_graded_from_the_newest_zip(tmp_path):
    folder = tmp_path / "alice"
    folder.mkdir()
    old, new = _zip_folder(MIA, folder / "draft.zip"), _zip_folder(ALICE, folder / "final.zip")
    _stamp(old, dt.datetime(2026, 3, 1, tzinfo=UTC))
    _stamp(new, dt.datetime(2026, 3, 2, tzinfo=UTC))
    notes: list[str] = []
    assert pick_source(folder, A1.spec, notes) == new and "graded final.zip, the newest" in notes[0]
    shutil.copyfile(ALICE / "mlp.py", folder / "mlp.py")
    assert pick_source(folder, A1.spec, []) == folder  # a handout file: the folder itself


def test_two_candidate_folders_are_flagged_and_final_beats_draft(tmp_path):
    sub = tmp_path / "unzipped"
    for name in ("a1/draft", "a1/final"):
        shutil.copytree(ALICE, sub / name)
    files = sorted(p for p in sub.rglob("*.py"))
    base, note = choose_base(sub, files, A1.spec)
    assert base == sub / "a1" / "final"
    assert note == "2 folders hold the handout files (`a1/final/`, `a1/draft/`); graded `a1/final/`. Submit only one copy of your files."
    shutil.rmtree(sub / "a1" / "draft")
    assert choose_base(sub, sorted(sub.rglob("*.py")), A1.spec) == (sub / "a1" / "final", None)


def test_a_file_differing_from_the_handout_only_in_case_is_recognised(tmp_path):
    assert handout_name("Layers.py", A1.spec) == "layers.py" and handout_name("MLP.PY", A1.spec) == "mlp.py"
    assert handout_name("notes.py", A1.spec) is None
    root = tmp_path / "dl"
    root.mkdir()
    for name in FILES:
        shutil.copyfile(ALICE / name, root / f"doejane_1234_5678_{name.capitalize()}")
    (jane,) = read_download([root], A1.spec, tmp_path / "work", layout="canvas").received
    assert sorted(p.name for p in jane.source.iterdir()) == sorted(FILES)
    assert "`Layers.py` was graded as `layers.py`" in jane.notes


def test_an_unsafe_member_of_a_download_zip_is_skipped_not_written(tmp_path):
    archive = tmp_path / "dl.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("../../evil.py", "x = 1")
        zf.writestr("doejane_1234_5678_layers.py", (ALICE / "layers.py").read_text())
    got = read_download([archive], A1.spec, tmp_path / "work", layout="canvas")
    assert [r.name for r in got.received] == ["doejane"] and not (tmp_path / "evil.py").exists()
    assert any("leaves the download" in s.why for s in got.skipped)


def test_a_bad_yaml_or_zip_download_is_one_clear_error(tmp_path):
    (tmp_path / "bad.zip").write_bytes(b"not a zip")
    with pytest.raises(LayoutError, match="not a readable zip"):
        read_download([tmp_path / "bad.zip"], A1.spec, tmp_path / "work", layout="canvas")
    export = tmp_path / "gs"
    export.mkdir()
    (export / "submission_metadata.yml").write_text("a: [unclosed")
    with pytest.raises(LayoutError, match="not valid YAML"):
        read_download([export], A1.spec, tmp_path / "work", layout="gradescope")
    assert yaml.safe_load(GRADESCOPE_METADATA.replace("!ruby/object:BigDecimal ", "")) is not None
