"""The country page's chart: incidents per month as stacked bars, drawn on the server as inline SVG."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest

from civicwatch.errors import UsageError
from civicwatch.publish.charts import EMPTY_TEXT, OTHER_COLOUR, PALETTE, stacked_bars

SVG = "{http://www.w3.org/2000/svg}"
TYPES = ["detention", "prosecution", "harassment", "censorship"]
SERIES = {
    "2025-11": {"detention": 3, "prosecution": 1},
    "2026-01": {"detention": 2, "censorship": 1},
    "2026-03": {"censorship": 4},
}


def bars(svg: str) -> list[ET.Element]:
    """The bar segments of a chart (parsing also proves it is well-formed XML)."""
    group = ET.fromstring(svg).find(f"{SVG}g[@class='bars']")
    assert group is not None
    return list(group.iter(f"{SVG}rect"))


def tooltips(svg: str) -> list[str]:
    return [bar.findtext(f"{SVG}title") or "" for bar in bars(svg)]


def legend(svg: str) -> list[str]:
    group = ET.fromstring(svg).find(f"{SVG}g[@class='legend']")
    assert group is not None
    return [text.text or "" for text in group.iter(f"{SVG}text")]


def test_one_segment_per_month_and_category_with_a_tooltip_and_heights_proportional_to_counts() -> None:
    svg = stacked_bars(SERIES, title="Incidents by type", order=TYPES)

    assert tooltips(svg) == [
        "2025-11 · detention: 3", "2025-11 · prosecution: 1",
        "2026-01 · detention: 2", "2026-01 · censorship: 1",
        "2026-03 · censorship: 4",
    ]
    counts = [3, 1, 2, 1, 4]
    per_incident = [float(bar.get("height", "")) / n for bar, n in zip(bars(svg), counts, strict=True)]
    assert per_incident == pytest.approx([per_incident[0]] * len(counts), abs=0.01)


def bottom(bar: ET.Element) -> float:
    return float(bar.get("y", "")) + float(bar.get("height", ""))


def test_segments_stack_from_the_baseline_in_the_given_order() -> None:
    drawn = bars(stacked_bars(SERIES, title="t", order=TYPES))
    detention, prosecution = drawn[:2]  # November's

    assert bottom(detention) == pytest.approx(max(bottom(bar) for bar in drawn))  # on the baseline
    assert bottom(prosecution) == pytest.approx(float(detention.get("y", "")))  # right on top of it
    swapped = bars(stacked_bars(SERIES, title="t", order=["prosecution", "detention"]))
    assert swapped[0].findtext(f"{SVG}title") == "2025-11 · prosecution: 1"


def test_months_without_incidents_leave_gaps_on_a_continuous_axis() -> None:
    svg = stacked_bars(SERIES, title="t", order=TYPES)

    x = {bar.findtext(f"{SVG}title", "")[:7]: float(bar.get("x", "")) for bar in bars(svg)}
    assert x["2026-01"] - x["2025-11"] == pytest.approx(x["2026-03"] - x["2026-01"])  # two slots each
    axis = ET.fromstring(svg).find(f"{SVG}g[@class='x-axis']")
    assert axis is not None
    months = ["2025-11", "2025-12", "2026-01", "2026-02", "2026-03"]
    assert [t.text for t in axis.iter(f"{SVG}text")] == months


def test_each_category_keeps_one_colour_shown_in_the_legend() -> None:
    svg = stacked_bars(SERIES, title="t", order=TYPES, labels={"censorship": "Censorship"})

    colours = {bar.findtext(f"{SVG}title", "").split(" · ")[1].split(":")[0]: bar.get("fill")
               for bar in bars(svg)}
    assert colours == {"detention": PALETTE[0], "prosecution": PALETTE[1], "Censorship": PALETTE[2]}
    assert legend(svg) == ["detention", "prosecution", "Censorship"]  # harassment has no incidents here


def test_the_y_axis_has_a_few_whole_number_ticks_reaching_the_tallest_bar() -> None:
    svg = stacked_bars({"2026-01": {"detention": 17}, "2026-02": {"censorship": 3}}, title="t", order=TYPES)

    axis = ET.fromstring(svg).find(f"{SVG}g[@class='y-axis']")
    assert axis is not None
    assert [t.text for t in axis.iter(f"{SVG}text")] == ["0", "5", "10", "15", "20"]


def test_it_is_accessible_and_safe_under_a_strict_content_security_policy() -> None:
    svg = stacked_bars(SERIES, title="Incidents in Kazakhstan by type", order=TYPES,
                       note="Incidents dated only to a year are not shown.")
    root = ET.fromstring(svg)

    assert root.get("role") == "img"
    title_id, desc_id = (root.get("aria-labelledby") or "").split()
    assert root.findtext(f"{SVG}title[@id='{title_id}']") == "Incidents in Kazakhstan by type"
    desc = root.findtext(f"{SVG}desc[@id='{desc_id}']") or ""
    assert desc.startswith("Incidents per month, 2025-11 to 2026-03, 11 counted: detention 5")
    assert desc.endswith("Incidents dated only to a year are not shown.")
    every = list(root.iter())
    assert not any(e.get("style") for e in every)
    tags = {e.tag.removeprefix(SVG) for e in every}
    assert tags <= {"svg", "title", "desc", "g", "line", "rect", "text"}  # no script, image, use, link...
    assert not any(name.startswith("on") or "href" in name for e in every for name in e.attrib)
    assert "url(" not in svg and "http://" not in svg.replace('xmlns="http://www.w3.org/2000/svg"', "")


def test_hostile_category_names_and_titles_are_escaped() -> None:
    hostile = '<script>x</script>&\x01"'
    svg = stacked_bars({"2026-03": {hostile: 2}}, title="</title><script>alert(1)</script>", order=[])

    root = ET.fromstring(svg)  # still well-formed: the control character is dropped
    assert "<script" not in svg
    assert root.findtext(f"{SVG}title") == "</title><script>alert(1)</script>"
    assert tooltips(svg) == ['2026-03 · <script>x</script>&": 2']
    assert legend(svg) == ['<script>x</script>&"']


def test_one_month_draws_one_bar_of_modest_width() -> None:
    svg = stacked_bars({"2026-03": {"detention": 4}}, title="t", order=TYPES)

    (bar,) = bars(svg)
    assert float(bar.get("width", "")) <= 48
    axis = ET.fromstring(svg).find(f"{SVG}g[@class='x-axis']")
    assert axis is not None
    assert [t.text for t in axis.iter(f"{SVG}text")] == ["2026-03"]


def test_ten_years_of_months_fit_with_year_labels() -> None:
    series = {f"{year}-{month:02d}": {"detention": 1 + (year + month) % 4, "censorship": month % 3}
              for year in range(2016, 2026) for month in range(1, 13)}
    svg = stacked_bars(series, title="t", order=TYPES)

    drawn = bars(svg)
    assert len(drawn) == sum(len([v for v in by.values() if v]) for by in series.values())
    assert all(float(b.get("x", "")) > 0 and float(b.get("x", "")) + float(b.get("width", "")) <= 640
               for b in drawn)
    axis = ET.fromstring(svg).find(f"{SVG}g[@class='x-axis']")
    assert axis is not None
    assert [t.text for t in axis.iter(f"{SVG}text")] == [str(year) for year in range(2016, 2026)]


def test_more_categories_than_colours_fold_the_smallest_into_other() -> None:
    many = [f"type{n:02d}" for n in range(12)]
    svg = stacked_bars({"2026-03": {t: 20 - n for n, t in enumerate(many)}}, title="t", order=many)

    assert legend(svg) == many[:8] + ["other"]
    assert tooltips(svg)[-1] == "2026-03 · other: " + str(sum(20 - n for n in range(8, 12)))
    assert {b.get("fill") for b in bars(svg)} == set(PALETTE[:8]) | {OTHER_COLOUR}


def test_no_counts_give_a_small_chart_saying_so() -> None:
    for empty in ({}, {"2026-03": {"detention": 0}}):
        svg = stacked_bars(empty, title="Incidents by type", order=TYPES)
        root = ET.fromstring(svg)
        assert root.get("role") == "img"
        assert [t.text for t in root.iter(f"{SVG}text")] == [EMPTY_TEXT]
        assert not list(root.iter(f"{SVG}rect"))


def test_the_same_data_gives_the_same_bytes() -> None:
    reordered = dict(reversed(list(SERIES.items())))
    assert stacked_bars(SERIES, title="t", order=TYPES) == stacked_bars(reordered, title="t", order=TYPES)
    assert not re.search(r"\d\.\d{3}", stacked_bars(SERIES, title="t", order=TYPES, width=611))


@pytest.mark.parametrize(("series", "named"), [
    ({"March 2026": {"detention": 1}}, "March 2026"),
    ({"2026-13": {"detention": 1}}, "2026-13"),
    ({"2026-03": {"detention": -1}}, "2026-03 detention=-1"),
])
def test_malformed_data_is_refused_naming_it(series: dict[str, dict[str, int]], named: str) -> None:
    with pytest.raises(UsageError) as refused:
        stacked_bars(series, title="t", order=TYPES)
    assert refused.value.input == named
