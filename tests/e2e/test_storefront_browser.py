"""A shopper in a real browser: type a query, tick a brand, sort, page forward; what they see
at each step, with screenshots kept under test-artifacts/.

The shop is a slice of the demo catalog (drawn photos, several brands), written and embedded
in-process with the real default model and committed, so the live server's thread sees it."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest

from catalog import services as catalog
from catalog.demo import demo_products, render_illustration
from search.indexing.embedding import embed_products

CATEGORIES = {"Clothing/Shoes/Sneakers", "Clothing/Tops/T-Shirts", "Bags/Backpacks"}


@pytest.fixture
def demo_shop(transactional_db, settings):
    settings.SEARCH_PAGE_SIZE = 4
    items = [item for item in demo_products() if item["category"] in CATEGORIES]
    ids = []
    for item in items:
        product, _ = catalog.upsert_product(
            **{k: item[k] for k in ("sku", "name", "description", "brand", "price", "currency",
                                    "attributes", "category")}
        )  # fmt: skip
        catalog.attach_image(
            product=product,
            content=render_illustration(item),
            filename=f"{item['sku']}.png",
            alt=item["name"],
        )
        ids.append(product.id)
    embed_products(product_ids=ids)
    return {item["sku"]: item for item in items}


def chip_texts(page) -> list[str]:
    return [" ".join(text.split()) for text in page.locator(".chip").all_inner_texts()]


def card_names(page) -> list[str]:
    return page.locator("article.result .card-title").all_inner_texts()


def card_prices(page) -> list[Decimal]:
    texts = page.locator("article.result .price").all_inner_texts()  # "USD 61.99"
    return [Decimal(text.split()[-1]) for text in texts]


@pytest.mark.django_db(transaction=True)
def test_shopper_searches_filters_sorts_and_pages(demo_shop, live_server, page, artifacts):
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"{live_server.url}/search")
    page.get_by_role("combobox", name="Search products").fill("running sneakers")
    page.get_by_role("button", name="Search").click()
    page.wait_for_url(re.compile(r"/search\?q=running\+sneakers$"))
    assert 'results for "running sneakers"' in page.locator("h1").inner_text()
    first_names = card_names(page)
    assert len(first_names) == 4 and all("Sneaker" in name for name in first_names[:3])

    # Tick a brand: the page reloads with it (a few lines of script submit the form).
    brand = page.locator("fieldset[data-facet=brand] label", has_text="Northpace")
    brand.get_by_role("checkbox").check()
    page.wait_for_url(re.compile(r"brand=Northpace"))
    assert chip_texts(page) == ["Brand: Northpace ×"]
    assert page.locator("fieldset[data-facet=brand] input[value=Northpace]").is_checked()
    names = card_names(page)
    assert names and all(name.startswith("Northpace") for name in names)

    # Cheapest first, still Northpace only.
    page.get_by_label("Sort by").select_option("price_asc")
    page.wait_for_url(re.compile(r"sort=price_asc"))
    assert "brand=Northpace" in page.url and "q=running+sneakers" in page.url
    page1_names = card_names(page)
    page1_prices = card_prices(page)
    assert page1_prices == sorted(page1_prices)
    page.screenshot(path=str(artifacts / "storefront-search-filtered.png"), full_page=True)

    # Page forward: same query, brand and sort; new products, dearer than page 1's.
    page.get_by_role("link", name="Next →").click()
    page.wait_for_url(re.compile(r"page=2"))
    for part in ("q=running%20sneakers", "brand=Northpace", "sort=price_asc"):
        assert part in page.url
    assert "Page 2 of" in page.locator(".results-header").inner_text()
    page2_names = card_names(page)
    assert page2_names and not set(page2_names) & set(page1_names)
    assert all(name.startswith("Northpace") for name in page2_names)
    assert min(card_prices(page)) >= max(page1_prices)
    assert page.locator(".chip").count() == 1
    assert all(
        page.locator(f'article.result img[alt="{name}"]').evaluate("img => img.naturalWidth > 0")
        for name in page2_names
    ), "product photos load"
    page.screenshot(path=str(artifacts / "storefront-search-page2.png"), full_page=True)

    # Remove the chip: every brand again, the sort kept.
    page.locator(".chip-remove").click()
    page.wait_for_url(lambda url: "brand=" not in url)
    assert "sort=price_asc" in page.url
    assert page.locator(".chip").count() == 0
    assert len({name.split()[0] for name in card_names(page)}) >= 1

    # The last page of the counted results: the weaker matches follow, and only there.
    assert page.locator("section.also-like").count() == 0  # page 1 of several
    count = int(re.match(r"(\d+) results?", page.locator("h1").inner_text()).group(1))
    last = -(-count // 4)
    page.goto(f"{live_server.url}/search?q=running+sneakers&page={last}")
    also = page.locator("section.also-like")
    assert also.get_by_role("heading", name="You might also like").is_visible()
    offered = also.locator(".card-title").all_inner_texts()
    assert offered and not set(offered) & set(card_names(page))
    assert len(card_names(page)) == count - (last - 1) * 4
    page.screenshot(path=str(artifacts / "storefront-search-also-like.png"), full_page=True)
