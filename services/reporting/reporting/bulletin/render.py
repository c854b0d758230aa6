"""The bulletin as a PDF (fpdf2) and as HTML (Jinja2), from the same :class:`Bulletin`.

fpdf2 is a pure-Python PDF writer: no browser, no Cairo/Pango stack to install on a
fresh machine, TrueType fonts embedded as subsets (so Chinese text prints and is
extractable), and no hidden timestamp once the creation date is fixed — the same
month's data gives the same bytes. Text is set in DejaVu Sans with Debian's
``fonts-droid-fallback`` as the fallback for Chinese glyphs (a 4 MB TrueType CJK
face; the Noto CJK collections are 90 MB OpenType collections fpdf2 cannot
subset), both installed by ``make install``.
"""

from __future__ import annotations

import base64
import io
from datetime import UTC, datetime, time
from typing import Any

from fpdf import FPDF
from fpdf.fonts import FontFace
from jinja2 import Environment, select_autoescape

from reporting.bulletin.charts import all_charts
from reporting.bulletin.figures import Bulletin, days_overdue, month_title, percent, sentences

LEVELS = {"notice": "通报", "interview": "约谈", "accountability": "问责"}
FONT, CJK = "text", "cjk"


def _title(b: Bulletin) -> str:
    return f"{b.region_name}创建国家卫生城市工作{month_title(b.month)}通报"


def _league_rows(b: Bulletin) -> list[list[str]]:
    rows = []
    for r in b.league:
        rows.append(
            [
                str(r["rank"]) if r["ranked"] else "—",
                r["unit_name"],
                str(r["due"]),
                str(r["closed"]),
                percent(r["on_time_rate"]),
                f"{r['score']:.1f}" if r["score"] is not None else "—",
                r["grade"] or "—",
            ]
        )
    return rows


def _overdue_rows(b: Bulletin) -> list[list[str]]:
    return [
        [
            r["unit_name"] or "（未派遣）",
            r["sample_point_name"] or "—",
            r["description"],
            days_overdue(r["hours_overdue"]),
        ]
        for r in b.overdue
    ]


def _blind_rows(b: Bulletin) -> list[list[str]]:
    return [
        [
            p["code"],
            p["name"],
            p["last_inspected_at"].astimezone(UTC).strftime("%Y-%m-%d")
            if p["last_inspected_at"]
            else "从未检查",
            f"{p['days_overdue']:.1f}" if p["days_overdue"] is not None else "—",
        ]
        for p in b.blind_spots
    ]


def _list_rows(rows: list[dict[str, Any]]) -> list[list[str]]:
    return [[r["unit_name"], percent(r["on_time_rate"]), r["grade"] or "—"] for r in rows]


def _notice_rows(b: Bulletin) -> list[list[str]]:
    return [[LEVELS.get(n["level"], n["level"]), n["unit_name"], n["reason"]] for n in b.notices]


def sections(b: Bulletin) -> list[tuple[str, list[str], list[list[str]], tuple[int, ...]]]:
    """(heading, column headings, rows, relative widths) of every table, in order."""
    return [
        ("一、责任单位排名", ["名次", "责任单位", "应结案", "结案", "按期结案率", "得分", "等级"],
         _league_rows(b), (8, 40, 12, 10, 26, 10, 9)),
        ("二、黑榜", ["责任单位", "按期结案率", "等级"], _list_rows(b.black), (50, 35, 15)),
        ("三、红榜", ["责任单位", "按期结案率", "等级"], _list_rows(b.red), (50, 35, 15)),
        ("四、本月问责", ["级别", "责任单位", "事由"], _notice_rows(b), (12, 30, 70)),
        ("五、超期未处置问题", ["责任单位", "样本点", "问题", "超期天数"], _overdue_rows(b),
         (28, 28, 50, 14)),
        ("六、检查盲点", ["编码", "样本点", "最近检查", "逾期天数"], _blind_rows(b),
         (22, 48, 22, 16)),
    ]  # fmt: skip


def pdf(b: Bulletin, fonts: tuple[str, str]) -> bytes:
    """The printable bulletin, A4, Chinese text in the embedded font."""
    document = FPDF(orientation="P", unit="mm", format="A4")
    # A fixed creation date (the issue date) instead of "now": the same data, the same bytes.
    document.set_creation_date(datetime.combine(b.issued_on, time(), tzinfo=UTC))
    document.set_title(_title(b))
    document.set_author(b.issuer)
    # The text font for Latin letters and digits; Chinese glyphs come from its fallback.
    latin, cjk = fonts
    document.add_font(FONT, "", latin)
    document.add_font(CJK, "", cjk)
    document.set_fallback_fonts([CJK])
    document.set_auto_page_break(auto=True, margin=15)
    document.add_page()
    width = document.epw

    document.set_font(FONT, size=18)
    document.multi_cell(width, 10, _title(b), align="C", new_x="LMARGIN", new_y="NEXT")
    document.set_font(FONT, size=10)
    status = "（截至发布日，月度未结束）" if b.provisional else ""
    document.multi_cell(
        width, 6, f"{b.issuer}　{b.issued_on:%Y年%m月%d日}{status}", align="C",
        new_x="LMARGIN", new_y="NEXT",
    )  # fmt: skip
    document.ln(4)
    document.set_font(FONT, size=11)
    for line in sentences(b):
        document.multi_cell(width, 6.5, f"　　{line}", new_x="LMARGIN", new_y="NEXT")
    document.ln(2)

    charts = all_charts(b, fonts)
    for heading, columns, rows, widths in sections(b):
        document.set_font(FONT, size=13)
        document.multi_cell(width, 9, heading, new_x="LMARGIN", new_y="NEXT")
        document.set_font(FONT, size=9)
        if not rows:
            document.multi_cell(width, 6, "无。", new_x="LMARGIN", new_y="NEXT")
            continue
        with document.table(
            col_widths=widths,
            headings_style=FontFace(fill_color=(225, 232, 240)),
            line_height=5.5,
            text_align="LEFT",
        ) as table:
            table.row(columns)
            for row in rows:
                table.row(row)
        document.ln(2)
        if heading.startswith("一"):
            document.image(io.BytesIO(charts["on_time"]), w=width)
    document.set_font(FONT, size=13)
    document.multi_cell(width, 9, "七、趋势与分布", new_x="LMARGIN", new_y="NEXT")
    document.image(io.BytesIO(charts["weekly"]), w=width)
    document.image(io.BytesIO(charts["map"]), w=width)
    return bytes(document.output())


_HTML = Environment(autoescape=select_autoescape(default=True)).from_string(
    """<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>{{ title }}</title>
<style>
body{font-family:"Droid Sans Fallback","Noto Sans CJK SC",sans-serif;max-width:900px;margin:2em auto;color:#222}
h1{text-align:center;font-size:1.6em}.meta{text-align:center;color:#555}
table{border-collapse:collapse;width:100%;margin:.5em 0 1.5em}
th,td{border:1px solid #bbb;padding:.25em .5em;font-size:.9em}th{background:#e1e8f0}
img{max-width:100%}@media print{body{margin:0}}
</style></head><body>
<h1>{{ title }}</h1>
<p class="meta">{{ issuer }}　{{ issued_on }}{% if provisional %}（截至发布日，月度未结束）{% endif %}</p>
{% for line in sentences %}<p>{{ line }}</p>{% endfor %}
{% for heading, columns, rows, widths in sections %}
<h2>{{ heading }}</h2>
{% if rows %}<table><thead><tr>{% for c in columns %}<th>{{ c }}</th>{% endfor %}</tr></thead>
<tbody>{% for row in rows %}<tr>{% for cell in row %}<td>{{ cell }}</td>{% endfor %}</tr>{% endfor %}</tbody></table>
{% else %}<p>无。</p>{% endif %}
{% if loop.first %}<img alt="各责任单位按期结案率" src="data:image/png;base64,{{ charts.on_time }}">{% endif %}
{% endfor %}
<h2>七、趋势与分布</h2>
<img alt="每周发现与办结问题数" src="data:image/png;base64,{{ charts.weekly }}">
<img alt="检查盲点与未办结问题分布" src="data:image/png;base64,{{ charts.map }}">
</body></html>
"""
)


def html(b: Bulletin, fonts: tuple[str, str]) -> str:
    """The same bulletin as one self-contained HTML page (charts inline)."""
    charts = {k: base64.b64encode(v).decode() for k, v in all_charts(b, fonts).items()}
    return _HTML.render(
        title=_title(b),
        issuer=b.issuer,
        issued_on=f"{b.issued_on:%Y年%m月%d日}",
        provisional=b.provisional,
        sentences=sentences(b),
        sections=sections(b),
        charts=charts,
    )
