import os

from hypothesis import given
from hypothesis import strategies as st

from autograder.intake.names import CUT_NOTE, MAX_STEM_BYTES, clean_text, csv_cell, file_stem, printable, truncate

NON_UTF8 = os.fsdecode(b"caf\xe9")  # what os.listdir gives for a Latin-1 folder name


def test_a_safe_name_is_kept_as_it_is():
    assert file_stem("alice_smith-2") == "alice_smith-2"
    assert file_stem("Émilie Dupont") == "Émilie Dupont"


def test_unsafe_names_are_cleaned_and_get_a_hash_of_the_original():
    assert file_stem("x/y").startswith("x_y-") and file_stem("x/y") != file_stem("x\\y")
    assert file_stem("bob\nsmith").startswith("bob_smith-")
    assert file_stem(NON_UTF8).startswith("caf_xe9-")
    assert file_stem("..").startswith("submission-") and file_stem("").startswith("submission-")


def test_a_long_name_is_capped_in_bytes():
    stem = file_stem("é" * 250)
    assert len(stem.encode("utf-8")) <= MAX_STEM_BYTES and stem != file_stem("é" * 251)


def test_two_names_that_clean_to_the_same_text_stay_apart():
    assert file_stem("a/b") != file_stem("a:b") != file_stem("a_b")


@given(st.text())
def test_file_stem_is_valid_utf8_idempotent_and_bounded(name):
    stem = file_stem(name)
    stem.encode("utf-8")  # no lone surrogate
    assert file_stem(stem) == stem
    assert 0 < len(stem.encode("utf-8")) <= MAX_STEM_BYTES
    assert "/" not in stem and "\0" not in stem and stem not in {".", ".."}


def test_printable_shows_undecodable_bytes_and_lone_surrogates():
    assert printable(NON_UTF8) == "caf\\xe9"
    assert printable("a\ud800b") == "a\\ud800b"


def test_csv_cells_are_never_formulas_and_never_break_a_row():
    assert csv_cell("=cmd|' /C calc'!A0") == "'=cmd|' /C calc'!A0"
    for start in "=+-@\t\r":
        assert csv_cell(f"{start}1+1").startswith("'") or not csv_cell(f"{start}1+1").startswith(start)
    assert csv_cell("bob\nsmith\r\n,x") == "bob smith ,x"
    assert csv_cell("alice") == "alice"


def test_truncate_keeps_head_and_tail_with_a_visible_note():
    text = "start" + "x" * 100_000 + "end"
    cut = truncate(text, 1000)
    head, note, tail = cut.split("\n")
    n = int(note.removeprefix("[... ").split()[0])
    assert note == CUT_NOTE.format(n=n) and len(head) + n + len(tail) == len(text)
    assert len(cut) <= 1000 and head.startswith("start") and tail.endswith("end")
    assert truncate("short", 1000) == "short"


@given(st.text(), st.integers(min_value=60, max_value=500))
def test_clean_text_is_valid_utf8_and_bounded(text, limit):
    out = clean_text(text, limit)
    out.encode("utf-8")
    assert len(out) <= limit and (out == text or not text.isascii() or "characters cut]" in out)
