"""The bulletin's charts, drawn with matplotlib into PNG bytes.

matplotlib is the plotting library the Python ecosystem trusts for print; it runs
headless (the Agg canvas, no pyplot state, so threads do not share figures) and,
with its PNG metadata stripped, the same figures give the same bytes. Chinese
labels use the bulletin's fonts (``REPORTING_BULLETIN_FONT`` with
``REPORTING_BULLETIN_CJK_FONT`` as the fallback for Chinese glyphs).
"""

from __future__ import annotations

import io
from functools import lru_cache

from matplotlib import font_manager
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties

from reporting.bulletin.figures import Bulletin, week_label

DPI = 150
_GREY, _BLUE, _GREEN, _RED, _ORANGE = "#9aa5b1", "#1f5fa8", "#2e8b57", "#c0392b", "#e67e22"


@lru_cache(maxsize=4)
def _font(fonts: tuple[str, str]) -> FontProperties:
    """The text font first, the CJK font as matplotlib's per-glyph fallback."""
    names = []
    for path in fonts:
        font_manager.fontManager.addfont(path)
        names.append(font_manager.FontProperties(fname=path).get_name())
    return FontProperties(family=names)


def _png(figure: Figure) -> bytes:
    FigureCanvasAgg(figure)
    out = io.BytesIO()
    # No "Software" stamp and a fixed DPI: the same figures give the same bytes.
    figure.savefig(out, format="png", dpi=DPI, metadata={"Software": None})
    return out.getvalue()


def _style(axes, font: FontProperties, title: str) -> None:
    axes.set_title(title, fontproperties=font, fontsize=11)
    for side in ("top", "right"):
        axes.spines[side].set_visible(False)
    for label in (*axes.get_xticklabels(), *axes.get_yticklabels()):
        label.set_fontproperties(font)
        label.set_fontsize(7)


def on_time_by_unit(b: Bulletin, fonts: tuple[str, str]) -> bytes:
    """Horizontal bars: each unit with due cases, its on-time rate, black-list line."""
    font = _font(fonts)
    rows = [r for r in b.league if r["due"] > 0 and r["on_time_rate"]["value"] is not None]
    rows = sorted(rows, key=lambda r: (r["on_time_rate"]["value"], r["unit_name"]))[-20:]
    figure = Figure(figsize=(7.0, max(1.6, 0.28 * len(rows) + 0.9)))
    axes = figure.add_subplot()
    names = [r["unit_name"] for r in rows]
    values = [r["on_time_rate"]["value"] * 100 for r in rows]
    black = {r["unit_id"] for r in b.black}
    colours = [_RED if r["unit_id"] in black else _BLUE for r in rows]
    axes.barh(range(len(rows)), values, color=colours)
    axes.set_yticks(range(len(rows)), names)
    axes.set_xlim(0, 100)
    axes.axvline(80, color=_GREY, linestyle="--", linewidth=0.8)
    _style(axes, font, "各责任单位按期结案率（%）")
    if not rows:
        axes.text(50, 0, "本月无应结案件", ha="center", fontproperties=font)
    figure.tight_layout()
    return _png(figure)


def weekly_trend(b: Bulletin, fonts: tuple[str, str]) -> bytes:
    """Cases reported and closed per week of the month."""
    font = _font(fonts)
    figure = Figure(figsize=(7.0, 2.6))
    axes = figure.add_subplot()
    labels = [week_label(w["week_start"]) for w in b.weekly]
    x = range(len(labels))
    axes.plot(x, [w["cases_reported"] for w in b.weekly], marker="o", color=_ORANGE, label="发现")
    axes.plot(x, [w["cases_closed"] for w in b.weekly], marker="s", color=_GREEN, label="办结")
    axes.set_xticks(list(x), [f"{label}起" for label in labels])
    legend = axes.legend(prop=font, fontsize=8, frameon=False)
    for text in legend.get_texts():
        text.set_fontsize(8)
    _style(axes, font, "每周发现与办结问题数")
    figure.tight_layout()
    return _png(figure)


def blind_spot_map(b: Bulletin, fonts: tuple[str, str]) -> bytes:
    """Every active point (grey), blind spots (red) and open cases (orange) by position."""
    font = _font(fonts)
    figure = Figure(figsize=(7.0, 4.6))
    axes = figure.add_subplot()
    seen = [(lat, lon) for lat, lon, blind in b.points if not blind]
    blind = [(lat, lon) for lat, lon, blind in b.points if blind]
    if seen:
        axes.scatter([p[1] for p in seen], [p[0] for p in seen], s=8, c=_GREY, label="样本点")
    if blind:
        axes.scatter([p[1] for p in blind], [p[0] for p in blind], s=18, c=_RED, marker="x",
                     label="检查盲点")  # fmt: skip
    if b.open_cases:
        axes.scatter([c[1] for c in b.open_cases], [c[0] for c in b.open_cases], s=14,
                     facecolors="none", edgecolors=_ORANGE, label="未办结问题")  # fmt: skip
    axes.set_aspect("equal", adjustable="datalim")
    axes.set_xlabel("经度", fontproperties=font, fontsize=8)
    axes.set_ylabel("纬度", fontproperties=font, fontsize=8)
    if seen or blind or b.open_cases:
        axes.legend(prop=font, fontsize=8, loc="best", frameon=False)
    _style(axes, font, "检查盲点与未办结问题分布")
    figure.tight_layout()
    return _png(figure)


def all_charts(b: Bulletin, fonts: tuple[str, str]) -> dict[str, bytes]:
    return {
        "on_time": on_time_by_unit(b, fonts),
        "weekly": weekly_trend(b, fonts),
        "map": blind_spot_map(b, fonts),
    }
