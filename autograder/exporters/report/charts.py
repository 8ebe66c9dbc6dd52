"""Charts for the class report, drawn as inline SVG: no image files, no scripts, nothing fetched."""

from __future__ import annotations

from html import escape

OUTCOME_COLOURS = {
    "passed": "#2e7d32",
    "failed": "#c62828",
    "errored": "#ef6c00",
    "not attempted": "#9e9e9e",
    "timed out": "#6a1b9a",
    "crashed": "#4e342e",
    "grader error": "#1565c0",
}
BAR = "#3f6fb5"
GRID = "#e3e6eb"
INK = "#333a45"
FONT = 'font-family="system-ui, -apple-system, Segoe UI, Roboto, sans-serif" font-size="12"'


def _svg(width: int, height: int, title: str, body: list[str]) -> str:
    return (
        f'<svg class="chart" viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img" '
        f'aria-label="{escape(title)}" {FONT}><title>{escape(title)}</title>{"".join(body)}</svg>'
    )


def _nice_top(value: int) -> int:
    """Return a round axis maximum at or above `value` (at least 1)."""
    for step in (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000):
        if value <= step * 5:
            return max(step, -(-value // step) * step)
    return value


def histogram(counts: list[int], mean: float, title: str = "Scores (percent of the maximum)") -> str:
    """Return an SVG histogram of submissions per 10-point score bin, with the class mean marked."""
    width, height, left, right, top, bottom = 700, 300, 48, 16, 34, 48
    plot_w, plot_h = width - left - right, height - top - bottom
    y_max = _nice_top(max(counts, default=0))
    step = max(1, y_max // 5)
    body = []
    for tick in range(0, y_max + 1, step):
        y = top + plot_h - plot_h * tick / y_max
        body.append(f'<line x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}" stroke="{GRID}"/>')
        body.append(f'<text x="{left - 8}" y="{y + 4:.1f}" text-anchor="end" fill="{INK}">{tick}</text>')
    bin_w = plot_w / len(counts)
    for i, n in enumerate(counts):
        x, h = left + i * bin_w, plot_h * n / y_max
        body.append(f'<rect x="{x + 3:.1f}" y="{top + plot_h - h:.1f}" width="{bin_w - 6:.1f}" height="{h:.1f}" fill="{BAR}" rx="2"><title>{i * 10}-{i * 10 + 10} %: {n}</title></rect>')
        if n:
            body.append(f'<text x="{x + bin_w / 2:.1f}" y="{top + plot_h - h - 5:.1f}" text-anchor="middle" fill="{INK}">{n}</text>')
        body.append(f'<text x="{x + bin_w / 2:.1f}" y="{top + plot_h + 18}" text-anchor="middle" fill="{INK}">{i * 10}-{i * 10 + 10}</text>')
    mx = left + plot_w * min(100.0, max(0.0, mean)) / 100
    body.append(f'<line x1="{mx:.1f}" x2="{mx:.1f}" y1="{top - 16}" y2="{top + plot_h}" stroke="#d08300" stroke-width="2" stroke-dasharray="5 4"/>')
    body.append(f'<text x="{mx:.1f}" y="{top - 20}" text-anchor="middle" fill="#a36600">mean {mean:.1f} %</text>')
    body.append(f'<text x="{left + plot_w / 2:.1f}" y="{height - 8}" text-anchor="middle" fill="{INK}">score (% of the maximum)</text>')
    body.append(f'<text x="14" y="{top + plot_h / 2:.1f}" text-anchor="middle" fill="{INK}" transform="rotate(-90 14 {top + plot_h / 2:.1f})">submissions</text>')
    return _svg(width, height, title, body)


def horizontal_bars(rows: list[tuple[str, float, str]], title: str) -> str:
    """Return an SVG bar chart of fractions in [0, 1]: one bar per (label, fraction, value text)."""
    width, row_h, label_w, value_w = 720, 30, 150, 170
    height = row_h * len(rows) + 30
    plot_w = width - label_w - value_w
    body = [f'<line x1="{label_w + plot_w * f:.1f}" x2="{label_w + plot_w * f:.1f}" y1="0" y2="{height - 22}" stroke="{GRID}"/>' for f in (0, 0.25, 0.5, 0.75, 1)]
    body += [f'<text x="{label_w + plot_w * f:.1f}" y="{height - 6}" text-anchor="middle" fill="{INK}">{int(f * 100)} %</text>' for f in (0, 0.5, 1)]
    for i, (label, fraction, value) in enumerate(rows):
        y = i * row_h + 4
        short = label if len(label) <= 20 else label[:19] + "\u2026"
        body.append(f'<text x="{label_w - 8}" y="{y + 16}" text-anchor="end" fill="{INK}">{escape(short)}<title>{escape(label)}</title></text>')
        body.append(f'<rect x="{label_w}" y="{y + 2}" width="{plot_w}" height="{row_h - 10}" fill="#eef1f5" rx="2"/>')
        body.append(f'<rect x="{label_w}" y="{y + 2}" width="{plot_w * min(1.0, max(0.0, fraction)):.1f}" height="{row_h - 10}" fill="{BAR}" rx="2"/>')
        body.append(f'<text x="{label_w + plot_w + 8}" y="{y + 16}" fill="{INK}">{escape(value)}</text>')
    return _svg(width, height, title, body)


def stacked_bar(counts: dict[str, int], title: str) -> str:
    """Return one SVG bar split by outcome, with a legend of counts."""
    width, bar_h = 720, 26
    total = sum(counts.values()) or 1
    body, x = [], 0.0
    for outcome, n in counts.items():
        w = width * n / total
        body.append(f'<rect x="{x:.1f}" y="0" width="{w:.1f}" height="{bar_h}" fill="{OUTCOME_COLOURS.get(outcome, INK)}"><title>{escape(outcome)}: {n}</title></rect>')
        x += w
    lx = 0
    for outcome, n in counts.items():
        label = f"{outcome} {n}"
        body.append(f'<rect x="{lx}" y="{bar_h + 12}" width="12" height="12" fill="{OUTCOME_COLOURS.get(outcome, INK)}" rx="2"/>')
        body.append(f'<text x="{lx + 17}" y="{bar_h + 22}" fill="{INK}">{escape(label)}</text>')
        lx += 30 + 7 * len(label)
    return _svg(width, bar_h + 32, title, body)
