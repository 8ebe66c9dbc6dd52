"""`otter run` on the built autograder zip against `autograder grade`, on the same submission and machine.

Both are timed as a TA runs them: one command, one submission, wall clock from start to exit
(interpreter start, imports and the engine's fork server included). Each pair runs `repeats`
times, alternating, and the medians are printed side by side with the scores, which must agree.
Run: .venv/bin/python bench/otter_vs_grade.py [repeats]
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

from autograder.course import Assignment, find_assignment
from autograder.packaging.otter_zip import build_otter_zip

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
CASES = [  # (course folder, assignment, submission folder)
    (REPO / "tests" / "fixtures" / "course", "a0_trivial", None),  # None: the reference solution
    (REPO, "a1_mlp_numpy", REPO / "examples" / "submissions" / "a1_mlp_numpy" / "alice_correct"),
]


def _zip_folder(folder: Path, target: Path) -> Path:
    with zipfile.ZipFile(target, "w") as zf:
        for path in sorted(p for p in folder.rglob("*") if p.is_file() and "__pycache__" not in p.parts):
            zf.write(path, path.relative_to(folder).as_posix())
    return target


def _timed(command: list[str], env: dict[str, str], cwd: Path) -> float:
    start = time.perf_counter()
    run = subprocess.run(command, env=env, cwd=cwd, capture_output=True, text=True, timeout=600)
    wall = time.perf_counter() - start
    if run.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{run.stdout[-2000:]}\n{run.stderr[-2000:]}")
    return wall


def _otter_score(out: Path) -> float:
    doc = json.loads((out / "results.json").read_text())
    return sum(t["score"] for t in doc["tests"] if "max_score" in t)


def _bench(assignment: Assignment, course: Path, folder: Path, work: Path, repeats: int) -> dict[str, float]:
    env = {**os.environ, "AUTOGRADER_COURSE": str(course)}
    zip_path = build_otter_zip(assignment, work / "dist")
    submission = _zip_folder(folder, work / f"{folder.name}.zip")
    otter_cmd = [str(BIN / "otter"), "run", "--no-logo", "-a", str(zip_path), "-o", str(work), str(submission)]
    grade_cmd = [str(BIN / "autograder"), "grade", assignment.id, str(folder), "--out", str(work / "ours"), "--force", "-j", "1"]
    otter_s, grade_s = [], []
    for _ in range(repeats):
        otter_s.append(_timed(otter_cmd, env, work))
        grade_s.append(_timed(grade_cmd, env, work))
    ours = json.loads((work / "ours" / f"{folder.name}.json").read_text())["score"]
    return {"otter_s": statistics.median(otter_s), "grade_s": statistics.median(grade_s), "otter_score": _otter_score(work), "our_score": ours}


def main(repeats: int = 3) -> None:
    print(f"{'assignment':<14} {'submission':<16} {'otter run (s)':>14} {'autograder grade (s)':>21} {'ratio':>6}  scores (otter / ours)")
    for course, aid, folder in CASES:
        assignment = find_assignment(aid, course)
        with tempfile.TemporaryDirectory() as tmp:
            row = _bench(assignment, course, folder or assignment.solution, Path(tmp), repeats)
        name = (folder or assignment.solution).name if folder else "solution"
        print(f"{aid:<14} {name:<16} {row['otter_s']:>14.2f} {row['grade_s']:>21.2f} {row['otter_s'] / row['grade_s']:>6.1f}  "
              f"{row['otter_score']:g} / {row['our_score']:g}")  # fmt: skip
    print(f"medians of {repeats} alternating runs each; wall clock of the whole command, as a TA runs it")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 3)
