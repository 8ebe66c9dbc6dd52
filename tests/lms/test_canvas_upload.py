"""`autograder upload canvas` against a fake Canvas on 127.0.0.1 that answers canvasapi's requests with Canvas's JSON shapes."""

import csv
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

import pytest
from typer.testing import CliRunner

from autograder.cli import app
from autograder.lms import canvas as lms_canvas
from autograder.lms.batch import pair_with_roster, read_batch
from autograder.lms.canvas import connect, upload_grades
from autograder.lms.feedback import feedback_summary
from autograder.lms.roster import read_roster
from autograder.results import QuestionResult, SubmissionResult, TestResult, write_result
from autograder.results.lateness import Late

TOKEN = "test-token-1"
COURSE, ASSIGNMENT = "1", "7"
SUB = f"/api/v1/courses/{COURSE}/assignments/{ASSIGNMENT}/submissions"
STUDENTS = [  # Canvas `User` objects, as search_users returns them with include[]=email
    {"id": 1001, "name": "Jane Doe", "sortable_name": "Doe, Jane", "short_name": "Jane", "first_name": "Jane", "last_name": "Doe",
     "sis_user_id": "S-1", "integration_id": None, "login_id": "doejane", "email": "jane.doe@uni.example"},
    {"id": 1002, "name": "Zoë Ångström", "sortable_name": "Ångström, Zoë", "short_name": "Zoë", "first_name": "Zoë", "last_name": "Ångström",
     "sis_user_id": "S-2", "integration_id": None, "login_id": "zoe", "email": "zoe@uni.example"},
]  # fmt: skip
runner = CliRunner()


@dataclass
class FakeCanvas:
    """What the fake server saw, its submissions' state, and the failures to answer first per request."""

    url: str = ""
    seen: list[tuple[str, str, list, list]] = field(default_factory=list)
    submissions: dict[int, dict] = field(default_factory=dict)
    fail_first: dict[str, list[tuple[int, dict]]] = field(default_factory=dict)

    def requests(self, method=None):
        return [s for s in self.seen if method is None or s[0] == method]


def _submission(user_id, state):
    """A Canvas `Submission` object (the fields canvasapi and the grader read, and a few more)."""
    score = state.get("score")
    return {"id": 50000 + user_id, "assignment_id": int(ASSIGNMENT), "user_id": user_id, "attempt": 1, "body": None,
            "grade": None if score is None else f"{score:g}", "score": score, "entered_grade": None if score is None else f"{score:g}",
            "entered_score": score, "grade_matches_current_submission": True, "submitted_at": "2025-03-01T09:00:00Z",
            "workflow_state": "graded" if score is not None else "submitted", "late": False, "excused": False, "missing": False,
            "submission_type": "online_upload", "submission_comments": state.get("comments", [])}  # fmt: skip


class Handler(BaseHTTPRequestHandler):
    fake: FakeCanvas

    def log_message(self, *args):  # quiet
        pass

    def _send(self, status, body, headers=()):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def _handle(self, method):
        url = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        form = parse_qsl(self.rfile.read(length).decode(), keep_blank_values=True) if length else []
        self.fake.seen.append((method, url.path, parse_qsl(url.query, keep_blank_values=True), form))
        if self.headers.get("Authorization") != f"Bearer {TOKEN}":
            return self._send(401, {"errors": [{"message": "Invalid access token."}]}, [("WWW-Authenticate", 'Bearer realm="canvas-lms"')])
        queued = self.fake.fail_first.get(f"{method} {url.path}")
        if queued:
            status, headers = queued.pop(0)
            return self._send(status, {"errors": [{"message": "Internal server error"}]}, list(headers.items()))
        return self._route(method, url.path, dict(form))

    def _route(self, method, path, form):
        if method == "GET" and path == f"/api/v1/courses/{COURSE}":
            return self._send(200, {"id": 1, "name": "Deep Learning", "course_code": "DL-101", "workflow_state": "available",
                                    "account_id": 1, "enrollment_term_id": 1, "default_view": "modules", "time_zone": "UTC"})  # fmt: skip
        if method == "GET" and path == f"/api/v1/courses/{COURSE}/assignments/{ASSIGNMENT}":
            return self._send(200, {"id": 7, "name": "A1: MLP", "course_id": 1, "points_possible": 10.0, "grading_type": "points",
                                    "submission_types": ["online_upload"], "published": True, "due_at": None})  # fmt: skip
        if method == "GET" and path == f"/api/v1/courses/{COURSE}/search_users":
            return self._send(200, STUDENTS)
        if path.startswith(SUB + "/"):
            user_id = int(path.rsplit("/", 1)[1])
            if user_id not in self.fake.submissions:
                return self._send(404, {"errors": [{"message": "The specified resource does not exist."}]})
            state = self.fake.submissions[user_id]
            if method == "PUT":
                state["score"] = float(form["submission[posted_grade]"])
                if "comment[text_comment]" in form:
                    state.setdefault("comments", []).append({"id": len(self.fake.seen), "author_id": 1, "author_name": "TA",
                                                             "comment": form["comment[text_comment]"], "created_at": "2025-03-02T10:00:00Z"})  # fmt: skip
            return self._send(200, _submission(user_id, state))
        return self._send(404, {"errors": [{"message": "The specified resource does not exist."}]})

    def do_GET(self):
        self._handle("GET")

    def do_PUT(self):
        self._handle("PUT")


@pytest.fixture
def fake():
    """A fake Canvas on 127.0.0.1 (a free port) with two students and their empty submissions."""
    state = FakeCanvas(submissions={1001: {}, 1002: {}})
    handler = type("BoundHandler", (Handler,), {"fake": state})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    yield state
    server.shutdown()
    server.server_close()


def make_result(name, score, metadata=None):
    tests = [TestResult(name="hidden/test_loss.py::test_softmax_loss", question="q1", score=score, max_score=10,
                        status="passed" if score == 10 else "failed", outcome="passed" if score == 10 else "failed",
                        output="" if score == 10 else "`loss` differs from the reference.", visibility="after_published")]  # fmt: skip
    return SubmissionResult(submission=name, assignment="a1_mlp_numpy", assignment_version="1", status="graded", score=score,
                            max_score=10, execution_time=1.0, tests=tests, metadata=metadata or {},
                            questions=[QuestionResult(id="q1", title="Loss", score=score, max_score=10)])  # fmt: skip


@pytest.fixture
def results(tmp_path):
    out = tmp_path / "results"
    write_result(make_result("doejane", 7.5), out)
    write_result(make_result("zoe", 10), out)
    return out


def write_roster(path, rows):
    with path.open("w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows([["LMS id", "SIS id", "login", "email", "name"], *rows])
    return path


@pytest.fixture
def roster(tmp_path):
    return write_roster(tmp_path / "roster.csv", [["1001", "S-1", "doejane", "jane.doe@uni.example", "Jane Doe"],
                                                   ["1002", "S-2", "zoe", "zoe@uni.example", "Zoë Ångström"]])  # fmt: skip


def upload(fake, results, roster=None, **kw):
    batch = read_batch(results)
    entries, _ = pair_with_roster(batch, read_roster(roster) if roster else None)
    return upload_grades(connect(fake.url, TOKEN), fake.url, COURSE, ASSIGNMENT, entries, **kw)


def _put(user_id, grade, comment):
    return ("PUT", f"{SUB}/{user_id}", [], [("submission[posted_grade]", grade), ("comment[text_comment]", comment)])


def test_two_students_the_exact_requests_canvas_sees(fake, results, roster):
    summary = upload(fake, results, roster)
    assert summary.sent == ["doejane", "zoe"] and not summary.skipped and not summary.failed
    jane, zoe = feedback_summary(make_result("doejane", 7.5)), feedback_summary(make_result("zoe", 10))
    assert fake.seen == [
        ("GET", "/api/v1/courses/1", [], []),
        ("GET", "/api/v1/courses/1/assignments/7", [], []),
        ("GET", "/api/v1/courses/1/search_users", [("enrollment_type[]", "student"), ("include[]", "email"), ("per_page", "100")], []),
        ("GET", f"{SUB}/1001", [("include[]", "submission_comments")], []),
        _put(1001, "7.5", jane),
        ("GET", f"{SUB}/1002", [("include[]", "submission_comments")], []),
        _put(1002, "10", zoe),
    ]
    assert jane == "a1_mlp_numpy: 7.5/10. Loss 7.5/10. First problem: test_softmax_loss (failed): `loss` differs from the reference."
    assert fake.submissions[1001]["score"] == 7.5 and fake.submissions[1002]["comments"][0]["comment"] == zoe


def test_a_late_submission_is_posted_with_its_late_penalty(fake, results, roster):
    late = Late(days=2, minutes=2000.0, penalty=0.2, source_of_time="newest file time in the Canvas download")
    write_result(make_result("doejane", 7.5, metadata={"late": late.as_metadata()}), results)
    summary = upload(fake, results, roster)
    assert summary.sent == ["doejane", "zoe"]
    assert [dict(form)["submission[posted_grade]"] for *_, form in fake.requests("PUT")] == ["6", "10"]
    assert fake.submissions[1001]["score"] == 6.0
    comment = dict(fake.requests("PUT")[0][-1])["comment[text_comment]"]
    assert ": 6/10 after a 20% late penalty (7.5 before)." in comment


def test_a_rerun_sends_nothing_new_and_never_repeats_a_comment(fake, results, roster):
    upload(fake, results, roster)
    fake.seen.clear()
    summary = upload(fake, results, roster)
    assert not fake.requests("PUT") and summary.sent == []
    assert [why for _, why in summary.skipped] == ["already up to date (same score and comment in Canvas)"] * 2


def test_dry_run_prints_the_requests_and_sends_nothing(fake, results, roster, monkeypatch):
    monkeypatch.setenv("CANVAS_TOKEN", TOKEN)
    got = runner.invoke(app, ["upload", "canvas", str(results), "--url", fake.url, "--course", COURSE, "--assignment", ASSIGNMENT,
                              "--roster", str(roster), "--dry-run"])  # fmt: skip
    assert got.exit_code == 0, got.output
    assert {m for m, *_ in fake.seen} == {"GET"} and not any("/submissions/" in p for _, p, *_ in fake.seen)
    assert f"PUT {SUB}/1001\n  submission[posted_grade]=7.5\n  comment[text_comment]=a1_mlp_numpy: 7.5/10." in got.output
    assert "dry run: 2 grades would be sent, 0 skipped; nothing was sent." in got.output
    assert fake.submissions == {1001: {}, 1002: {}}


def test_a_500_then_200_is_retried_once_and_succeeds(fake, results, roster):
    fake.fail_first[f"PUT {SUB}/1001"] = [(500, {})]
    summary = upload(fake, results, roster)
    assert summary.sent == ["doejane", "zoe"] and not summary.failed
    assert [p for _, p, *_ in fake.requests("PUT")] == [f"{SUB}/1001", f"{SUB}/1001", f"{SUB}/1002"]
    assert len(fake.submissions[1001]["comments"]) == 1


def test_a_429_waits_as_long_as_retry_after_says(fake, results, roster):
    fake.fail_first[f"GET {SUB}/1002"] = [(429, {"Retry-After": "1", "X-Rate-Limit-Remaining": "0"})]
    start = time.monotonic()
    summary = upload(fake, results, roster)
    assert summary.sent == ["doejane", "zoe"] and time.monotonic() - start >= 0.9


def test_one_student_failing_for_good_does_not_stop_the_rest(fake, results, roster, monkeypatch):
    fast = lms_canvas.retry_policy().new(backoff_factor=0.01)
    monkeypatch.setattr(lms_canvas, "retry_policy", lambda: fast)
    fake.fail_first[f"PUT {SUB}/1001"] = [(503, {})] * 10
    summary = upload(fake, results, roster)
    assert summary.sent == ["zoe"] and summary.failed == [("doejane", "CanvasException: Encountered an error: status code 503")]
    assert len([p for _, p, *_ in fake.requests("PUT") if p.endswith("/1001")]) == 5  # 1 try + 4 retries, bounded


def test_a_refused_token_is_one_clear_line_and_nothing_is_sent(fake, results, roster, monkeypatch):
    monkeypatch.setenv("CANVAS_TOKEN", "expired")
    got = runner.invoke(app, ["upload", "canvas", str(results), "--url", fake.url, "--course", COURSE, "--assignment", ASSIGNMENT,
                              "--roster", str(roster)])  # fmt: skip
    assert got.exit_code == 2
    error = [line for line in got.output.splitlines() if line.startswith("error:")]
    assert len(error) == 1 and "refused the token in $CANVAS_TOKEN (401 Unauthorized)" in error[0] and "Nothing was sent" in error[0]
    assert fake.seen == [("GET", "/api/v1/courses/1", [], [])]


def test_a_missing_token_names_the_variable_and_sends_nothing(fake, results, monkeypatch):
    monkeypatch.delenv("MY_CANVAS", raising=False)
    got = runner.invoke(app, ["upload", "canvas", str(results), "--url", fake.url, "--course", COURSE, "--assignment", ASSIGNMENT,
                              "--token-env", "MY_CANVAS"])  # fmt: skip
    assert got.exit_code == 2 and "the environment variable MY_CANVAS is not set" in got.output and fake.seen == []


def test_unknown_students_are_skipped_and_reported(fake, results, tmp_path, monkeypatch):
    write_result(make_result("mallory", 3), results)  # in no roster, and not a student of the course
    roster = write_roster(tmp_path / "r.csv", [["", "", "zoe", "", "Zoë"]])  # no Canvas ids: found by login
    summary = upload(fake, results, roster)
    assert summary.sent == ["doejane", "zoe"]  # jane is in no roster but her submission name is her Canvas login
    unknown = "no student of the course matches `mallory` (by login, SIS id, email or name)"
    assert summary.skipped == [("mallory", unknown)]
    monkeypatch.setenv("CANVAS_TOKEN", TOKEN)
    got = runner.invoke(app, ["upload", "canvas", str(results), "--url", fake.url, "--course", COURSE, "--assignment", ASSIGNMENT])
    assert got.exit_code == 0, got.output
    assert f"skipped: mallory: {unknown}" in got.output
    assert "sent 0, skipped 3, failed 0" in got.output  # a rerun: jane and zoe are up to date, mallory is unknown


def test_a_roster_id_that_is_not_in_the_course_is_skipped(fake, results, tmp_path):
    roster = write_roster(tmp_path / "r.csv", [["9999", "", "doejane", "", "Jane Doe"], ["1002", "", "zoe", "", "Zoë"]])
    summary = upload(fake, results, roster)
    assert summary.sent == ["zoe"]
    assert summary.skipped == [("doejane", "Canvas user 9999 (from the roster) is not a student of this course")]


def test_the_session_times_out_and_caps_retry_after(fake):
    from urllib3 import HTTPResponse

    adapter = connect(fake.url, TOKEN)._Canvas__requester._session.get_adapter(fake.url)
    assert isinstance(adapter, lms_canvas.TimeoutAdapter) and isinstance(adapter.max_retries, lms_canvas.BoundedRetry)
    policy = adapter.max_retries
    assert policy.get_retry_after(HTTPResponse(headers={"Retry-After": "3600"})) == lms_canvas.MAX_RETRY_AFTER_S
    assert policy.get_retry_after(HTTPResponse(headers={"Retry-After": "soon"})) is None
    assert policy.total == 4 and set(policy.status_forcelist) == {429, 500, 502, 503, 504} and "POST" not in policy.allowed_methods
