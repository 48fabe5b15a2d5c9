"""Small inline SVG charts for the HTML report (bar and line charts); no plotting library, no network.

Each function returns an `<svg>` string sized for a report card, with escaped labels and a <title>
tooltip on every mark. Only drawing lives here; the numbers come from `report.py`.
"""

from __future__ import annotations

from html import escape

W, H = 460, 240
PAD_L, PAD_R, PAD_T, PAD_B = 48, 12, 16, 64
COLORS = ["#3b6fb6", "#d9822b", "#3d9970", "#b94a48", "#7a5fb5"]


def _frame(body: str, title: str, ymax: float, yfmt: str) -> str:
    ticks = []
    for i in range(5):
        v = ymax * i / 4
        y = PAD_T + (H - PAD_T - PAD_B) * (1 - i / 4)
        ticks.append(f'<line x1="{PAD_L}" x2="{W - PAD_R}" y1="{y:.1f}" y2="{y:.1f}" stroke="#e3e3e3"/>'
                     f'<text x="{PAD_L - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="11">{yfmt.format(v)}</text>')
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {W} {H}" width="{W}" height="{H}" role="img" '
            f'aria-label="{escape(title)}"><title>{escape(title)}</title>{"".join(ticks)}{body}'
            f'<line x1="{PAD_L}" x2="{W - PAD_R}" y1="{H - PAD_B}" y2="{H - PAD_B}" stroke="#888"/></svg>')


def bar_chart(labels: list[str], series: dict[str, list[float | None]], *, title: str, ymax: float | None = None,
              yfmt: str = "{:.0%}") -> str:
    """Grouped bars: one group per label, one bar per series; None values are left out."""
    if not labels:
        return '<p class="empty">no data</p>'
    vals = [v for vs in series.values() for v in vs if v is not None]
    top = ymax or (max(vals) * 1.15 if vals and max(vals) > 0 else 1.0)
    plot_w, plot_h = W - PAD_L - PAD_R, H - PAD_T - PAD_B
    group_w = plot_w / len(labels)
    bar_w = group_w * 0.8 / max(1, len(series))
    parts = []
    for si, (name, values) in enumerate(series.items()):
        for li, value in enumerate(values):
            if value is None:
                continue
            h = plot_h * min(value, top) / top
            x = PAD_L + li * group_w + group_w * 0.1 + si * bar_w
            parts.append(f'<rect x="{x:.1f}" y="{PAD_T + plot_h - h:.1f}" width="{bar_w:.1f}" height="{h:.1f}" '
                         f'fill="{COLORS[si % len(COLORS)]}"><title>{escape(labels[li])} · {escape(name)}: '
                         f'{escape(yfmt.format(value))}</title></rect>')
    for li, label in enumerate(labels):
        x = PAD_L + (li + 0.5) * group_w
        short = label if len(label) <= 18 else label[:17] + "…"
        parts.append(f'<text x="{x:.1f}" y="{H - PAD_B + 14}" font-size="10" text-anchor="end" '
                     f'transform="rotate(-30 {x:.1f} {H - PAD_B + 14})">{escape(short)}</text>')
    if len(series) > 1:
        for si, name in enumerate(series):
            parts.append(f'<rect x="{PAD_L + 8 + si * 110}" y="2" width="10" height="10" fill="{COLORS[si % 5]}"/>'
                         f'<text x="{PAD_L + 22 + si * 110}" y="11" font-size="11">{escape(name)}</text>')
    return _frame("".join(parts), title, top, yfmt)


def line_chart(xs: list[int], series: dict[str, list[float]], *, title: str, ymax: float = 1.0,
               yfmt: str = "{:.0%}", xlabel: str = "k", max_xticks: int = 12) -> str:
    if not xs:
        return '<p class="empty">no data</p>'
    plot_w, plot_h = W - PAD_L - PAD_R, H - PAD_T - PAD_B
    lo, hi = min(xs), max(xs)

    def px(x: float) -> float:
        return PAD_L + (plot_w * (x - lo) / (hi - lo) if hi > lo else plot_w / 2)

    parts = []
    for si, (name, ys) in enumerate(series.items()):
        color = COLORS[si % len(COLORS)]
        pts = " ".join(f"{px(x):.1f},{PAD_T + plot_h * (1 - y / ymax):.1f}" for x, y in zip(xs, ys, strict=True))
        parts.append(f'<polyline points="{pts}" fill="none" stroke="{color}" stroke-width="2"/>')
        for x, y in list(zip(xs, ys, strict=True)) if len(xs) <= 40 else []:
            parts.append(f'<circle cx="{px(x):.1f}" cy="{PAD_T + plot_h * (1 - y / ymax):.1f}" r="3.5" fill="{color}">'
                         f'<title>{escape(name)}@{x}: {escape(yfmt.format(y))}</title></circle>')
    step = max(1, -(-len(xs) // max_xticks))
    for x in xs[::step]:
        parts.append(f'<text x="{px(x):.1f}" y="{H - PAD_B + 16}" font-size="11" text-anchor="middle">{x}</text>')
    parts.append(f'<text x="{PAD_L + plot_w / 2:.1f}" y="{H - PAD_B + 34}" font-size="11" '
                 f'text-anchor="middle">{escape(xlabel)}</text>')
    for si, name in enumerate(series):
        parts.append(f'<rect x="{PAD_L + 8 + si * 90}" y="2" width="10" height="10" fill="{COLORS[si % 5]}"/>'
                     f'<text x="{PAD_L + 22 + si * 90}" y="11" font-size="11">{escape(name)}</text>')
    return _frame("".join(parts), title, ymax, yfmt)
