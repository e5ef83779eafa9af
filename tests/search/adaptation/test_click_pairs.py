"""Clicked (query, product) pairs join the training data weighted by the click signal's
position-corrected evidence: clicks per examination (cascade model), smoothed, against the
query's own rate; examined-and-skipped products become the query's negatives."""

from __future__ import annotations

import pytest

from catalog import services as catalog
from search.adaptation.click_pairs import CLICK_WEIGHT, click_pairs
from search.models import ClickSignal


@pytest.fixture
def products(db):
    return {
        sku: catalog.upsert_product(sku=sku, name=f"Towel {sku}", price="5.00")[0].id
        for sku in ("A", "B", "C", "D")
    }


def signal_row(query, pid, *, clicks, examinations, visitors):
    ClickSignal.objects.create(
        normalised_query=query, product_id=pid, clicks=clicks, examinations=examinations,
        visitors=visitors,
    )  # fmt: skip


def test_preferred_products_become_weighted_pairs_and_skipped_ones_negatives(products):
    # For "beach towel": A clicked in 18 of 20 examinations, B in 10 of 20, C in 1 of 20.
    signal_row("beach towel", products["A"], clicks=18, examinations=20, visitors=20)
    signal_row("beach towel", products["B"], clicks=10, examinations=20, visitors=20)
    signal_row("beach towel", products["C"], clicks=1, examinations=20, visitors=20)
    pairs = click_pairs(product_ids=set(products.values()), min_visitors=10)

    assert [p.product_id for p in pairs] == [products["A"], products["B"]]
    assert all(p.query == "beach towel" and p.kind == "click" for p in pairs)
    assert pairs[0].weight > pairs[1].weight > 0
    assert pairs[0].weight < CLICK_WEIGHT
    assert all(p.negatives == (products["C"],) for p in pairs)


def test_evidence_from_too_few_visitors_trains_nothing(products):
    signal_row("bath towel", products["A"], clicks=4, examinations=4, visitors=4)
    signal_row("bath towel", products["B"], clicks=0, examinations=4, visitors=4)
    assert click_pairs(product_ids=set(products.values()), min_visitors=10) == []


def test_a_product_examined_less_is_not_held_against_it(products):
    # D was shown low and examined by few (the cascade counts only searches that reached
    # it), but clicked whenever examined: per examination it beats the query's average.
    signal_row("hand towel", products["A"], clicks=10, examinations=40, visitors=40)
    signal_row("hand towel", products["D"], clicks=10, examinations=10, visitors=10)
    pairs = click_pairs(product_ids=set(products.values()), min_visitors=10)
    assert [p.product_id for p in pairs] == [products["D"]]
    assert pairs[0].negatives == (products["A"],)
