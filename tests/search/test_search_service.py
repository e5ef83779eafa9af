from __future__ import annotations

import pytest
from django.core.cache import caches

from catalog import services as catalog
from search import results_cache
from search.indexing.embedding import embed_products
from search.inference.loading import get_reranker
from search.models import ProductEmbedding, SearchIndex
from search.query import SearchRequest, normalise_query
from search.services import SearchUnavailable, search_products


def skus(response):
    return [hit.sku for hit in response.results]


def test_finds_products_by_meaning_not_by_shared_words(indexed_catalog):
    response = search_products(SearchRequest(query="something to dry off after a shower"))
    assert skus(response)[:2] in (["TWL-1", "TWL-2"], ["TWL-2", "TWL-1"])


def test_pages_do_not_overlap_and_count_is_what_pagination_reaches(indexed_catalog):
    first = search_products(SearchRequest(query="kitchen", page=1, page_size=1))
    pages = [first] + [
        search_products(SearchRequest(query="kitchen", page=n, page_size=1))
        for n in range(2, first.num_pages + 2)  # and one page past the end
    ]
    assert first.num_pages == first.count > 1
    found = [sku for page in pages for sku in skus(page)]
    assert len(found) == len(set(found)) == first.count
    assert pages[-1].results == []


def test_product_without_photo_has_no_image_and_others_have_one(indexed_catalog):
    response = search_products(SearchRequest(query="desk lamp", page_size=8), whole_ranking=True)
    by_sku = {hit.sku: hit for hit in response.results}
    assert by_sku["LMP-1"].image is None
    assert by_sku["MUG-1"].image.startswith("/media/products/")


def test_inactive_and_deleted_products_leave_search_at_once(indexed_catalog):
    catalog.upsert_product(sku="TWL-1", name="Plush cotton bath towel", category="Home/Bath/Towels",
                           description="Thick, absorbent towel for the bathroom.", price="12.50",
                           active=False)  # fmt: skip
    catalog.delete_product(sku="TWL-2")
    response = search_products(SearchRequest(query="bath towel", page_size=8))
    assert not {"TWL-1", "TWL-2"} & set(skus(response))
    assert not ProductEmbedding.objects.filter(product__sku="TWL-2").exists()


def test_unchanged_products_are_not_embedded_again(indexed_catalog):
    report = embed_products(product_ids=indexed_catalog)
    assert report.embedded == 0 and report.unchanged == len(indexed_catalog)


def test_an_embed_task_for_products_deleted_meanwhile_does_nothing(db):
    product, _ = catalog.upsert_product(sku="GONE-1", name="Bath towel")
    product.delete()
    report = embed_products(product_ids=[product.id])
    assert (report.embedded, report.missing) == (0, 1)
    assert not SearchIndex.objects.exists()  # no first index made for nothing


def test_vector_search_before_anything_is_indexed_says_so(db):
    catalog.upsert_product(sku="TWL-1", name="Bath towel")  # imported, not embedded yet
    with pytest.raises(SearchUnavailable, match="being indexed"):
        search_products(SearchRequest(query="towel", mode="vector"))


@pytest.mark.parametrize(
    ("raw", "expected", "truncated"),
    [
        ("  blue \t\n mug ", "blue mug", False),
        ("mug\x00\x00cup", "mug cup", False),
        ("x" * 20_000, "x" * 500, True),
        ("   ", "", False),
    ],
)
def test_queries_are_normalised(raw, expected, truncated):
    assert normalise_query(raw) == (expected, truncated)


def test_tiny_cross_encoder_reorders_candidates_through_rank(
    indexed_catalog, settings, tiny_cross_encoder
):
    # The whole ranking: the reranker orders every candidate, counted or not.
    plain = search_products(
        SearchRequest(query="bath towel", page_size=8, rerank=False), whole_ranking=True
    )
    settings.VITRINE_RERANKER = str(tiny_cross_encoder)
    settings.SEARCH_RERANK_TOP_N = 8
    reranked = search_products(SearchRequest(query="bath towel", page_size=8), whole_ranking=True)

    scores = [hit.rerank_score for hit in reranked.results]
    assert None not in scores and scores == sorted(scores, reverse=True)
    assert skus(reranked) != skus(plain)  # the reranker, not retrieval, decided the order
    assert reranked.timings_ms["rerank"] > 0 and reranked.model["reranker"] == str(
        tiny_cross_encoder
    )
    # The score shown is the CrossEncoder's own score for (query, product document).
    model = get_reranker().model
    top = reranked.results[0]
    from catalog.selectors import products_with_photos
    from search.documents import build_document

    doc = build_document(products_with_photos(ids=[top.product_id]).get())
    assert model.predict([("bath towel", doc.text)])[0] == pytest.approx(top.rerank_score, abs=1e-5)

    skipped = search_products(
        SearchRequest(query="bath towel", page_size=8, rerank=False), whole_ranking=True
    )
    assert skus(skipped) == skus(plain) and skipped.timings_ms["rerank"] == 0


def test_a_search_reads_the_cache_once_and_writes_it_once(indexed_catalog, monkeypatch):
    """The tuned path: the ranking and the query's vector are read in one round trip and
    written in another (the Redis backend's set_each), each with its own lifetime."""
    backend = caches["default"]
    reads, writes = [], []
    get_many, set_each = backend.get_many, backend.set_each

    def read(keys, **kwargs):
        reads.append(keys)
        return get_many(keys, **kwargs)

    def write(entries):
        writes.append(entries)
        return set_each(entries)

    monkeypatch.setattr(backend, "get_many", read)
    monkeypatch.setattr(backend, "set_each", write)

    first = search_products(SearchRequest(query="coffee mug"))
    assert len(reads) == 1 and len(reads[0]) == 2  # the ranking and the query's vector
    assert len(writes) == 1
    assert sorted(timeout for _, timeout in writes[0].values()) == [
        results_cache.RESULTS_CACHE_S,
        results_cache.QUERY_VECTOR_CACHE_S,
    ]

    again = search_products(SearchRequest(query="coffee mug", page=2, page_size=3))
    assert len(reads) == 2 and len(writes) == 1  # page 2 comes from the cached ranking
    assert again.count == first.count


def test_the_ranking_depth_bounds_what_pagination_reaches(indexed_catalog):
    request = SearchRequest(query="kitchen", page_size=8)
    shallow = search_products(request, max_candidates=3, whole_ranking=True)
    assert shallow.count == 3 and len(shallow.results) == 3
    assert search_products(request, max_candidates=3).count <= 3
    assert search_products(request, whole_ranking=True).count == len(indexed_catalog)
