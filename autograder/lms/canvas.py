"""Post grades and a feedback comment per student to a Canvas assignment through `canvasapi`.

The requests, as canvasapi makes them:
- `GET /api/v1/courses/:course` and `GET /api/v1/courses/:course/assignments/:assignment`, to check
  the token and the ids before anything is sent;
- `GET /api/v1/courses/:course/search_users?enrollment_type[]=student&include[]=email`, the
  course's students, to check roster ids and to find students by login, SIS id or email;
- per student, `GET .../assignments/:assignment/submissions/:user?include[]=submission_comments`
  (to leave an up-to-date grade alone and never post the same comment twice), then
  `PUT .../submissions/:user` with `submission[posted_grade]` and `comment[text_comment]`.

Retries are urllib3's `Retry`, mounted on the `requests.Session` canvasapi uses: up to 4 on
429/500/502/503/504 and connection failures, exponential backoff, `Retry-After` honoured (capped).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import requests
from canvasapi import Canvas
from canvasapi.exceptions import CanvasException, Forbidden, InvalidAccessToken, ResourceDoesNotExist, Unauthorized
from requests.adapters import HTTPAdapter
from urllib3.exceptions import InvalidHeader
from urllib3.util.retry import Retry

from autograder.lms.batch import Entry
from autograder.lms.feedback import feedback_summary, points
from autograder.lms.roster import Roster, Student
from autograder.results.lateness import final_score, late_from_metadata

RETRY_STATUSES = (429, 500, 502, 503, 504)
MAX_RETRY_AFTER_S = 60.0
TIMEOUT_S = (10.0, 60.0)  # connect, read: canvasapi sets none


class CanvasUploadError(Exception):
    """The upload cannot start: Canvas unreachable, the token refused, or the course or assignment not found."""


class BoundedRetry(Retry):
    """urllib3's `Retry` with `Retry-After` capped at `MAX_RETRY_AFTER_S`, and an unreadable one ignored."""

    def get_retry_after(self, response: Any) -> float | None:
        try:
            seconds = super().get_retry_after(response)
        except InvalidHeader:
            return None
        return None if seconds is None else min(seconds, MAX_RETRY_AFTER_S)


class TimeoutAdapter(HTTPAdapter):
    """An adapter that gives every request a timeout unless the caller set one."""

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        kwargs["timeout"] = kwargs.get("timeout") or TIMEOUT_S
        return super().send(request, **kwargs)


def retry_policy() -> Retry:
    """Return the retry policy: bounded count, exponential backoff (0, 1, 2, 4 s, at most 10), Retry-After honoured."""
    return BoundedRetry(
        total=4, connect=3, read=1, status=4, backoff_factor=0.5, backoff_max=10, status_forcelist=RETRY_STATUSES,
        allowed_methods=frozenset({"GET", "PUT"}), respect_retry_after_header=True, raise_on_status=False,
    )  # fmt: skip


def connect(url: str, token: str) -> Canvas:
    """Return a canvasapi `Canvas` whose HTTP session retries and times out as above."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # canvasapi warns about http:// URLs; the CLI says it in its own words
        canvas = Canvas(url.rstrip("/"), token)
    requester = getattr(canvas, "_Canvas__requester", None)
    session = getattr(requester, "_session", None)
    if not isinstance(session, requests.Session):
        raise CanvasUploadError("this canvasapi version keeps its HTTP session elsewhere; install canvasapi 3.x (pip install 'canvasapi>=3,<4').")
    adapter = TimeoutAdapter(max_retries=retry_policy())
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return canvas


@dataclass(frozen=True)
class Planned:
    """One grade to post: whose, to which Canvas user, the grade and the comment."""

    submission: str
    user_id: str
    student: str
    grade: str
    comment: str

    def request(self, course_id: str, assignment_id: str) -> str:
        """Describe the PUT this grade becomes, as Canvas will receive it."""
        path = f"/api/v1/courses/{course_id}/assignments/{assignment_id}/submissions/{self.user_id}"
        return f"PUT {path}\n  submission[posted_grade]={self.grade}\n  comment[text_comment]={self.comment}"


@dataclass
class UploadSummary:
    """What was sent, skipped and failed, each with why."""

    planned: list[Planned] = field(default_factory=list)
    sent: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def __repr__(self) -> str:
        return f"UploadSummary(sent={len(self.sent)}, skipped={len(self.skipped)}, failed={len(self.failed)})"


def _open(canvas: Canvas, url: str, course_id: str, assignment_id: str, token_env: str) -> tuple[Any, Any]:
    """Fetch the course and the assignment; turn each way this can fail into one sentence."""
    where = f"Canvas at {url}"
    try:
        course = canvas.get_course(course_id)
    except (InvalidAccessToken, Unauthorized):
        raise CanvasUploadError(f"{where} refused the token in ${token_env} (401 Unauthorized); create a new access token "
                                "under Account > Settings and export it again. Nothing was sent.") from None  # fmt: skip
    except (ResourceDoesNotExist, Forbidden) as exc:
        raise CanvasUploadError(f"{where} has no course {course_id} that this token may read ({type(exc).__name__}); --course is "
                                "the number after /courses/ in the course's address. Nothing was sent.") from None  # fmt: skip
    except requests.RequestException as exc:
        raise CanvasUploadError(f"cannot reach {where}: {exc}. Nothing was sent.") from None
    except CanvasException as exc:
        raise CanvasUploadError(f"{where} answered an error for course {course_id}: {exc}. Nothing was sent.") from None
    try:
        return course, course.get_assignment(assignment_id)
    except ResourceDoesNotExist:
        raise CanvasUploadError(f"course {course_id} has no assignment {assignment_id}; --assignment is the number after "
                                "/assignments/ in the assignment's address. Nothing was sent.") from None  # fmt: skip
    except (CanvasException, requests.RequestException) as exc:
        raise CanvasUploadError(f"{where} answered an error for assignment {assignment_id}: {exc}. Nothing was sent.") from None


def course_students(course: Any) -> Roster:
    """Return the course's students as a roster: Canvas user id, SIS id, login, email, name."""
    users = course.get_users(enrollment_type=["student"], include=["email"])
    return Roster([
        Student(lms_id=str(u.id), sis_id=str(getattr(u, "sis_user_id", "") or ""), login=str(getattr(u, "login_id", "") or ""),
                email=str(getattr(u, "email", "") or ""), name=str(getattr(u, "name", "") or ""))
        for u in users
    ], entry="student of the course")  # fmt: skip


def _canvas_user(entry: Entry, students: Roster) -> tuple[Student | None, str]:
    """Find the Canvas student for a result: the roster's LMS id, else its login/SIS id/email, else the submission name."""
    s = entry.student
    if s is not None and s.lms_id:
        found = next((c for c in students.students if c.lms_id == s.lms_id), None)
        return found, "" if found else f"Canvas user {s.lms_id} (from the roster) is not a student of this course"
    keys = (s.login, s.sis_id, s.email) if s else (entry.result.submission, entry.result.original_name)
    found, why = students.find(*keys)
    return found, "" if found else f"{why} (by login, SIS id, email or name)"


def plan_upload(entries: list[Entry], students: Roster) -> tuple[list[Planned], list[tuple[str, str]]]:
    """Return the grades to post (late penalty applied) and the results skipped because no Canvas student matches them."""
    planned, skipped = [], []
    for e in entries:
        found, why = _canvas_user(e, students)
        if found is None:
            skipped.append((e.result.submission, why))
            continue
        grade = final_score(e.result.score, late_from_metadata(e.result.metadata))
        planned.append(Planned(e.result.submission, found.lms_id, found.label(), points(grade), feedback_summary(e.result)))
    return planned, skipped


def _up_to_date(submission: Any, p: Planned) -> tuple[bool, bool]:
    """Return (same score already, same comment already) for the student's current submission."""
    score = getattr(submission, "entered_score", None)
    score = getattr(submission, "score", None) if score is None else score
    same_score = score is not None and abs(float(score) - float(p.grade)) < 1e-6
    comments = getattr(submission, "submission_comments", None) or []
    same_comment = any(c.get("comment", "").strip() == p.comment.strip() for c in comments if isinstance(c, dict))
    return same_score, same_comment


def post_grade(assignment: Any, p: Planned) -> tuple[str, str]:
    """Post one grade (and its comment unless Canvas has it already); return (`sent`|`skipped`|`failed`, why)."""
    try:
        submission = assignment.get_submission(p.user_id, include=["submission_comments"])
        same_score, same_comment = _up_to_date(submission, p)
        if same_score and same_comment:
            return "skipped", "already up to date (same score and comment in Canvas)"
        kwargs: dict[str, Any] = {"submission": {"posted_grade": p.grade}}
        if not same_comment:
            kwargs["comment"] = {"text_comment": p.comment}
        submission.edit(**kwargs)
    except ResourceDoesNotExist:
        return "skipped", f"Canvas has no submission of user {p.user_id} for this assignment (404)"
    except (CanvasException, requests.RequestException) as exc:
        return "failed", f"{type(exc).__name__}: {exc}"
    return "sent", ""


def upload_grades(
    canvas: Canvas, url: str, course_id: str, assignment_id: str, entries: list[Entry], *,
    dry_run: bool = False, token_env: str = "CANVAS_TOKEN", on_step: Callable[[str, str, str], None] | None = None,
) -> UploadSummary:  # fmt: skip
    """Check the course and assignment, match students, then post each grade (none with `dry_run`); one failure never stops the rest."""
    course, assignment = _open(canvas, url, course_id, assignment_id, token_env)
    summary = UploadSummary()
    possible = getattr(assignment, "points_possible", None)
    if entries and possible is not None and abs(float(possible) - entries[0].result.max_score) > 1e-6:
        summary.warnings.append(f"the Canvas assignment is worth {points(float(possible))} points, the grader's total is "
                                f"{points(entries[0].result.max_score)}; grades are posted as raw points")  # fmt: skip
    try:
        summary.planned, summary.skipped = plan_upload(entries, course_students(course))
    except (CanvasException, requests.RequestException) as exc:
        raise CanvasUploadError(f"cannot list the students of course {course_id}: {exc}. Nothing was sent.") from None
    for p in [] if dry_run else summary.planned:
        state, why = post_grade(assignment, p)
        if state == "sent":
            summary.sent.append(p.submission)
        else:
            (summary.skipped if state == "skipped" else summary.failed).append((p.submission, why))
        if on_step:
            on_step(p.submission, state, why)
    return summary
