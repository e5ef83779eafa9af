"""Learning from clicks (search.insights.clicks): shoppers' clicks, corrected for where each
product was shown and counted once per visitor, move a query's ranking only once enough
visitors agree, never above an exact SKU match, and show on the next search.

The events are written as the recording writes them (SearchEvent with the SKUs shown,
ResultEvent for each click); the shop is SHOP_ROWS embedded with the real default model."""

from __future__ import annotations

import uuid

import pytest
from django.utils import timezone

from search.insights.clicks import (
    click_query,
    click_signal_version,
    forget_click_signal,
    query_clicks,
    refresh_click_signal,
)
from search.insights.models import ClickSignal, ResultEvent, SearchEvent
from search.query import SearchRequest
from search.services import search_products

QUERY = "comfortable shoes for walking"


@pytest.fixture(autouse=True)
def _fresh_signal():
    forget_click_signal()
    yield
    forget_click_signal()


def ranking(query: str = QUERY, **options) -> list[str]:
    """The whole ranked list, ranked afresh (explain ranks without reading the cache)."""
    response = search_products(
        SearchRequest(query=query, page_size=50, explain=True, **options), whole_ranking=True
    )
    return [hit.sku for hit in response.results]


def shoppers_click(
    shown: list[str], clicked: str, *, visitors: int, query: str = QUERY, first: int = 0
) -> None:
    """`visitors` distinct shoppers each searched `query`, were shown `shown` and clicked
    `clicked` (the recording's rows: the search with its SKUs, then the click)."""
    now = timezone.now()
    for n in range(first, first + visitors):
        search_id = uuid.uuid4()
        SearchEvent.objects.create(
            search_id=search_id,
            created_at=now,
            source="api",
            query=query,
            normalised_query=click_query(query),
            mode="hybrid",
            result_count=len(shown),
            zero_results=False,
            shown=shown,
            first_position=1,
            latency_ms=12.0,
            visitor=f"visitor-{n}",
        )
        ResultEvent.objects.create(
            search_id=search_id,
            created_at=now,
            type=ResultEvent.Type.CLICK,
            sku=clicked,
            position=shown.index(clicked) + 1,
            normalised_query=click_query(query),
            visitor=f"visitor-{n}",
        )


def learn() -> None:
    """The beat task's refresh, then the next search in this process reads the new version
    (as every web process does within a few seconds)."""
    refresh_click_signal()
    forget_click_signal()


def test_a_handful_of_clicks_does_not_reorder_a_query(shop):
    before = ranking()
    shoppers_click(before, before[7], visitors=5)
    learn()
    assert ranking() == before
    assert not ClickSignal.objects.exclude(boost=0).exists()


def test_enough_visitors_clicking_the_eighth_result_move_it_up(shop):
    before = ranking()
    lifted = before[7]
    shoppers_click(before, lifted, visitors=12)
    learn()
    after = ranking()
    assert after.index(lifted) < 7
    assert sorted(after) == sorted(before)  # reordered, nothing added or lost


def scores(query: str = QUERY) -> dict[str, float]:
    response = search_products(SearchRequest(query=query, page_size=50), whole_ranking=True)
    return {hit.sku: hit.score for hit in response.results}


def test_results_shoppers_skipped_above_their_clicks_move_down(shop):
    before, was = ranking(), scores()
    shoppers_click(before, before[1], visitors=30)
    learn()
    skipped = ClickSignal.objects.get(normalised_query=click_query(QUERY), product__sku=before[0])
    assert skipped.boost < 0 and skipped.clicks == 0
    now = scores()
    assert now[before[0]] < was[before[0]] and now[before[1]] > was[before[1]]


def test_one_visitor_clicking_again_and_again_counts_once(shop):
    before = ranking()
    for _ in range(30):
        shoppers_click(before, before[7], visitors=1)  # the same visitor-0 every time
    learn()
    assert ranking() == before
    row = ClickSignal.objects.get(normalised_query=click_query(QUERY), product__sku=before[7])
    assert row.visitors == 1 and row.clicks == pytest.approx(1.0)


def test_an_exact_sku_match_is_never_buried(shop):
    before = ranking("SNK-100")
    assert before[0] == "SNK-100"
    shoppers_click(before, before[4], visitors=40, query="SNK-100")
    learn()
    after = ranking("SNK-100")
    assert after[0] == "SNK-100"
    assert after.index(before[4]) < 4  # the clicks did move the others


def test_a_click_boost_of_zero_leaves_the_ranking_as_it_was(shop, settings):
    before = ranking()
    shoppers_click(before, before[7], visitors=30)
    learn()
    assert ranking() != before
    settings.VITRINE_CLICK_BOOST = 0
    assert ranking() == before


def test_clicks_change_the_order_never_the_count(shop):
    request = SearchRequest(query=QUERY, page_size=50)
    before = search_products(request)
    whole = ranking()
    shoppers_click(whole, whole[7], visitors=30)
    learn()
    after = search_products(request)
    assert after.count == before.count
    assert {hit.sku for hit in after.results} == {hit.sku for hit in before.results}


def test_learning_shows_on_the_next_search_despite_the_cached_ranking(shop):
    request = SearchRequest(query=QUERY, page_size=50)
    before = [hit.sku for hit in search_products(request, whole_ranking=True).results]
    version = click_signal_version()
    shoppers_click(before, before[7], visitors=30)
    learn()
    assert click_signal_version() != version
    after = [hit.sku for hit in search_products(request, whole_ranking=True).results]
    assert after.index(before[7]) < 7


def test_a_new_signal_leaves_the_rankings_of_other_queries_cached(shop):
    shoppers_click(ranking(), ranking()[7], visitors=30)
    learn()
    other = query_clicks("lightweight shoes")
    assert other.digest == "" and query_clicks(QUERY).digest
    shoppers_click(ranking(), ranking()[6], visitors=30, first=100)  # more of the same query
    learn()
    assert query_clicks("lightweight shoes").digest == ""


def test_the_explanation_shows_what_clicks_added(shop):
    before = ranking()
    shoppers_click(before, before[7], visitors=30)
    learn()
    response = search_products(
        SearchRequest(query=QUERY, page_size=50, explain=True), whole_ranking=True
    )
    hit = next(h for h in response.results if h.sku == before[7])
    stage = next(s for s in hit.explanation.stages if s.stage == "click_boost")
    assert stage.boost > 0 and stage.moved > 0 and stage.rank == hit.explanation.position


def test_searches_without_any_click_teach_nothing(shop):
    before = ranking()
    shoppers_click(before, before[7], visitors=30)
    ResultEvent.objects.all().delete()  # the same searches, nobody clicked
    learn()
    assert not ClickSignal.objects.exists()
    assert ranking() == before


def test_a_products_own_signal_covers_all_its_queries(shop):
    before = ranking()
    shoppers_click(before, before[7], visitors=12)
    other = ranking("lightweight shoes")
    shoppers_click(other, before[7], visitors=12, query="lightweight shoes", first=100)
    learn()
    own = ClickSignal.objects.get(normalised_query="", product__sku=before[7])
    assert own.visitors == 24 and own.boost > 0


@pytest.mark.django_db(transaction=True)
def test_a_product_deleted_while_its_clicks_are_refreshed_is_deleted_and_the_refresh_ends(
    no_embedding_queue,
):
    """The soak's deadlock: a delete locks its product and then deletes the product's click
    rows, while the refresh rewrote click rows and then needed the product. Now the refresh
    takes its products first and waits for the delete: both finish, the product is gone."""
    import threading

    from django.db import connection, connections, transaction

    from catalog import services as catalog
    from catalog.models import Product

    shown = []
    for i in range(4):
        product, _ = catalog.upsert_product(sku=f"DL-{i}", name=f"Walking shoe {i}")
        shown.append(product.sku)
    shoppers_click(shown, "DL-2", visitors=12)
    refresh_click_signal()  # the product has click rows to delete
    shoppers_click(shown, "DL-2", visitors=3, first=100)  # and new clicks to refresh
    assert ClickSignal.objects.filter(product__sku="DL-2").exists()

    locked, release, deleted = threading.Event(), threading.Event(), []

    def delete_in_two_steps() -> None:
        try:
            with transaction.atomic():  # as delete_products: lock first, then delete
                list(Product.objects.select_for_update().filter(sku="DL-2"))
                locked.set()
                release.wait(10)
                deleted.append(Product.objects.filter(sku="DL-2").delete()[0])
        finally:
            connections.close_all()

    deleter = threading.Thread(target=delete_in_two_steps)
    deleter.start()
    assert locked.wait(10)
    # The refresh waits for the delete's lock; let the delete go on while it waits.
    threading.Timer(1.0, release.set).start()
    report = refresh_click_signal()
    deleter.join(10)
    assert deleted and deleted[0] > 0 and not deleter.is_alive()
    assert report.queries == 1
    assert not Product.objects.filter(sku="DL-2").exists()
    assert not ClickSignal.objects.filter(product_id__isnull=True).exists()
    with connection.cursor() as cursor:  # no click row points at a product that is gone
        cursor.execute(
            "SELECT count(*) FROM search_clicksignal s"
            " LEFT JOIN catalog_product p ON p.id = s.product_id WHERE p.id IS NULL"
        )
        assert cursor.fetchone()[0] == 0
