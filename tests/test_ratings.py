"""Ratings: the method on scenarios a monitor knows, ratings files, the run over the database, the site.

The method is plain functions (``civicwatch.rate.method``); the run and the pages use real SQLite and
PostgreSQL databases and the real coder's incidents.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from pathlib import Path

import httpx
import lxml.html
import pytest

from civicwatch.errors import UsageError
from civicwatch.rate.files import BaseRating, read_ratings_file
from civicwatch.rate.method import RatingEvent, category_of, load_weights, rate
from civicwatch.rate.run import rate_countries
from civicwatch.store import Store, audit, ratings
from civicwatch.store.users import add_user
from support.server import LiveSite, add_reports

W = load_weights()
AS_OF = date(2026, 6, 30)


def detentions_of_journalists(count: int, *, start: date, every_days: int = 7) -> list[RatingEvent]:
    return [RatingEvent(f"incident:{n}", "UZ", ("detention",), ("journalist",), 1,
                        (start + timedelta(days=n * every_days)).isoformat(), "journalist detained")
            for n in range(count)]


def test_the_bands_are_the_published_ones() -> None:
    assert [category_of(s, W) for s in (0, 20, 21, 40, 41, 60, 61, 80, 81, 100)] == [
        "closed", "closed", "repressed", "repressed", "obstructed", "obstructed", "narrowed", "narrowed",
        "open", "open"]


def test_a_run_of_detentions_of_journalists_lowers_the_score_and_then_the_category() -> None:
    base = W.base["obstructed"]  # 50
    few = rate("UZ", base, detentions_of_journalists(2, start=AS_OF - timedelta(days=30)), AS_OF, W)
    many = rate("UZ", base, detentions_of_journalists(20, start=AS_OF - timedelta(days=150)), AS_OF, W)

    assert few.score < base and few.category == "obstructed"
    assert many.score <= 40 and many.category == "repressed"
    assert many.contributions[0].points < 0 and many.events == 20


def test_one_week_of_news_cannot_change_a_category_alone() -> None:
    week = [RatingEvent(f"incident:{n}", "UZ", ("attack", "detention"), ("journalist",), 5, "2026-06-24", "")
            for n in range(50)]

    rated = rate("UZ", W.base["obstructed"], week, AS_OF, W)

    assert rated.adjustment == pytest.approx(-W.week_cap)
    assert rated.category == "obstructed"


def test_a_release_and_a_repealed_law_raise_the_score() -> None:
    good = [RatingEvent("incident:1", "UZ", ("release",), ("journalist",), 1, "2026-06-01", "released"),
            RatingEvent("incident:2", "UZ", ("positive_reform",), ("public",), 0, "2026-06-10", "law repealed")]

    rated = rate("UZ", W.base["repressed"], good, AS_OF, W)

    assert rated.score > W.base["repressed"]


def test_old_and_undated_events_do_not_count() -> None:
    events = [RatingEvent("incident:1", "UZ", ("detention",), (), 1, "2024-01-05", ""),
              RatingEvent("incident:2", "UZ", ("detention",), (), 1, None, "")]

    assert rate("UZ", 50, events, AS_OF, W).score == 50


def test_a_weights_file_overrides_entry_by_entry(tmp_path: Path) -> None:
    mine = tmp_path / "weights.toml"
    mine.write_text("[severity]\nharassment = -5.0\n", encoding="utf-8")

    weights = load_weights(mine)

    assert weights.severity["harassment"] == -5.0 and weights.severity["detention"] == W.severity["detention"]
    mine.write_text("[nonsense]\nx = 1\n", encoding="utf-8")
    with pytest.raises(UsageError, match="unknown section"):
        load_weights(mine)


def test_the_civicus_ratings_file_reads_whole(shared: Path) -> None:
    rows = read_ratings_file(shared / "data" / "civicus_ratings" / "ratings.csv", W)

    uzbekistan = [r for r in rows if r.country == "UZ"]
    assert uzbekistan and {r.category for r in uzbekistan} == {"closed"}
    assert uzbekistan[0].as_of.endswith("-12-31") and uzbekistan[0].score == W.base["closed"]


@pytest.mark.parametrize(("content", "says"), [
    ("\ufeffiso2,category,as_of\nUZ,closed,2025-01-01\n", None),  # a byte-order mark is fine
    ("iso2;score;as_of\nKZ;33;2025-01-01\n", None),  # so are semicolons
    ("country,grade\nUZ,closed\n", "expected the columns"),
    ("iso2,category,as_of\nUZ,shut,2025-01-01\n", "line 2: 'shut' is not a category"),
    ("iso2,score,as_of\nZZ,50,2025-01-01\nUZ,101,2025-01-01\n", "line 2: 'ZZ' is not an ISO"),
    ("iso2,category,as_of\n", "no ratings"),
])
def test_ratings_files_are_read_or_refused_with_the_line(tmp_path: Path, content: str, says: str | None) -> None:
    path = tmp_path / "ratings.csv"
    path.write_text(content, encoding="utf-8")
    if says is None:
        assert len(read_ratings_file(path, W)) == 1
        return
    with pytest.raises(UsageError) as refused:
        read_ratings_file(path, W)
    assert refused.value.input == str(path) and says in refused.value.reason


# Five journalists (fictional), five detentions: five events, whatever ``connect`` makes of them.
DETENTIONS = [
    (f"Journalist detained in Tashkent ({n})",
     f"Police in Tashkent detained the journalist {name} on {day} May 2026 after her report "
     "on forced labour.", f"2026-05-{day:02d}")
    for n, (day, name) in enumerate(zip((2, 9, 16, 23, 30), ("Dilnoza Rahimova", "Gulnora Yusupova",
                                                            "Malika Tursunova", "Shahlo Qodirova",
                                                            "Zarina Ergasheva"), strict=True), start=1)
]


def _rated(store: Store) -> list[tuple[str, str, int, str]]:
    add_reports(store, DETENTIONS)
    ratings.save_bases(store, [BaseRating("UZ", "2025-12-31", 45, "obstructed")], source="test")
    rate_countries(store, as_of=date(2026, 6, 30))
    return [(code, period, score, category) for code in ("UZ",) for period, score, category in
            ratings.history(store, code)]


def test_the_same_input_gives_the_same_rating_on_sqlite_and_postgresql(
    tmp_path: Path, postgres_schema_url: str
) -> None:
    on_sqlite, on_postgres = Store(f"sqlite:///{tmp_path / 'c.db'}"), Store(postgres_schema_url)
    for store in (on_sqlite, on_postgres):
        store.upgrade()

    first, second = _rated(on_sqlite), _rated(on_postgres)

    assert first == second
    assert first[0] == ("UZ", "2025-12", 45, "obstructed")
    assert first[-1][2] < 45  # five detentions of a journalist in May lowered it
    on_sqlite.close()
    on_postgres.close()


def test_an_override_is_shown_as_such_and_recorded(store: Store) -> None:
    _rated(store)
    ratings.set_override(store, "UZ", "closed", reason="mass arrests not yet coded", set_by="amina")

    current = ratings.current_ratings(store)["UZ"]

    assert current.category == "closed" and current.computed_category != "closed"
    assert current.override_reason == "mass arrests not yet coded" and current.override_by == "amina"
    with pytest.raises(UsageError, match="needs a reason"):
        ratings.set_override(store, "UZ", "open", reason=" ", set_by="amina")
    ratings.set_override(store, "UZ", None, reason="coded now", set_by="amina")
    assert ratings.current_ratings(store)["UZ"].category == current.computed_category
    assert [o.category for o in ratings.overrides(store, "UZ")] == ["closed", None]
    logged = audit.history(store, "rating", "UZ")
    assert [(e.action, e.actor, e.before, e.after) for e in logged] == [
        ("override", "amina", None, {"override": "closed"}),
        ("lift_override", "amina", {"override": "closed"}, {"override": None}),
    ]
    assert logged[0].reason == "mass arrests not yet coded"


def _form_token(page: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found, "the form carries no CSRF token"
    return found.group(1)


def _log_in(client: httpx.Client, name: str) -> None:
    token = _form_token(client.get("/login").text)
    signed_in = client.post("/login", data={"name": name, "password": "correct horse battery",
                                            "csrf_token": token, "next": "/"})
    assert signed_in.status_code == 303, signed_in.text[:200]


def test_a_researcher_overrides_the_category_from_the_web(site: LiveSite) -> None:
    _rated(site.store)
    add_user(site.store, "amina", "researcher", "correct horse battery")
    add_user(site.store, "rustam", "viewer", "correct horse battery")
    client = site.client

    assert client.get("/countries/UZ/rating/override").headers["location"].startswith("/login")
    with httpx.Client(base_url=site.url()) as viewer:
        _log_in(viewer, "rustam")
        assert viewer.get("/countries/UZ/rating/override").status_code == 403
    _log_in(client, "amina")
    form = client.get("/countries/UZ/rating/override")
    assert form.status_code == 200 and "Record the override" in form.text
    data = {"category": "closed", "reason": "mass arrests in May not yet coded"}

    assert client.post("/countries/UZ/rating/override", data=data).status_code == 403  # no CSRF token
    done = client.post("/countries/UZ/rating/override", data={**data, "csrf_token": _form_token(form.text)})

    assert done.status_code == 303 and done.headers["location"].startswith("/countries/UZ")
    page = lxml.html.fromstring(site.get("/countries/UZ").text)
    assert page.xpath("string(//p[contains(@class, 'rating-category')]/strong)") == "Closed"
    assert "set by a researcher (amina): mass arrests in May not yet coded" in page.xpath(
        "string(//p[@class='override'])")
    assert [e.actor for e in audit.history(site.store, "rating", "UZ")] == ["amina"]
    refused = client.post("/countries/UZ/rating/override",
                          data={"category": "shut", "reason": "x", "csrf_token": _form_token(form.text)})
    assert refused.status_code == 400 and len(ratings.overrides(site.store, "UZ")) == 1


def test_the_map_the_country_page_and_the_api_show_the_ratings(site: LiveSite) -> None:
    _rated(site.store)

    home = lxml.html.fromstring(site.get("/").text)
    country = lxml.html.fromstring(site.get("/countries/uz").text)
    api = site.get("/api/v1/countries/UZ").json()
    listed = site.get("/api/v1/ratings").json()

    rated = api["rating"]["category"]
    assert home.xpath("//*[@id='UZ']/@class") == [f"country cat-{rated}"]
    assert home.xpath("//*[@id='KZ']/@class") == ["country cat-none"]
    assert country.xpath("string(//p[contains(@class, 'rating-category')]/strong)") == rated.capitalize()
    assert country.xpath("//svg[contains(@class, 'score-line')]")
    assert [item["country"] for item in listed["items"]] == ["UZ"] and listed["next"] is None


def test_a_country_that_falls_fast_is_on_the_watchlist() -> None:
    from civicwatch.rate.watchlist import watchlist

    histories = {
        "KG": [("2026-01", 30, "repressed"), ("2026-04", 27, "repressed"), ("2026-07", 19, "closed")],
        "KZ": [("2026-01", 31, "repressed"), ("2026-07", 29, "repressed")],  # a small fall: not listed
        "GE": [("2026-01", 58, "obstructed"), ("2026-07", 50, "obstructed")],
        "SN": [("2026-01", 80, "narrowed"), ("2026-07", 82, "open")],  # crossed upwards: listed
    }

    listed = watchlist(histories, months=6, fall=5)

    assert [(e.country, e.change, e.crossed) for e in listed] == [("KG", -11, "down"), ("GE", -8, None),
                                                                   ("SN", 2, "up")]


def test_the_watchlist_page_api_and_feed(site: LiveSite) -> None:
    _rated(site.store)  # five detentions of a journalist in May 2026 lower Uzbekistan's score

    page = lxml.html.fromstring(site.get("/watchlist").text)
    api = site.get("/api/v1/watchlist").json()
    feed = site.get("/feeds/watchlist.atom")

    assert [item["country"] for item in api["items"]] == ["UZ"] and api["items"][0]["change"] <= -5
    assert page.xpath("string(//table[@class='watchlist']//th[@scope='row'])").strip() == "Uzbekistan"
    assert feed.headers["content-type"].startswith("application/atom+xml")
    assert b"Uzbekistan: score" in feed.content
    # The look-back is the reader's: May's detentions are all before the last month, so one month shows no fall.
    assert site.get("/api/v1/watchlist", params={"months": 1}).json()["items"] == []
    assert "over the last 1 months" in site.get("/watchlist", params={"months": 1}).text
    assert site.get("/api/v1/watchlist", params={"months": 0}).status_code == 422
    assert b"Uzbekistan" not in site.get("/feeds/watchlist.atom", params={"months": 1}).content


def test_a_rating_explanation_drops_what_was_hidden_after_rating(store: Store) -> None:
    from civicwatch.store import review

    _rated(store)
    before = ratings.current_ratings(store)["UZ"].contributions
    hidden = next(i for i in store.incidents() if i.evidence and "Rahimova" in i.evidence)

    review.set_confidential(store, "incident", hidden.id or 0, True, actor="amina", reason="family asked")

    after = ratings.current_ratings(store)["UZ"].contributions
    assert len(after) == len(before) - 1
    assert not any("Rahimova" in c.summary for c in after)
