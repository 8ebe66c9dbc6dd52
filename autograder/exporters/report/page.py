"""The class report as one self-contained HTML page: inline CSS and SVG, every student-supplied text escaped."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from html import escape

from autograder.exporters.report import charts
from autograder.exporters.report import stats as st
from autograder.exporters.report.load import Loaded
from autograder.outcomes import NOT_ATTEMPTED, OUTCOMES, PASSED
from autograder.results import SubmissionResult

TOP_TESTS = 30  # tests shown before the rest fold away
TOP_SLOWEST = 15
TOP_FAILURES = 20
EXAMPLE_CHARS = 1_500

CSS = """
:root { --ink:#1f2630; --muted:#667085; --line:#e3e6eb; --soft:#f6f7f9; --accent:#3f6fb5; --warn:#fff6e0; --warn-line:#e8b44a; }
* { box-sizing: border-box; }
body { margin:0; font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif; color:var(--ink); background:#fff; }
main { max-width:1100px; margin:0 auto; padding:28px 32px 60px; }
header h1 { margin:0 0 4px; font-size:28px; }
.sub, .muted, .note { color:var(--muted); }
.note { font-size:13.5px; margin:4px 0 12px; }
h2 { margin:40px 0 8px; padding-bottom:6px; border-bottom:2px solid var(--line); font-size:21px; }
h3 { margin:22px 0 6px; font-size:16px; }
.cards { display:grid; grid-template-columns:repeat(auto-fit,minmax(150px,1fr)); gap:12px; margin:20px 0 8px; }
.card { background:var(--soft); border:1px solid var(--line); border-radius:8px; padding:10px 14px; }
.card .v { font-size:24px; font-weight:600; font-variant-numeric:tabular-nums; }
.card .k { color:var(--muted); font-size:13px; }
nav.toc { background:var(--soft); border:1px solid var(--line); border-radius:8px; padding:10px 18px; margin:18px 0; }
nav.toc h2 { border:0; margin:0; padding:0; font-size:15px; }
nav.toc ol { margin:6px 0 0; padding-left:20px; columns:2; }
nav.toc a { color:var(--accent); text-decoration:none; }
.warnings { background:var(--warn); border:1px solid var(--warn-line); border-radius:8px; padding:8px 16px; margin:16px 0; }
.warnings ul { margin:4px 0; padding-left:20px; }
table { border-collapse:collapse; width:100%; margin:8px 0 4px; font-size:14px; }
th, td { padding:6px 9px; border-bottom:1px solid var(--line); text-align:left; vertical-align:top; }
th { background:var(--soft); font-weight:600; white-space:nowrap; }
tbody tr:nth-child(even) td { background:#fbfcfd; }
td.num, th.num { text-align:right; font-variant-numeric:tabular-nums; white-space:nowrap; }
td:first-child { overflow-wrap:anywhere; }
td { overflow-wrap:break-word; }
.row { display:flex; flex-wrap:wrap; gap:24px; align-items:flex-start; }
.row > table { width:auto; min-width:260px; flex:1; }
h4 { margin:12px 0 2px; font-size:14px; }
code, pre { font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace; font-size:12.5px; }
pre { white-space:pre-wrap; word-break:break-word; background:var(--soft); border:1px solid var(--line); border-radius:6px; padding:8px 10px; margin:6px 0; max-height:320px; overflow:auto; }
details summary { cursor:pointer; color:var(--accent); }
.bar { display:inline-block; width:90px; height:9px; background:#eef1f5; border-radius:5px; vertical-align:middle; margin-right:6px; overflow:hidden; }
.bar i { display:block; height:100%; background:var(--accent); }
.pill { display:inline-block; padding:0 7px; border-radius:9px; font-size:12px; color:#fff; white-space:nowrap; }
.chart { max-width:100%; height:auto; display:block; margin:8px 0; }
blockquote { margin:6px 0 14px; padding:6px 12px; border-left:3px solid var(--line); white-space:pre-wrap; background:var(--soft); }
footer { margin-top:48px; color:var(--muted); font-size:13px; border-top:1px solid var(--line); padding-top:10px; }
@media print { nav.toc { display:none; } pre { max-height:none; } h2 { break-after:avoid; } }
"""

SECTIONS = [
    ("scores", "Score distribution"),
    ("questions", "Questions"),
    ("tests", "Tests: pass rates"),
    ("failures", "Most common failure messages"),
    ("slowest", "Slowest tests"),
    ("problems", "Submissions that did not run to the end"),
    ("late", "Late submissions"),
    ("answers", "Written answers"),
    ("submissions", "All submissions"),
]


class Html(str):
    """Markup that is already safe: never escaped again."""


def esc(value: object) -> Html:
    """Return `value` as text safe in HTML content and attribute values."""
    return value if isinstance(value, Html) else Html(escape(str(value), quote=True))


def table(headers: list[str], rows: list[list[object]], numeric: set[int] = frozenset()) -> Html:
    """Return a table; cells are escaped unless they are `Html`, and columns in `numeric` are right-aligned."""
    cls = lambda i: ' class="num"' if i in numeric else ""
    head = "".join(f"<th{cls(i)}>{esc(h)}</th>" for i, h in enumerate(headers))
    body = "".join("<tr>" + "".join(f"<td{cls(i)}>{esc(c)}</td>" for i, c in enumerate(row)) + "</tr>" for row in rows)
    return Html(f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")


def pill(outcome: str) -> Html:
    colour = charts.OUTCOME_COLOURS.get(outcome, charts.INK)
    return Html(f'<span class="pill" style="background:{colour}">{esc(outcome)}</span>')


def rate_bar(fraction: float) -> Html:
    return Html(f'<span class="bar"><i style="width:{100 * fraction:.0f}%"></i></span>{100 * fraction:.0f} %')


def breakable(text: str) -> Html:
    """Escape `text` and let long identifiers wrap after `_`, `/`, `.` and `[`."""
    out = esc(text)
    for mark in ("_", "/", ".", "["):
        out = out.replace(mark, f"{mark}<wbr>")
    return Html(out)


def test_name(name: str) -> Html:
    """Show a test id with its file part muted, so the test's own name stands out."""
    file, sep, rest = name.rpartition("::")
    return Html(f'<span class="muted">{breakable(file + sep)}</span>{breakable(rest)}' if sep else breakable(name))


def section(key: str, title: str, *parts: str) -> Html:
    return Html(f'<section id="{key}"><h2>{esc(title)}</h2>{"".join(parts)}</section>')


def note(text: str) -> Html:
    return Html(f'<p class="note">{esc(text)}</p>')


def pre(text: str, limit: int = EXAMPLE_CHARS) -> Html:
    cut = text if len(text) <= limit else text[:limit] + f"\n[... {len(text) - limit} more characters]"
    return Html(f"<pre>{esc(cut)}</pre>")


def g(x: float) -> str:
    """Format points: up to two decimals, no trailing zeros."""
    return f"{x:.2f}".rstrip("0").rstrip(".")


def seconds(x: float) -> str:
    return f"{x * 1000:.0f} ms" if x < 1 else f"{x:.2f} s"


def scores_section(results: list[SubmissionResult]) -> Html:
    s = st.score_summary(results)
    outcomes = Counter(t.outcome for r in results for t in r.tests)
    ordered = {o: outcomes[o] for o in OUTCOMES if outcomes[o]}
    rows = [["submissions", s.n], ["mean", f"{s.mean:.1f} %"], ["median", f"{s.median:.1f} %"],
            ["standard deviation", f"{s.stdev:.1f} %"], ["lowest", f"{min(s.percents):.1f} %"], ["highest", f"{max(s.percents):.1f} %"]]  # fmt: skip
    parts = [Html(f'<div class="row">{charts.histogram(s.histogram, s.mean)}{table(["statistic", "value"], rows, {1})}</div>')]
    if ordered:
        parts += ["<h3>Outcomes of every test run</h3>", charts.stacked_bar(ordered, "Outcomes of every test run")]
    return section("scores", "Score distribution", note("Each submission's score as a percent of its maximum; bins of 10 points, 100 % in the last."), *parts)


def questions_section(results: list[SubmissionResult]) -> Html:
    qs = st.question_stats(results)
    if not qs:
        return section("questions", "Questions", note("No result lists questions."))
    frac = lambda q: q.mean / q.max_score if q.max_score else 0.0
    chart = charts.horizontal_bars([(q.id, frac(q), f"{g(q.mean)} / {g(q.max_score)}  ({100 * frac(q):.0f} %)") for q in qs], "Mean score per question")
    rows = [[Html(f"<code>{esc(q.id)}</code>"), q.title, g(q.mean), g(q.best), g(q.max_score), rate_bar(frac(q)), f"{q.full} / {len(q.scores)}"] for q in qs]
    body = table(["question", "title", "mean", "highest", "max", "mean %", "full marks"], rows, {2, 3, 4, 5, 6})
    return section("questions", "Questions", note("Points per question over every submission (ungraded ones count as 0)."), chart, body)


def _outcome_cell(s: st.TestStats) -> Html:
    parts = [f"{esc(o)} {n}" for o in OUTCOMES if o != PASSED and (n := s.outcomes[o])]
    return Html(", ".join(parts) or '<span class="muted">-</span>')


def tests_section(results: list[SubmissionResult]) -> Html:
    tests = st.per_test(results)
    if not tests:
        return section("tests", "Tests: pass rates", note("No test ran in these results."))
    ran = sum(1 for r in results if r.tests)
    row = lambda s: [test_name(s.name), s.question, g(s.max_score), rate_bar(s.pass_rate), f"{s.outcomes[PASSED]} / {s.n}", _outcome_cell(s)]
    headers, numeric = ["test", "question", "points", "pass rate", "passed", "other outcomes"], {2, 3, 4}
    parts = [note(f"{len(tests)} tests over the {ran} submissions whose tests ran; the lowest pass rate first."), table(headers, [row(s) for s in tests[:TOP_TESTS]], numeric)]
    if len(tests) > TOP_TESTS:
        rest = table(headers, [row(s) for s in tests[TOP_TESTS:]], numeric)
        parts.append(Html(f"<details><summary>The other {len(tests) - TOP_TESTS} tests</summary>{rest}</details>"))
    return section("tests", "Tests: pass rates", *parts)


def _tests_in(f: st.FailureGroup) -> str:
    names = [name.rpartition("::")[2] or name for name, _ in f.tests.most_common(3)]
    more = f" and {len(f.tests) - 3} more" if len(f.tests) > 3 else ""
    return ", ".join(names) + more


def _failure_row(f: st.FailureGroup) -> list[object]:
    where = Html(f'<div class="note">in {breakable(_tests_in(f))}</div>')
    example = Html(f"<details><summary>an example in full</summary>{pre(f.example)}</details>")
    return [len(f.submissions), f.count, pill(f.outcome), Html(f"<code>{esc(f.key)}</code>{where}{example}")]


def _stubs_table(groups: list[st.FailureGroup]) -> Html:
    rows = [[len(f.submissions), f.count, Html(f"<code>{esc(f.key)}</code>")] for f in groups]
    return Html("<h3>Left as stubs (not attempted)</h3>" + table(["submissions", "tests", "message"], rows, {0, 1}))


def failures_section(results: list[SubmissionResult]) -> Html:
    groups = st.failure_groups(results, top=10_000)
    wrong = [f for f in groups if f.outcome != NOT_ATTEMPTED][:TOP_FAILURES]
    stubs = [f for f in groups if f.outcome == NOT_ATTEMPTED][:TOP_FAILURES]
    parts = [note("Messages that differ only in numbers are grouped; the most widespread first.")]
    if wrong:
        parts.append(table(["submissions", "tests", "outcome", "message (numbers shown as N)"], [_failure_row(f) for f in wrong], {0, 1}))
    else:
        parts.append(note("No test failed other than as not attempted." if stubs else "No test failed."))
    if stubs:
        parts.append(_stubs_table(stubs))
    return section("failures", "Most common failure messages", *parts)


def slowest_section(results: list[SubmissionResult]) -> Html:
    tests = sorted(st.per_test(results), key=lambda s: (-s.median_s, s.name))[:TOP_SLOWEST]
    if not tests:
        return section("slowest", "Slowest tests", note("No test ran in these results."))
    rows = [[test_name(s.name), seconds(s.median_s), seconds(s.slowest[0]), s.slowest[1], len(s.durations)] for s in tests]
    body = table(["test", "median", "max", "slowest for", "runs"], rows, {1, 2, 4})
    return section("slowest", "Slowest tests", note("Wall time per test run, the highest median first."), body)


def problems_section(results: list[SubmissionResult]) -> Html:
    found = st.problems(results)
    if not found:
        return section("problems", "Submissions that did not run to the end", note("Every submission was graded to the end; no test timed out, crashed or hit a grader error."))
    rows = [[p.submission, pill(p.what), test_name(p.where), pre(p.reason, 600)] for p in found]
    text = "Submissions not graded to the end (errored, timed out, crashed, grader error), and single tests that timed out, crashed or hit a grader error."
    return section("problems", "Submissions that did not run to the end", note(text), table(["submission", "what", "where", "reason"], rows))


def _late_by(seconds_late: float | None) -> str:
    if seconds_late is None:
        return ""
    minutes = round(seconds_late / 60)
    days, rest = divmod(minutes, 24 * 60)
    return (f"{days} d " if days else "") + f"{rest // 60} h {rest % 60:02d} min"


def late_section(results: list[SubmissionResult]) -> Html:
    rows = st.late_rows(results)
    if not rows:
        return section("late", "Late submissions", note("These results carry no lateness information (no `late` or `lateness` in their metadata)."))
    late = [row for row in rows if row.late]
    shown = lambda d: ", ".join(f"{k}: {v}" for k, v in d.items() if k not in ("late", "late_penalty", "penalty", *st.SECONDS_KEYS))
    body = table(["submission", "late by", "penalty", "score", "details"], [[r.submission, _late_by(r.late_by_s), r.penalty, f"{r.percent:.1f} %", shown(r.details)] for r in late], {1, 2, 3})
    head = note(f"Late: {len(late)}, out of {len(rows)} submission(s) whose results carry lateness information; the latest first.")
    return section("late", "Late submissions", head, body if late else "")


def answers_section(results: list[SubmissionResult]) -> Html:
    answers = st.written_answers(results)
    if not answers:
        return section("answers", "Written answers", note("These results carry no written answers (no `written_answers` in their metadata)."))
    parts = []
    for question, given in answers.items():
        quotes = "".join(f"<h4>{esc(who)}</h4><blockquote>{esc(text) if text.strip() else Html('<span class=muted>(empty)</span>')}</blockquote>" for who, text in given)
        parts.append(f"<details open><summary><strong>{esc(question)}</strong> ({len(given)} answer{'' if len(given) == 1 else 's'})</summary>{quotes}</details>")
    return section("answers", "Written answers", *parts)


def submissions_section(results: list[SubmissionResult], mixed: bool) -> Html:
    renamed = any(r.original_name and r.original_name != r.submission for r in results)
    headers = ["submission"] + (["handed in as"] if renamed else []) + ["score", "max", "percent", "status"] + (["version"] if mixed else [])
    first = len(headers) - 4 - mixed
    rows = [[r.submission] + ([r.original_name if r.original_name != r.submission else ""] if renamed else [])
            + [g(r.score), g(r.max_score), f"{r.percent:.1f} %", r.status] + ([f"{r.assignment} {r.assignment_version}"] if mixed else [])
            for r in results]  # fmt: skip
    return section("submissions", "All submissions", table(headers, rows, {first, first + 1, first + 2}))


def _header(loaded: Loaded) -> Html:
    results = loaded.results
    names = sorted({f"{r.assignment} (version {r.assignment_version})" for r in results})
    s = st.score_summary(results)
    not_run = sum(r.status != "graded" for r in results)
    late = sum(1 for row in st.late_rows(results) if row.late)
    cards = [("submissions", s.n), ("mean", f"{s.mean:.1f} %"), ("median", f"{s.median:.1f} %"),
             ("full marks", sum(r.score >= r.max_score > 0 for r in results)), ("not graded to the end", not_run), ("late", late)]  # fmt: skip
    card_html = "".join(f'<div class="card"><div class="v">{esc(v)}</div><div class="k">{esc(k)}</div></div>' for k, v in cards)
    when = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    title = f"Class report: {', '.join(sorted({r.assignment for r in results}))}"
    sub = f"{'; '.join(names)} · {s.n} submissions from {loaded.folder.name or loaded.folder} · generated {when}"
    return Html(f'<header><h1>{esc(title)}</h1><p class="sub">{esc(sub)}</p></header><div class="cards">{card_html}</div>')


def _warnings(warnings: list[str]) -> Html:
    if not warnings:
        return Html("")
    items = "".join(f"<li>{esc(w)}</li>" for w in warnings)
    return Html(f'<div class="warnings" id="warnings"><strong>Warnings</strong><ul>{items}</ul></div>')


def _toc() -> Html:
    items = "".join(f'<li><a href="#{key}">{esc(title)}</a></li>' for key, title in SECTIONS)
    return Html(f'<nav class="toc"><h2>Contents</h2><ol>{items}</ol></nav>')


def render(loaded: Loaded) -> str:
    """Return the whole report page for the loaded results."""
    results, mixed = loaded.results, len({(r.assignment, r.assignment_version) for r in loaded.results}) > 1
    title = esc(f"Class report: {', '.join(sorted({r.assignment for r in results}))}")
    body = [
        _header(loaded), _warnings(loaded.warnings), _toc(), scores_section(results), questions_section(results),
        tests_section(results), failures_section(results), slowest_section(results), problems_section(results),
        late_section(results), answers_section(results), submissions_section(results, mixed),
    ]  # fmt: skip
    versions = ", ".join(sorted({r.grader_version for r in results}))
    footer = f"<footer>Graded by autograder {esc(versions)}. Every chart is drawn in this page; it loads nothing from elsewhere.</footer>"
    return (
        f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{title}</title><style>{CSS}</style></head><body><main>{''.join(body)}{footer}</main></body></html>\n"
    )
