"""Storefront templates: rendered directly with hand-built context (no model, no worker),
plus one database round trip through the product page."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.template.loader import render_to_string

from catalog.services import upsert_product
from search.types import SearchHit, SearchResponse


def make_hit(sku: str, name: str, *, price=Decimal("12.50"), image="/media/p/x.jpg") -> SearchHit:
    return SearchHit(
        product_id=abs(hash(sku)) % 10_000,
        sku=sku,
        name=name,
        price=price,
        currency="USD",
        url=f"/products/{sku}/",
        image=image,
        score=0.9,
        retrieval_score=0.8,
        rerank_score=0.9,
    )


def make_response(query: str, hits: list[SearchHit], *, count=None, page=1, page_size=2):
    return SearchResponse(
        query=query,
        results=hits,
        count=len(hits) if count is None else count,
        page=page,
        page_size=page_size,
        timings_ms={"encode": 3.2, "retrieve": 5.1, "rerank": 40.7, "total": 49.9},
        model={"embedder": "tiny/embedder-test", "modalities": ["text"], "reranker": ""},
    )


def render_results(query: str, response: SearchResponse | None, error: str | None = None) -> str:
    context = {
        "form": None,
        "query": query,
        "response": response,
        "error": error,
        "pages": range(1, (response.num_pages if response else 1) + 1),
    }
    return render_to_string("search/results.html", context, request=None)


def test_results_show_each_hit_with_name_price_and_photo():
    hits = [
        make_hit("MUG-1", "Blue ceramic mug", image="/media/products/ab/mug.jpg"),
        make_hit("TEE-2", "Cotton T-shirt", price=Decimal("7.00"), image="/media/t.png"),
    ]
    html = render_results("blue mug", make_response("blue mug", hits))

    assert '2 results for "blue mug"' in html
    for sku in ("MUG-1", "TEE-2"):
        assert f'<article class="result card" data-sku="{sku}"' in html
    assert "Blue ceramic mug" in html and "Cotton T-shirt" in html
    assert "USD 12.50" in html and "USD 7.00" in html
    assert 'class="result-photo" src="/media/products/ab/mug.jpg"' in html
    assert 'href="/products/MUG-1/"' in html
    assert "tiny/embedder-test" in html  # the muted stats line names the model
    assert "placeholder" not in html.split("<main>", 1)[1].split("</main>", 1)[0]


def test_hit_without_photo_gets_a_placeholder_and_price_on_request():
    html = render_results(
        "lamp", make_response("lamp", [make_hit("L-1", "Lamp", price=None, image=None)])
    )

    assert '<div class="result-photo placeholder"' in html
    assert 'result-photo" src=' not in html
    assert "Price on request" in html
    assert "1 result for" in html


def test_pagination_link_keeps_the_query_urlencoded():
    query = "red & blue mug #2"
    response = make_response(query, [make_hit("A", "A"), make_hit("B", "B")], count=5, page=1)
    html = render_results(query, response)

    assert response.num_pages == 3
    assert 'href="?q=red%20%26%20blue%20mug%20%232&amp;page=2"' in html
    assert 'href="?q=red%20%26%20blue%20mug%20%232&amp;page=3"' in html
    assert 'aria-current="page">1<' in html


def test_html_in_the_query_is_escaped():
    query = '<script>alert("x")</script>'
    hits = [make_hit("X-1", "<b>Bold</b> name")]
    html = render_results(query, make_response(query, hits))

    assert "<script>" not in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in html
    assert "<b>Bold</b>" not in html
    # The header search box is refilled with the (escaped) query.
    assert 'name="q" value="&lt;script&gt;' in html


def test_query_truncated_note():
    response = make_response("long", [make_hit("A", "A")])
    response.query_truncated = True
    html = render_results("long", response)

    assert "query-truncated" in html


def test_error_notice_renders():
    html = render_results("mug", None, error="Search is warming up: the index is empty.")

    assert 'class="notice error"' in html
    assert "Search is warming up: the index is empty." in html
    assert "results for" not in html


def test_empty_query_shows_a_prompt():
    html = render_results("", None)

    assert "What are you looking for?" in html
    assert 'action="/search"' in html


@pytest.mark.django_db
def test_product_page_renders_and_unknown_sku_is_404(client):
    product, created = upsert_product(
        sku="NOPHOTO-1",
        name="Linen tea towel",
        description="Soft.\n\nMachine washable.",
        brand="Acme",
        price="9.5",
        attributes={"colour": "sand", "material": "linen"},
        category="Home/Kitchen/Textiles",
    )
    assert created

    response = client.get(f"/products/{product.sku}/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Linen tea towel" in html
    assert "USD 9.50" in html
    assert 'class="product-photo placeholder"' in html
    assert "Home / Kitchen / Textiles" in html
    assert "<p>Soft.</p>" in html and "<p>Machine washable.</p>" in html
    assert "Material" in html and "linen" in html
    assert 'href="/api/docs/"' in html and 'href="/healthz"' in html

    assert client.get("/products/NOPE/").status_code == 404
