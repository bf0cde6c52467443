"""The comparison as a manager reads it: a table, a JSON file and an HTML page with charts.

The HTML is one self-contained file: Chinese first, English beneath, charts drawn as inline SVG
by hand (no scripts, no web fonts, no CDN), so it opens on an office PC without a network and
prints cleanly.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from gigmarket.simulate.day import Day
from gigmarket.simulate.metrics import HOURS, PolicyMetrics
from gigmarket.simulate.policies import (
    POLICY_LABELS,
    POLICY_REACH,
    REACH_LABELS,
    Reach,
    circle_travel_minutes,
)

COLOURS = {
    "gigmarket": "#1565c0",
    "greedy": "#6d4c41",
    "first_come_circle": "#ffb74d",
    "lottery_circle": "#ba68c8",
    "first_come": "#ef6c00",
    "lottery": "#7b1fa2",
    "hindsight": "#9e9e9e",
    "hindsight_town": "#cfcfcf",
}


@dataclass(frozen=True, slots=True)
class Target:
    id: str
    zh: str
    en: str
    value: float | None
    threshold: str
    met: bool | None
    #: The same figure for the other policies, to read the value against.
    others: dict[str, float] = field(default_factory=dict)
    fmt: str = ".3f"

    def others_text(self, label: Callable[[str], str] = str) -> str:
        return ", ".join(f"{label(n)} {format(v, self.fmt)}" for n, v in self.others.items())

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id, "zh": self.zh, "en": self.en,
            "value": None if self.value is None else round(self.value, 6),
            "threshold": self.threshold, "met": self.met,
            "others": {n: round(v, 6) for n, v in self.others.items()},
        }


def _ratio(a: float | None, b: float | None) -> float | None:
    return a / b if a is not None and b else None


#: The baselines held to the same circle as gigmarket (issue 14's honest comparison).
SAME_REACH: Final = ("greedy", "first_come_circle", "lottery_circle")


def targets(results: dict[str, PolicyMetrics]) -> list[Target]:
    """Issue 14's targets, judged on whichever policies were run (``None``: not judged).

    Each carries the same figure for the other policies, so a reader can tell a shortfall of
    gigmarket's from a ceiling every policy meets.
    """
    gm = results.get("gigmarket")
    fc = results.get("first_come")
    lot_c = results.get("lottery_circle")
    rest = {n: m for n, m in results.items() if n != "gigmarket"}
    online = {n: m for n, m in rest.items() if not n.startswith("hindsight")}

    def others(figure: dict[str, float | None]) -> dict[str, float]:
        return {n: v for n, v in figure.items() if v is not None}

    def judged(v: float | None, ok: bool) -> bool | None:
        return None if v is None else ok

    same = [results[n] for n in SAME_REACH if n in results]
    best = max((m.filled_in_circle for m in same), default=None)
    v = float(gm.filled_in_circle - best) if gm and best is not None else None
    fill = Target("fill_in_circle_vs_same_reach",
                  "智能派单服务圈内招满数 − 同范围最佳基线",
                  "gigmarket fills within the circle − best same-reach baseline's", v, ">= 0",
                  judged(v, v is not None and v >= 0),
                  others({n: float(m.filled_in_circle) for n, m in rest.items()}), ".0f")
    v = float(gm.filled - fc.filled) if gm and fc else None
    total = Target("total_fill_vs_first_come", "智能派单总招满数 − 全镇抢单",
                   "gigmarket total fills − town-wide first-come's", v, ">= 0",
                   judged(v, v is not None and v >= 0),
                   others({n: float(m.filled) for n, m in rest.items()}), ".0f")
    base = fc.mean_travel_min if fc else None
    v = _ratio(gm.mean_travel_min, base) if gm else None
    travel = Target("travel_vs_first_come", "智能派单平均路程 ÷ 全镇抢单平均路程",
                    "gigmarket mean travel / town-wide first-come's", v, "<= 0.60",
                    judged(v, v is not None and v <= 0.6),
                    others({n: _ratio(m.mean_travel_min, base) for n, m in rest.items()}))
    v = gm.key_group_rate - gm.general_rate if gm else None
    key = Target("key_group_placement", "重点群体上岗率 − 总体上岗率",
                 "key-group placement rate − general rate", v, ">= 0",
                 judged(v, v is not None and v >= 0),
                 others({n: m.key_group_rate - m.general_rate for n, m in rest.items()}), "+.3f")
    v = gm.share_paid - lot_c.share_paid if gm and lot_c else None
    paid = Target("share_paid_vs_lottery", "有收入者占比：智能派单 − 服务圈内抽签",
                  "share of workers paid: gigmarket − same-reach lottery", v, ">= 0",
                  judged(v, v is not None and v >= -1e-12),
                  others({n: m.share_paid for n, m in results.items()}))
    v = gm.gini_paid - lot_c.gini_paid if gm and lot_c else None
    fair = Target("gini_paid_vs_lottery", "有收入者的收入基尼系数：智能派单 − 服务圈内抽签",
                  "Gini among the paid: gigmarket − same-reach lottery", v, "<= 0",
                  judged(v, v is not None and v <= 1e-12),
                  others({n: m.gini_paid for n, m in results.items()}))
    firsts = [m.median_time_to_fill_min for n, m in online.items()
              if n.startswith("first_come") and m.median_time_to_fill_min is not None]
    quickest = min(firsts) if firsts else None
    v = (gm.median_time_to_fill_min - quickest
         if gm and gm.median_time_to_fill_min is not None and quickest is not None else None)
    ttf = Target("time_to_fill_vs_first_come",
                 "岗位接单用时中位数（分）：智能派单 − 抢单（较快者）",
                 "median time-to-fill (min): gigmarket − the quicker first-come's", v, "<= 0",
                 judged(v, v is not None and v <= 1e-12),
                 others({n: m.median_time_to_fill_min for n, m in online.items()}), "+.2f")
    broken = sum(m.violations for m in results.values())
    safe = Target("violations", "各方案违反不变量及资格次数合计",
                  "invariant violations and eligibility breaks, all policies",
                  float(broken), "== 0", broken == 0,
                  others({n: float(m.violations) for n, m in results.items()}), ".0f")
    return [fill, total, travel, key, paid, fair, ttf, safe]


#: ``report.json``'s layout; raised on any change a reader could trip over
#: (docs/simulate-report.md describes every field).
SCHEMA_VERSION = 2


def report_json(days: Sequence[tuple[Day, dict[str, PolicyMetrics],
                                     dict[str, dict[str, float]]]]) -> dict[str, Any]:
    """The whole ``report.json``: one entry per day played (see docs/simulate-report.md)."""
    first = days[0][0]
    return {
        "schema_version": SCHEMA_VERSION,
        "market": first.market.id,
        "seed": first.seed,
        "days": [as_json(day, results, runtime) for day, results, runtime in days],
    }


def as_json(
    day: Day, results: dict[str, PolicyMetrics], runtime: dict[str, dict[str, float]]
) -> dict[str, Any]:
    """One day's entry. Everything but ``runtime`` depends only on the seed and sizes."""
    return {
        "day_type": day.kind,
        "market": day.market.id,
        "seed": day.seed,
        "date": day.date_iso(),
        "workers": len(day.workers),
        "jobs": len(day.jobs),
        "slots_posted": int(day.jobs.headcount.sum()),
        "key_group_workers": int(day.workers.key_group.sum()),
        "policies": {name: m.as_json() for name, m in results.items()},
        "targets": [t.as_json() for t in targets(results)],
        "runtime": runtime,
    }


# -- the table ---------------------------------------------------------------------------------

def _fmt(v: float | int | None, spec: str) -> str:
    return "—" if v is None else format(v, spec)


_Columns = tuple[tuple[str, str, Callable[[PolicyMetrics, PolicyMetrics | None], str]], ...]
_COLUMNS: _Columns = (
    ("reach", ">6", lambda m, h: m.reach),
    ("filled", ">7", lambda m, h: f"{m.filled}/{m.slots}"),
    ("in circle", ">9", lambda m, h: str(m.filled_in_circle)),
    ("fill%", ">6", lambda m, h: _fmt(100 * m.fill_rate, ".1f")),
    ("vs best", ">7", lambda m, h: _fmt(100 * m.filled / h.filled if h and h.filled else None,
                                         ".1f")),
    ("ttf min", ">7", lambda m, h: _fmt(m.median_time_to_fill_min, ".1f")),
    ("travel", ">6", lambda m, h: _fmt(m.mean_travel_min, ".1f")),
    ("p90", ">5", lambda m, h: _fmt(m.p90_travel_min, ".1f")),
    ("off/fill", ">8", lambda m, h: _fmt(m.offers_per_fill, ".2f")),
    ("accept", ">6", lambda m, h: _fmt(None if m.acceptance_rate is None
                                        else 100 * m.acceptance_rate, ".0f")),
    ("key grp", ">7", lambda m, h: _fmt(100 * m.key_group_rate, ".1f")),
    ("all", ">5", lambda m, h: _fmt(100 * m.general_rate, ".1f")),
    ("Gini", ">5", lambda m, h: _fmt(m.gini_earnings, ".3f")),
    ("viol", ">4", lambda m, h: str(m.violations)),
)


#: The fairness figures of issue 14, a second table beneath the first.
_FAIRNESS: _Columns = (
    ("paid%", ">5", lambda m, h: _fmt(100 * m.share_paid, ".1f")),
    ("Gini paid", ">9", lambda m, h: _fmt(m.gini_paid, ".3f")),
    ("offered%", ">8", lambda m, h: _fmt(100 * m.offered_share, ".1f")),
    ("wait1 med", ">9", lambda m, h: _fmt(m.median_wait_first_offer_min, ".1f")),
    ("wait1 p90", ">9", lambda m, h: _fmt(m.p90_wait_first_offer_min, ".1f")),
    ("noon%", ">5", lambda m, h: _fmt(100 * m.placed_by_noon, ".1f")),
    ("key grp", ">7", lambda m, h: _fmt(100 * m.key_group_rate, ".1f")),
    ("all", ">5", lambda m, h: _fmt(100 * m.general_rate, ".1f")),
    ("kg-all", ">6", lambda m, h: _fmt(100 * (m.key_group_rate - m.general_rate), "+.1f")),
)


def _grid(results: dict[str, PolicyMetrics], columns: _Columns) -> list[str]:
    h = results.get("hindsight")
    name_w = max(len(n) for n in [*results, "policy"])
    cells = [[name.ljust(name_w)] + [format(fn(m, h), spec) for _, spec, fn in columns]
             for name, m in results.items()]
    head = ["policy".ljust(name_w)] + [format(title, spec) for title, spec, _ in columns]
    widths = [max(len(r[i]) for r in [head, *cells]) for i in range(len(head))]
    lines = ["  ".join(c.rjust(w) if i else c.ljust(w) for i, (c, w) in
                       enumerate(zip(row, widths, strict=True))) for row in [head, *cells]]
    lines.insert(1, "-" * len(lines[0]))
    return lines


def table(results: dict[str, PolicyMetrics]) -> str:
    """A fixed-width table for the terminal (figures in %, minutes, counts)."""
    lines = _grid(results, _COLUMNS)
    lines.append("")
    lines += _grid(results, _FAIRNESS)
    lines.append("")
    for t in targets(results):
        mark = {True: "met", False: "NOT met", None: "not judged"}[t.met]
        lines.append(f"  {t.en}: {_fmt(t.value, '.3f')} (target {t.threshold}) — {mark}")
        if t.others:
            lines.append(f"      others: {t.others_text()}")
    over = over_the_bound(results)
    if over:
        lines.append(f"  note: {', '.join(over)} filled more than the circle's hindsight bound: "
                     "they are not held to the circle (see 'in circle' and 'travel').")
    return "\n".join(lines)


def over_the_bound(results: dict[str, PolicyMetrics]) -> list[str]:
    """Town-reach policies that filled more than the hindsight bound within the circle."""
    hs = results.get("hindsight")
    if hs is None:
        return []
    return [n for n, m in results.items()
            if POLICY_REACH.get(n) is Reach.TOWN and n != "hindsight_town"
            and m.filled > hs.filled]


# -- SVG charts --------------------------------------------------------------------------------

def _esc(s: str) -> str:
    return html.escape(s, quote=True)


def _hbars(title: str, rows: Sequence[tuple[str, float, str, str]], vmax: float,
           note: str = "") -> str:
    """Horizontal bars: (label, value, colour, value text)."""
    bar_h, gap, left, width = 26, 10, 190, 380
    height = 40 + len(rows) * (bar_h + gap) + (18 if note else 0)
    out = [f'<svg viewBox="0 0 {left + width + 90} {height}" role="img" '
           f'aria-label="{_esc(title)}">',
           f'<text x="0" y="18" class="t">{_esc(title)}</text>']
    for i, (label, value, colour, text) in enumerate(rows):
        y = 34 + i * (bar_h + gap)
        w = 0 if vmax <= 0 else max(1.0, width * value / vmax)
        out.append(f'<text x="{left - 8}" y="{y + 18}" class="l">{_esc(label)}</text>')
        out.append(f'<rect x="{left}" y="{y}" width="{w:.1f}" height="{bar_h}" '
                   f'fill="{colour}" rx="3"/>')
        out.append(f'<text x="{left + w + 6:.1f}" y="{y + 18}" class="v">{_esc(text)}</text>')
    if note:
        out.append(f'<text x="0" y="{height - 4}" class="n">{_esc(note)}</text>')
    out.append("</svg>")
    return "".join(out)


def _pairs(title: str, rows: Sequence[tuple[str, float, float]], legend: tuple[str, str],
           colours: tuple[str, str], fmt: str) -> str:
    """Two bars per row (e.g. key group vs everyone), values in 0..1."""
    bar_h, gap, left, width = 14, 14, 190, 380
    height = 60 + len(rows) * (2 * bar_h + gap)
    out = [f'<svg viewBox="0 0 {left + width + 90} {height}" role="img" '
           f'aria-label="{_esc(title)}">',
           f'<text x="0" y="18" class="t">{_esc(title)}</text>']
    for k, (name, colour) in enumerate(zip(legend, colours, strict=True)):
        x = left + k * 190
        out.append(f'<rect x="{x}" y="28" width="12" height="12" fill="{colour}"/>'
                   f'<text x="{x + 18}" y="39" class="n">{_esc(name)}</text>')
    vmax = max([max(a, b) for _, a, b in rows] + [1e-9])
    for i, (label, a, b) in enumerate(rows):
        y = 52 + i * (2 * bar_h + gap)
        out.append(f'<text x="{left - 8}" y="{y + bar_h + 4}" class="l">{_esc(label)}</text>')
        for k, v in enumerate((a, b)):
            w = max(1.0, width * v / vmax)
            yy = y + k * bar_h
            out.append(f'<rect x="{left}" y="{yy}" width="{w:.1f}" height="{bar_h - 2}" '
                       f'fill="{colours[k]}"/>')
            out.append(f'<text x="{left + w + 6:.1f}" y="{yy + bar_h - 3}" class="v">'
                       f'{format(v, fmt)}</text>')
    out.append("</svg>")
    return "".join(out)


def _timeline(title: str, results: dict[str, PolicyMetrics]) -> str:
    """Slots filled so far, by hour of the day, one line per policy."""
    left, top, width, height = 50, 30, 520, 220
    vmax = max([max(m.filled_by_hour) for m in results.values()] + [1])
    n = len(HOURS)

    def xy(i: int, v: float) -> tuple[float, float]:
        return left + width * i / (n - 1), top + height * (1 - v / vmax)

    out = [f'<svg viewBox="0 0 {left + width + 150} {top + height + 40}" role="img" '
           f'aria-label="{_esc(title)}">',
           f'<text x="0" y="18" class="t">{_esc(title)}</text>']
    for k in range(5):
        v = vmax * k / 4
        _, y = xy(0, v)
        out.append(f'<line x1="{left}" y1="{y:.1f}" x2="{left + width}" y2="{y:.1f}" '
                   f'class="g"/><text x="{left - 6}" y="{y + 4:.1f}" class="l">{v:.0f}</text>')
    for i, h in enumerate(HOURS):
        if h % 2 == 1:
            x, _ = xy(i, 0)
            out.append(f'<text x="{x:.1f}" y="{top + height + 18}" class="m">{h + 1}:00</text>')
    for k, (name, m) in enumerate(results.items()):
        pts = " ".join(f"{x:.1f},{y:.1f}" for x, y in (xy(i, v) for i, v in
                                                       enumerate(m.filled_by_hour)))
        dash = ' stroke-dasharray="5 4"' if name.startswith("hindsight") else ""
        out.append(f'<polyline points="{pts}" fill="none" stroke="{COLOURS.get(name, "#333")}" '
                   f'stroke-width="2.5"{dash}/>')
        ly = top + 14 + k * 20
        out.append(f'<line x1="{left + width + 14}" y1="{ly}" x2="{left + width + 36}" '
                   f'y2="{ly}" stroke="{COLOURS.get(name, "#333")}" stroke-width="3"{dash}/>'
                   f'<text x="{left + width + 42}" y="{ly + 4}" class="n">'
                   f'{_esc(POLICY_LABELS[name][0])}</text>')
    out.append("</svg>")
    return "".join(out)


# -- the page ----------------------------------------------------------------------------------

_CSS = """
body{font-family:"PingFang SC","Microsoft YaHei","Noto Sans CJK SC",sans-serif;margin:24px auto;
max-width:980px;color:#222;line-height:1.55;padding:0 16px}
h1{font-size:26px;margin-bottom:2px}h2{font-size:20px;margin-top:34px;border-bottom:2px solid
#1565c0;padding-bottom:4px}.en{color:#666;font-size:.92em}table{border-collapse:collapse;
width:100%;font-size:14px}th,td{border:1px solid #ddd;padding:5px 7px;text-align:right}
th{background:#f3f6fb}td:first-child,th:first-child{text-align:left}.ok{color:#2e7d32;
font-weight:bold}.no{color:#c62828;font-weight:bold}svg{width:100%;max-width:700px;
display:block;margin:14px 0}svg .t{font-size:15px;font-weight:bold}svg .l{font-size:13px;
text-anchor:end}svg .v,svg .n{font-size:12px}svg .m{font-size:11px;text-anchor:middle}
svg .g{stroke:#e5e5e5}td.o{font-size:13px;color:#555;text-align:left}
.card{background:#f7f9fc;border-left:4px solid #1565c0;padding:8px 14px;
margin:10px 0}li{margin:4px 0}
"""


#: A source line break inside Chinese text: browsers render it as a space, Chinese has none.
_CJK_WRAP = re.compile(r"(?<=[^\x00-\x7f])\n(?=[^\x00-\x7f])")


def _label(name: str) -> str:
    zh, en = POLICY_LABELS[name]
    return f'{_esc(zh)}<br><span class="en">{_esc(en)}</span>'


def _reach(name: str) -> str:
    zh, en = REACH_LABELS[POLICY_REACH.get(name, Reach.CIRCLE)]
    return f'{_esc(zh)}<br><span class="en">{_esc(en)}</span>'


def page(day: Day, results: dict[str, PolicyMetrics]) -> str:
    """The HTML report."""
    hs = results.get("hindsight")
    names = list(results)

    def lab(n: str) -> str:
        return POLICY_LABELS[n][0]

    rows_html = []
    for name, m in results.items():
        vs = f"{100 * m.filled / hs.filled:.1f}%" if hs and hs.filled else "—"
        rows_html.append(
            "<tr>" + "".join(f"<td>{c}</td>" for c in [
                _label(name), _reach(name), f"{m.filled} / {m.slots}",
                f"{100 * m.fill_rate:.1f}%", vs, str(m.filled_in_circle),
                _fmt(m.median_time_to_fill_min, ".1f"), _fmt(m.mean_travel_min, ".1f"),
                _fmt(m.p90_travel_min, ".1f"), _fmt(m.offers_per_fill, ".2f"),
                _fmt(None if m.acceptance_rate is None else 100 * m.acceptance_rate, ".0f"),
                f"{100 * m.key_group_rate:.1f}% / {100 * m.general_rate:.1f}%",
                f"{m.gini_earnings:.3f}", str(m.violations)]) + "</tr>")
    target_rows = []
    for t in targets(results):
        mark = {True: '<span class="ok">✔ 达到 met</span>',
                False: '<span class="no">✘ 未达到 not met</span>',
                None: "— 未评估 not judged"}[t.met]
        target_rows.append(f"<tr><td>{_esc(t.zh)}<br><span class='en'>{_esc(t.en)}</span></td>"
                           f"<td>{_fmt(t.value, '.3f')}</td><td>{_esc(t.threshold)}</td>"
                           f"<td>{mark}</td><td class='o'>{_esc(t.others_text(lab))}</td></tr>")

    fill_chart = _hbars(
        "招满的岗位名额 Slots filled", [
            (lab(n), m.filled, COLOURS[n], f"{m.filled}（{100 * m.fill_rate:.0f}%）")
            for n, m in results.items()],
        max(m.slots for m in results.values()),
        note=f"共 {next(iter(results.values())).slots} 个有效名额 / slots posted and not "
             "cancelled; grey bars are the hindsight bounds",
    )
    travel_chart = _pairs(
        "路程（分钟）Travel, minutes", [
            (lab(n), m.mean_travel_min or 0.0, m.p90_travel_min or 0.0)
            for n, m in results.items()],
        ("平均 mean", "90%的人不超过 p90"), ("#1565c0", "#90caf9"), ".1f")
    kg_chart = _pairs(
        "上岗率：重点群体 vs 全体 Placement: key groups vs everyone", [
            (lab(n), m.key_group_rate, m.general_rate) for n, m in results.items()],
        ("重点群体 key groups", "全体 everyone"), ("#2e7d32", "#a5d6a7"), ".1%")
    gini_chart = _hbars(
        "收入基尼系数（越低越均衡）Gini of earnings (lower = more even)", [
            (lab(n), m.gini_earnings, COLOURS[n], f"{m.gini_earnings:.3f}")
            for n, m in results.items()], 1.0)
    ttf_rows = [(lab(n), m.median_time_to_fill_min or 0.0, COLOURS[n],
                 _fmt(m.median_time_to_fill_min, ".1f") + " 分钟 min")
                for n, m in results.items() if not n.startswith("hindsight")]
    ttf_chart = _hbars("岗位从发布到有人接单（中位数）Median time to fill",
                       ttf_rows, max([v for _, v, _, _ in ttf_rows] + [1e-9]))
    timeline = _timeline("一天中累计招满的名额 Slots filled through the day", results)

    W = day.workers
    rules = day.market.rules
    circle_min = circle_travel_minutes(rules)
    over = over_the_bound(results)
    over_zh = "、".join(lab(n) for n in over)
    over_html = (f"""<p class="card">注意：{_esc(over_zh)}招满的名额多于“服务圈内事后最优”，
因为它们不受服务圈限制（派得更远）。公平的对比请看“服务圈内招满”一栏和路程：服务圈内的招满数
任何方式都不会超过该上限。<span class="en">Note: {_esc(", ".join(over))} filled more slots
than the hindsight bound within the circle, because they are not held to the circle (they send
people further). Compare them on "in circle" fills and on travel: no policy can beat the
bound within the circle.</span></p>""" if over else "")
    reach_rows = "".join(
        f"<tr><td>{_label(n)}</td><td>{_reach(n)}</td></tr>" for n in results)
    text = f"""<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1">
<title>{_esc(day.market.name)} 派单方式对比 / dispatch policy comparison</title>
<style>{_CSS}</style></head><body>
<h1>{_esc(day.market.name)}：派单方式对比</h1>
<div class="en">{_esc(day.market.name_en)} — dispatch policies compared on one simulated market
day ({day.date_iso()}, seed {day.seed})</div>

<div class="card">
<p>同一天、同一批劳动者和岗位，用不同方式派工，比较谁招满的岗位多、路程短、对重点群体公平。
这是模拟：劳动者和岗位按下文所述的分布随机生成，接单与否按同一行为模型决定，
所以差别只来自派单方式本身。</p>
<p class="en">The same day, the same {len(W)} workers ({int(W.key_group.sum())} in key groups)
and {len(day.jobs)} jobs ({int(day.jobs.headcount.sum())} slots), dispatched four ways and
bounded twice in hindsight. Workers answer by one shared behaviour model, so differences
come from the policy alone, and the reach each policy models (below).</p>
</div>

<h2>各方式派多远 How far each policy may send a worker</h2>
<p>智能派单和就近派单按本市场规则，只派就业服务圈以内（路程不超过 {circle_min:.0f} 分钟）的岗位。
群里抢单和每日抽签模拟的是没有服务圈的做法：微信群（以及 Instawork 一类的应用）把岗位发给所有人，
由本人决定去不去；美国的劳务中心按抽签顺序派人，岗位在哪就去哪。所以这两种方式可以派到全镇任何地方，
但仍要求技能、证书、工资、能在开工前（加宽限 {rules.arrival_grace_minutes:g} 分钟）赶到、
时间不冲突；
路远的岗位接的人少，这由同一个接单模型决定。
<span class="en">gigmarket and greedy keep to this market's rules: only jobs inside the service
circle ({circle_min:.0f} minutes' travel). First-come claim and the lottery model practices
without a circle: a WeChat group (or an Instawork-style app) broadcasts every job to everyone
and the worker decides; a US worker-centre lottery sends the drawn worker wherever the job is.
So they may send people anywhere in town, still only with the skills, certificate and wage,
able to arrive by the start (plus {rules.arrival_grace_minutes:g} minutes' grace) and free at
those hours; far jobs are taken less often by the same acceptance model.</span></p>
<table><tr><th>方式 Policy</th><th>派单范围 Reach</th></tr>{reach_rows}</table>

<h2>结论 Targets</h2>
<table><tr><th>指标 Measure</th><th>结果 Value</th><th>目标 Target</th><th></th>
<th>其他方式同一指标 Others</th></tr>
{"".join(target_rows)}</table>

<p>读法：“事后最优”是知道全天每个人何时来、会不会接之后才算得出的上限，任何实时方式都做不到。
97% 目标的分母是服务圈内的事后最优（本市场规则下的上限）；不受服务圈限制的方式可能超过它，
这时请看“服务圈内招满”和路程。
<span class="en">How to read: the hindsight optimum knows every arrival and every answer in
advance, which no live policy can. The 97 % target's denominator is the bound within the
circle (this market's rules); policies without the circle may fill more than it, and are then
compared on fills within the circle and on travel.</span></p>
{over_html}

<h2>总表 Summary</h2>
<table><tr><th>方式 Policy</th><th>范围 Reach</th><th>招满 Filled</th><th>招满率 Fill</th>
<th>占服务圈内上限 vs bound</th><th>服务圈内招满 In circle</th>
<th>接单用时 中位 (分) TTF min</th><th>平均路程 (分) Travel</th><th>p90 路程</th>
<th>每单邀约 Offers/fill</th><th>接受率 % Accept</th><th>上岗率 重点/全体 Key/all</th>
<th>基尼 Gini</th><th>违规 Viol.</th></tr>
{"".join(rows_html)}</table>

<h2>招了多少人 How many slots were filled</h2>
{fill_chart}
{timeline}

<h2>路程 How far people travel</h2>
<p>路程按电动车 {rules.speed_kmh:g} 公里/小时、道路绕行 {rules.detour_factor:g} 倍估算；
智能派单、就近派单只派 {circle_min:.0f} 分钟以内的岗位（就业服务圈），抢单和抽签不受此限。
<span class="en">Travel is estimated at {rules.speed_kmh:g} km/h with roads
{rules.detour_factor:g}× the straight line; gigmarket and greedy keep to the {circle_min:.0f}-minute
service circle, first-come and the lottery do not.</span></p>
{travel_chart}

<h2>公平 Fairness</h2>
{fairness_table(results)}
{kg_chart}
{gini_chart}

<h2>速度 Speed</h2>
{ttf_chart}

<h2>各方式说明 The policies</h2>
<ul>
<li><b>{_esc(lab("gigmarket"))}</b>：每 {day.market.rules.batch_interval_s:g} 秒一轮，用最优化求解器
先招满尽量多的名额（先开工的先招），再兼顾路程、等候时长、重点群体、评分与守信；
逐人推送限时 {day.market.rules.offer_timeout_s:g} 秒的邀约。<span class="en">The server's own
rounds and timed offers.</span></li>
<li><b>{_esc(lab("greedy"))}</b>：岗位按发布先后，各自挑最近的人。<span class="en">Jobs in
posting order each take the nearest eligible workers.</span></li>
<li><b>{_esc(lab("first_come"))}</b>：岗位发到群里（全镇），谁先抢到归谁，不论远近；
不用智能手机的人往往看到得晚。<span class="en">Broadcast town-wide; the first worker to
claim wins, near or far (WeChat groups); workers without a smartphone see posts later.</span></li>
<li><b>{_esc(lab("lottery"))}</b>：早上 7:30 在场的人抽签排序，之后来的人排在后面，
岗位依次派给名单上的人，岗位在全镇哪里都派。<span class="en">A worker-centre list: lots at
07:30, later arrivals queue after; jobs anywhere in town.</span></li>
<li><b>{_esc(lab("hindsight"))}</b>：事后知道全天所有人、所有岗位和每个人会不会接，在服务圈内算出的
最多能招满的名额（再求路程最短）。守服务圈的实时方式都不可能超过它；任何方式的“服务圈内招满”也不会超过它。
<span class="en">Offline, knowing the whole day including every answer, within the circle: no
live policy held to the circle can beat it, and no policy's fills within the circle can.</span></li>
<li><b>{_esc(lab("hindsight_town"))}</b>：同上，但不限服务圈：抢单和抽签的上限。
<span class="en">The same without the circle: the bound for first-come and the lottery.</span></li>
</ul>

<h2>指标说明 What the figures mean</h2>
<ul>
<li>招满率：未被用工方取消的岗位名额中，最终有人接下的比例（爽约仍算招满，另计）。
<span class="en">Fill: share of slots (of jobs not cancelled) holding a kept assignment.</span></li>
<li>上岗率：当天签到的人里得到工作的比例。<span class="en">Placement: share of checked-in
workers who got work.</span></li>
<li>基尼系数：所有签到者当天收入的不均衡程度，0 表示人人相同。
<span class="en">Gini of the day's earnings over every worker who checked in.</span></li>
<li>违规：独立审计程序逐条回放事件记录，检查是否超招、一人同时两份工作、一人同时两个待答邀约、
超时后仍接受等；必须为 0。<span class="en">Invariant violations found by an independent replay
of the event log; must be 0.</span></li>
</ul>

<h2>模拟假设 Assumptions</h2>
<ul>
<li>劳动者 {len(W)} 人：62% 在早高峰（约 7:00 前后）到达，其余上午到下午陆续到达；35% 为 50 岁以上，
15% 为重点群体；年长者多在自助服务机签到。<span class="en">Workers: morning peak around 07:00,
35 % aged 50+, 15 % key groups; older workers mostly use the kiosks.</span></li>
<li>岗位：1–10 人，上午集中发布；65% 为即时用工（15–90 分钟内开工）；3% 被用工方取消。
<span class="en">Jobs: 1–10 workers, mostly posted in the morning; 65 % start within 90 minutes;
3 % cancelled.</span></li>
<li>接单概率随路程增加而下降、随工资高出本人最低要求而上升；所有方式用同一模型、同一组随机数。
<span class="en">Acceptance falls with travel and rises with pay; one model and one set of random
draws for every policy.</span></li>
<li>每人每天最多接一份工作。<span class="en">At most one job per worker per day.</span></li>
<li>抢单：先看到、先抢的人得到岗位，与远近无关；用手机的人看到群消息的时间中位数约 1 分钟，
不用智能手机的人约 5 分钟；看到时已来不及在开工前赶到的人不再抢。
<span class="en">Claims: whoever sees a post first and claims wins, near or far; a median of
about 1 minute to notice on a phone, about 5 minutes without a smartphone; a worker who sees it
too late to arrive by the start lets it go.</span></li>
</ul>
<p class="en">Full statements of every distribution and its reason: the docstrings of
<code>gigmarket/simulate/day.py</code> and <code>gigmarket/simulate/behaviour.py</code>.
Policies run: {", ".join(names)}.</p>
</body></html>
"""
    return _CJK_WRAP.sub("", text)


#: The figures the issue's targets read, one row per day and policy.
_ACROSS: _Columns = (
    ("filled", ">6", lambda m, h: str(m.filled)),
    ("in circle", ">9", lambda m, h: str(m.filled_in_circle)),
    ("travel", ">6", lambda m, h: _fmt(m.mean_travel_min, ".1f")),
    ("ttf min", ">7", lambda m, h: _fmt(m.median_time_to_fill_min, ".1f")),
    *_FAIRNESS,
    ("viol", ">4", lambda m, h: str(m.violations)),
)


def fairness_table(results: dict[str, PolicyMetrics]) -> str:
    """Issue 14's fairness figures as an HTML table, one row per policy."""
    heads = {
        "paid%": "有收入者占比 % Paid", "Gini paid": "有收入者基尼 Gini among paid",
        "offered%": "收到邀约 % Offered", "wait1 med": "首个邀约等候 中位 (分) Wait median",
        "wait1 p90": "首个邀约等候 p90 (分)", "noon%": "中午前上岗 % By noon",
        "key grp": "重点群体上岗 % Key", "all": "全体上岗 % All", "kg-all": "差 Key − all",
    }
    head = "".join(f"<th>{_esc(heads.get(title, title))}</th>" for title, _, _ in _FAIRNESS)
    rows = "".join(
        f"<tr><td>{_label(name)}</td>"
        + "".join(f"<td>{_esc(fn(m, None))}</td>" for _, _, fn in _FAIRNESS) + "</tr>"
        for name, m in results.items())
    return f"<table><tr><th>方式 Policy</th>{head}</tr>{rows}</table>"


def across_days(days: Sequence[tuple[Day, dict[str, PolicyMetrics], Any]]) -> str:
    """Every day and policy in one table, the day type prefixed to the policy's name."""
    rows = {f"{day.kind}/{name}": m for day, results, _ in days for name, m in results.items()}
    return "\n".join(["Across days:", *_grid(rows, _ACROSS)])
