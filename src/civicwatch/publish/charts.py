"""Charts drawn on the server as inline SVG: no JavaScript, no fonts or images to fetch.

``stacked_bars`` draws counts per month (``civicwatch.store.timeline.monthly_counts``) as one stacked
bar per month. The SVG is meant to be pasted into a page as it is:

- accessible: ``role="img"`` labelled by its ``<title>`` and ``<desc>`` (a sentence summing up the data),
  and every bar segment has a ``<title>`` tooltip ("2026-03 · detention: 4");
- safe under a strict Content-Security-Policy: colours and fonts are presentation attributes
  (``fill="..."``), never ``style`` attributes; no scripts, no links, no external references; every
  piece of text is escaped;
- deterministic: the same data gives the same bytes (numbers are rounded to two decimals).

Colours come from Paul Tol's "muted" scheme, designed to stay distinguishable with the common forms of
colour blindness. It has nine colours, so a chart shows at most nine categories: with more, the eight
with the most incidents keep their colour and the rest are drawn together, in grey, as "other".
"""

from __future__ import annotations

import functools
import hashlib
import math
import re
from collections.abc import Mapping, Sequence
from html import escape

from civicwatch.errors import UsageError

PALETTE: tuple[str, ...] = (
    # Paul Tol's "muted" qualitative scheme (https://personal.sron.nl/~pault/), in his order.
    "#CC6677", "#332288", "#DDCC77", "#117733", "#88CCEE", "#882255", "#44AA99", "#999933", "#AA4499",
)
OTHER_COLOUR = "#DDDDDD"  # Tol's "pale grey", for categories folded together
OTHER = "\x00other"  # the folded categories' key: NUL is in no real category name (nor allowed in XML)
OTHER_LABEL = "other"
EMPTY_TEXT = "No dated incidents yet"

# Characters XML 1.0 does not allow at all: text holding one would make the page unparsable.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")
_MONTH = re.compile(r"(\d{4})-(0[1-9]|1[0-2])")
_FONT = 'font-family="system-ui, sans-serif"'
_TEXT_COLOUR = "#333333"
_GRID_COLOUR = "#E4E4E4"
_CHAR_WIDTH = 0.62  # average glyph width in ems, to estimate how wide a label is
_LABEL_STEPS = (1, 2, 3, 4, 6, 12, 24, 36, 60, 120, 240)  # months between axis labels, calendar-aligned
_LEGEND_CHARS = 28  # longer category names are shortened in the legend (never in tooltips)


def stacked_bars(
    series: Mapping[str, Mapping[str, int]],
    *,
    title: str,
    order: Sequence[str],
    width: int = 640,
    height: int = 220,
    labels: Mapping[str, str] | None = None,
    note: str | None = None,
) -> str:
    """An inline SVG stacked bar chart of counts per month, ready to paste into an HTML page.

    ``series`` maps months (``YYYY-MM``) to ``{category: count}``; the month axis runs without gaps
    from the first month with a count to the last, months without one staying empty. Categories are
    stacked from the bottom in the order of ``order`` (say the codebook's), those not in it after them
    alphabetically; each has a colour of ``PALETTE`` and an entry in the legend (beyond nine categories,
    all but the eight largest are drawn together as "other"). ``labels`` gives
    readable names for category ids; ``note`` (for instance that year-only dates are left out) is
    shown under the chart and read out with its description. ``width`` and ``height`` are the
    drawing's size in pixels; it grows taller when a long legend needs the room, and scales with CSS
    (``svg.chart { width: 100%; height: auto }``) thanks to its viewBox. The ids its ARIA labels point
    at come from ``title``: two charts on one page need different titles.

    With no counts at all, the SVG only says "No dated incidents yet". Raises ``UsageError``
    naming a month that is not ``YYYY-MM`` or a negative count.

    >>> svg = stacked_bars({"2026-03": {"detention": 4}}, title="Incidents by type", order=["detention"])
    >>> "<title>2026-03 · detention: 4</title>" in svg
    True
    """
    frozen = tuple((month, tuple(sorted(values.items()))) for month, values in series.items())
    return _stacked_bars(frozen, title, tuple(order), width, height,
                         tuple(sorted(labels.items())) if labels else (), note)


# A country page draws the same two charts until its counts change: drawing one is milliseconds of string
# work for ten years of months, remembering it a dictionary lookup.
@functools.lru_cache(maxsize=512)
def _stacked_bars(
    frozen: tuple[tuple[str, tuple[tuple[str, int], ...]], ...],
    title: str,
    order: tuple[str, ...],
    width: int,
    height: int,
    frozen_labels: tuple[tuple[str, str], ...],
    note: str | None,
) -> str:
    series = {month: dict(values) for month, values in frozen}
    labels = dict(frozen_labels) or None
    counts = _checked(series)
    names = {key: (labels or {}).get(key, key) for key in _categories(counts, order)}
    ident = "chart-" + hashlib.sha1(title.encode("utf-8")).hexdigest()[:8]
    if not counts:
        return _empty(title, ident, width, note)
    categories, counts = _fold(counts, order)
    names[OTHER] = OTHER_LABEL
    colours = {c: OTHER_COLOUR if c == OTHER else PALETTE[n] for n, c in enumerate(categories)}
    months = _month_range(min(counts), max(counts))

    legend, legend_height = _legend(categories, names, colours, width)
    note_height = 16 if note else 0
    left, right, top = 40, 10, 8
    plot_height = max(height - top - 22 - legend_height - note_height, 80)  # 22: the month labels
    total_height = top + plot_height + 22 + legend_height + note_height
    plot_width = width - left - right
    peak = max(sum(by_category.values()) for by_category in counts.values())
    step, axis_top = _ticks(peak)
    scale = plot_height / axis_top
    slot = plot_width / len(months)
    bar_width = min(slot * 0.8, 48.0)  # a gap between bars; a lone month is not a wall

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {total_height:g}" width="{width}" '
        f'height="{total_height:g}" role="img" aria-labelledby="{ident}-title {ident}-desc" '
        f'class="chart stacked-bars" {_FONT} font-size="11" fill="{_TEXT_COLOUR}">',
        f'<title id="{ident}-title">{_xml(title)}</title>',
        f'<desc id="{ident}-desc">{_xml(_description(counts, categories, names, note))}</desc>',
    ]
    out += _y_axis(step, axis_top, scale, left, top, plot_width, plot_height)
    out.append('<g class="bars">')
    for index, month in enumerate(months):
        x = left + index * slot + (slot - bar_width) / 2
        y = float(top + plot_height)
        for category in categories:
            value = counts.get(month, {}).get(category, 0)
            if not value:
                continue
            bar = value * scale
            y -= bar
            tip = f"{month} · {names[category]}: {value}"
            out.append(
                f'<rect x="{_n(x)}" y="{_n(y)}" width="{_n(bar_width)}" height="{_n(bar)}" '
                f'fill="{colours[category]}"><title>{_xml(tip)}</title></rect>'
            )
    out.append("</g>")
    out += _x_axis(months, left, top + plot_height, slot, plot_width)
    out.append(f'<g class="legend" transform="translate({left} {_n(top + plot_height + 22)})">')
    out += legend
    out.append("</g>")
    if note:
        baseline = _n(total_height - 4)
        out.append(f'<text class="note" x="{left}" y="{baseline}" font-size="10">{_xml(note)}</text>')
    out.append("</svg>")
    return "\n".join(out)


def _checked(series: Mapping[str, Mapping[str, int]]) -> dict[str, dict[str, int]]:
    """The series without zero counts or empty months; refuses malformed months and negative counts."""
    counts: dict[str, dict[str, int]] = {}
    for month, by_category in series.items():
        if not _MONTH.fullmatch(month):
            raise UsageError(month, "not a month (expected YYYY-MM)")
        kept = {}
        for category, value in by_category.items():
            if value < 0:
                raise UsageError(f"{month} {category}={value}", "a count cannot be negative")
            if value:
                kept[category] = int(value)
        if kept:
            counts[month] = kept
    return counts


def _categories(counts: Mapping[str, Mapping[str, int]], order: Sequence[str]) -> list[str]:
    """The categories with counts, in ``order`` first, the others after them alphabetically."""
    present = {category for by_category in counts.values() for category in by_category}
    known = [category for category in dict.fromkeys(order) if category in present]
    return known + sorted(present - set(known))


def _fold(
    counts: dict[str, dict[str, int]], order: Sequence[str]
) -> tuple[list[str], dict[str, dict[str, int]]]:
    """The categories to draw and the counts to draw them with: beyond the palette's size, the
    smallest categories are summed into ``OTHER``."""
    categories = _categories(counts, order)
    if len(categories) <= len(PALETTE):
        return categories, counts
    totals = {c: sum(by_category.get(c, 0) for by_category in counts.values()) for c in categories}
    rank = sorted(categories, key=lambda c: (-totals[c], categories.index(c)))
    kept = set(rank[: len(PALETTE) - 1])
    folded: dict[str, dict[str, int]] = {}
    for month, by_category in counts.items():
        shown = {c: v for c, v in by_category.items() if c in kept}
        rest = sum(v for c, v in by_category.items() if c not in kept)
        folded[month] = shown | ({OTHER: rest} if rest else {})
    return [c for c in categories if c in kept] + [OTHER], folded


def _month_range(first: str, last: str) -> list[str]:
    """Every month from ``first`` to ``last`` (``YYYY-MM``), both included."""
    year, month = int(first[:4]), int(first[5:])
    end = (int(last[:4]), int(last[5:]))
    months = []
    while (year, month) <= end:
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


def _ticks(peak: int) -> tuple[int, int]:
    """A whole-number tick step (1, 2 or 5 times a power of ten) giving at most five ticks, and the
    axis top: the first tick at or above ``peak``."""
    step = 1
    for power in range(0, 12):
        candidates = [m * 10**power for m in (1, 2, 5)]
        fitting = [c for c in candidates if math.ceil(peak / c) <= 5]
        if fitting:
            step = fitting[0]
            break
    return step, max(step, math.ceil(peak / step) * step)


def _y_axis(
    step: int, axis_top: int, scale: float, left: int, top: int, width: int, height: float
) -> list[str]:
    """Horizontal grid lines with their counts at the left, from zero to the axis top."""
    out = ['<g class="y-axis" text-anchor="end">']
    for value in range(0, axis_top + 1, step):
        y = top + height - value * scale
        colour = _TEXT_COLOUR if value == 0 else _GRID_COLOUR
        out.append(
            f'<line x1="{left}" x2="{left + width}" y1="{_n(y)}" y2="{_n(y)}" stroke="{colour}"/>'
            f'<text x="{left - 6}" y="{_n(y + 4)}">{value}</text>'
        )
    out.append("</g>")
    return out


def _x_axis(months: list[str], left: int, baseline: float, slot: float, width: int) -> list[str]:
    """Month labels under the bars, thinned to every 2, 3, 6, 12... months so they do not overlap.

    Labels sit on calendar boundaries (quarters, Januaries); from a year apart they show the year only.
    """
    label_width = 7 * 11 * _CHAR_WIDTH + 8  # "2026-03" and a little room
    every = next((s for s in _LABEL_STEPS if s * slot >= label_width), _LABEL_STEPS[-1])
    if every >= 12:
        label_width = 4 * 11 * _CHAR_WIDTH + 8
        every = next((s for s in _LABEL_STEPS if s >= 12 and s * slot >= label_width), _LABEL_STEPS[-1])
    # Months since year 0 let labels fall on calendar boundaries; a short span between them gets its first.
    labelled = [i for i, m in enumerate(months) if (int(m[:4]) * 12 + int(m[5:]) - 1) % every == 0] or [0]
    out = ['<g class="x-axis" text-anchor="middle">']
    for index in labelled:
        month = months[index]
        x = left + (index + 0.5) * slot
        text = month[:4] if every >= 12 else month
        # Keep edge labels inside the drawing.
        x = min(max(x, left + label_width / 2 - 4), left + width - label_width / 2 + 4)
        out.append(f'<text x="{_n(x)}" y="{_n(baseline + 15)}">{text}</text>')
    out.append("</g>")
    return out


def _legend(
    categories: list[str], names: Mapping[str, str], colours: Mapping[str, str], width: int
) -> tuple[list[str], int]:
    """Legend entries (a swatch and a name) flowing left to right in rows; and the rows' height."""
    out: list[str] = []
    x, row, usable = 0.0, 0, width - 50
    for category in categories:
        name = names[category]
        shown = name if len(name) <= _LEGEND_CHARS else name[: _LEGEND_CHARS - 1] + "…"
        entry = 16 + len(shown) * 11 * _CHAR_WIDTH + 14
        if x and x + entry > usable:
            x, row = 0.0, row + 1
        y = row * 18
        out.append(
            f'<rect x="{_n(x)}" y="{y}" width="11" height="11" fill="{colours[category]}"/>'
            f'<text x="{_n(x + 16)}" y="{y + 10}">{_xml(shown)}</text>'
        )
        x += entry
    return out, (row + 1) * 18 + 4


def _description(
    counts: Mapping[str, Mapping[str, int]], categories: list[str], names: Mapping[str, str], note: str | None
) -> str:
    """A sentence a screen reader reads instead of the picture: the span, the totals, the busiest month."""
    months = sorted(counts)
    totals = {c: sum(by_category.get(c, 0) for by_category in counts.values()) for c in categories}
    busiest = max(months, key=lambda m: (sum(counts[m].values()), m))
    span = months[0] if len(months) == 1 else f"{months[0]} to {months[-1]}"
    parts = ", ".join(f"{names[c]} {totals[c]}" for c in categories)
    text = (
        f"Incidents per month, {span}, {sum(totals.values())} counted: {parts}. "
        f"Most in {busiest} ({sum(counts[busiest].values())})."
    )
    return f"{text} {note}" if note else text


def _empty(title: str, ident: str, width: int, note: str | None) -> str:
    """The small SVG standing in for a chart with nothing to draw."""
    desc = f"{EMPTY_TEXT}. {note}" if note else f"{EMPTY_TEXT}."
    return "\n".join([
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} 40" width="{width}" height="40" '
        f'role="img" aria-labelledby="{ident}-title {ident}-desc" class="chart stacked-bars empty" {_FONT} '
        f'font-size="12" fill="{_TEXT_COLOUR}">',
        f'<title id="{ident}-title">{_xml(title)}</title>',
        f'<desc id="{ident}-desc">{_xml(desc)}</desc>',
        f'<text x="{width // 2}" y="24" text-anchor="middle">{EMPTY_TEXT}</text>',
        "</svg>",
    ])


def _xml(text: str) -> str:
    """``text`` safe inside an SVG element or a quoted attribute: markup escaped, XML-forbidden characters
    (control characters, lone surrogates) dropped."""
    return escape(_NOT_XML.sub("", text), quote=True)


def _n(value: float) -> str:
    """A coordinate with at most two decimals and no trailing zeros: stable, short output."""
    return f"{value:.2f}".rstrip("0").rstrip(".")


def score_line(
    points: Sequence[tuple[str, int]],
    *,
    title: str,
    bands: Mapping[str, tuple[int, str]],
    width: int = 640,
    height: int = 200,
) -> str:
    """An inline SVG line of a score (0-100) per month over the category bands it crosses.

    ``points`` are ``(YYYY-MM, score)`` oldest first; ``bands`` maps each category to its lowest score
    and its colour (drawn as pale stripes behind the line, labelled on the right). With no points, the
    SVG only says so.
    """
    ident = "chart-" + hashlib.sha1(title.encode("utf-8")).hexdigest()[:8]
    if not points:
        return _empty(title, ident, width, None)
    left, right, top, bottom = 34, 84, 8, 22
    plot_w, plot_h = width - left - right, height - top - bottom
    step = plot_w / max(len(points) - 1, 1)

    def y(score: float) -> float:
        return top + plot_h * (1 - score / 100)

    first, last = points[0], points[-1]
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'role="img" aria-labelledby="{ident}-title {ident}-desc" class="chart score-line" {_FONT} '
        f'font-size="11" fill="{_TEXT_COLOUR}">',
        f'<title id="{ident}-title">{_xml(title)}</title>',
        f'<desc id="{ident}-desc">{_xml(f"Score {first[1]} in {first[0]}, {last[1]} in {last[0]}.")}</desc>',
    ]
    ordered = sorted(bands.items(), key=lambda item: item[1][0])
    for n, (category, (low, colour)) in enumerate(ordered):
        high = ordered[n + 1][1][0] if n + 1 < len(ordered) else 101
        band_top, band_bottom = y(high - 0.5), y(low - 0.5)
        out.append(f'<rect x="{left}" y="{_n(band_top)}" width="{_n(plot_w)}" height="{_n(band_bottom - band_top)}" '
                   f'fill="{colour}" fill-opacity="0.18"/>')
        out.append(f'<text x="{_n(left + plot_w + 6)}" y="{_n((y(low - 0.5) + y(high - 0.5)) / 2 + 4)}">'
                   f'{_xml(category)}</text>')
    for tick in (0, 20, 40, 60, 80, 100):
        out.append(f'<text x="{left - 6}" y="{_n(y(tick) + 4)}" text-anchor="end">{tick}</text>')
    line = " ".join(f"{_n(left + i * step)},{_n(y(score))}" for i, (_, score) in enumerate(points))
    out.append(f'<polyline points="{line}" fill="none" stroke="{_TEXT_COLOUR}" stroke-width="2"/>')
    for i, (month, score) in enumerate(points):
        out.append(f'<circle cx="{_n(left + i * step)}" cy="{_n(y(score))}" r="2.5" fill="{_TEXT_COLOUR}">'
                   f'<title>{_xml(f"{month}: {score}")}</title></circle>')
    out.append(f'<text x="{left}" y="{height - 6}">{_xml(first[0])}</text>')
    out.append(f'<text x="{_n(left + plot_w)}" y="{height - 6}" text-anchor="end">{_xml(last[0])}</text>')
    out.append("</svg>")
    return "\n".join(out)
