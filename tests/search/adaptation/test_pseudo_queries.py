"""Pseudo-queries are phrased the way shoppers search (never a title's first words), hard
negatives are same-category products the query does not describe, and the held-aside slice
is the same on every run and never trains."""

from __future__ import annotations

import random

from search.adaptation.pseudo_queries import (
    CatalogItem,
    build_training_data,
    candidate_queries,
    held_aside,
    is_title_prefix,
    words,
)


def item(pid, name, *, brand="", category=(), color="", description="") -> CatalogItem:
    attributes = {"color": color} if color else {}
    document = " ".join([name, brand, " ".join(category), color, description])
    return CatalogItem(
        product_id=pid, sku=f"SKU-{pid}", name=name, brand=brand, category=tuple(category),
        attributes=attributes, description=description, document=document,
    )  # fmt: skip


SNEAKERS = ("Shoes", "Sneakers")
ITEMS = [
    # "red sneakers" (colour + leaf) is this title's start: it must not become a query
    item(1, "Red Sneakers for Running", brand="Stride", category=SNEAKERS, color="red",
         description="BREATHABLE MESH UPPER: keeps feet cool for long runs."),
    item(2, "Canvas Court Sneakers", brand="Stride", category=SNEAKERS, color="white",
         description="Classic low top canvas shoe for everyday wear."),
    item(3, "Leather Trail Sneakers Waterproof", brand="Hiker", category=SNEAKERS, color="brown",
         description="Waterproof leather upper for wet trails."),
    item(4, "Stoneware Coffee Mug 350 ml", brand="Potter", category=("Home", "Mugs"),
         color="blue", description="Holds hot coffee or tea. Dishwasher safe for daily use."),
    item(5, "Enamel Camping Mug", brand="Trail", category=("Home", "Mugs"), color="green",
         description="Light steel mug for the campfire and hiking trips."),
]  # fmt: skip


def test_no_pseudo_query_is_the_start_of_its_title():
    rng = random.Random(0)
    idf = {w: 1.0 for i in ITEMS for w in words(i.document)}
    for one in ITEMS:
        for _, query in candidate_queries(one, idf=idf, rng=rng):
            assert not is_title_prefix(query, one.name), (query, one.name)
    data = build_training_data(ITEMS, held_aside_fraction=0.0)
    assert data.train
    assert all(not is_title_prefix(p.query, ITEMS[p.product_id - 1].name) for p in data.train)
    assert "red sneakers" not in {p.query for p in data.train}


def test_shoppers_phrasings_come_from_the_products_fields():
    data = build_training_data(ITEMS, held_aside_fraction=0.0, per_product=10)
    queries = {(p.product_id, p.query) for p in data.train}
    assert (2, "white sneakers") in queries  # attribute + the category's leaf
    assert (4, "potter mugs") in queries  # brand + leaf
    assert (3, "sneakers for wet trails") in queries  # a use named in the description
    assert (1, "breathable mesh upper") in queries  # a description bullet's heading
    assert {p.kind for p in data.train} >= {"attribute", "brand", "use", "description"}


def test_hard_negatives_share_the_category_and_miss_a_word_of_the_query():
    data = build_training_data(ITEMS, held_aside_fraction=0.0, per_product=10)
    by_id = {i.product_id: i for i in ITEMS}
    checked = 0
    for pair in data.train:
        for negative in pair.negatives:
            other = by_id[negative]
            assert other.category == by_id[pair.product_id].category
            assert negative != pair.product_id
            assert not set(words(pair.query)) <= set(words(other.document)), pair
            checked += 1
    assert checked


def test_the_held_aside_slice_is_stable_and_never_trains():
    many = [item(i, f"Plain cotton towel model {i}", brand="Acme", category=("Bath", "Towels"),
                 color=random.Random(i).choice(["red", "blue", "white"]),
                 description="Soft towel for the bathroom.") for i in range(1, 201)]  # fmt: skip
    first = build_training_data(many, held_aside_fraction=0.2)
    again = build_training_data(many, held_aside_fraction=0.2, seed=5)
    aside = {p.product_id for p in first.held_aside}
    assert aside == {p.product_id for p in again.held_aside}
    assert 20 <= len(aside) <= 60
    assert not aside & {p.product_id for p in first.train}
    assert all(held_aside(many[pid - 1].sku, fraction=0.2) for pid in aside)
