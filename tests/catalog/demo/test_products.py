from __future__ import annotations

import copy
import json
import re
from decimal import Decimal

import pytest

from catalog.demo import demo_products
from catalog.demo.products import DATA_FILE, parse_data


def test_demo_products_are_a_varied_deterministic_catalog():
    products = demo_products()
    assert len(products) >= 200
    assert len({p["sku"] for p in products}) == len(products)
    assert len({p["category"] for p in products}) >= 8
    for p in products:
        assert p["name"].strip() and p["category"].count("/") >= 1
        assert Decimal(p["price"]) > 0 and p["currency"] == "USD"
        text = p["description"].replace(p["brand"], "Brand")  # "Common Thread Co." has a dot
        sentences = re.findall(r"[a-z0-9)][.!?](?:\s|$)", text)
        assert 2 <= len(sentences) <= 4, p["description"]
        assert p["attributes"]["color"] and p["attributes"]["material"]
    # Templated, but not copies of each other: search needs texts that differ.
    assert len({p["description"] for p in products}) == len(products)
    assert demo_products() == products


def test_towels_and_saws_do_not_share_words_that_would_confuse_search():
    # A search test elsewhere expects "bath towel" to find towels, not bandsaws.
    products = demo_products()
    towels = [p for p in products if p["category"] == "Home/Bath/Towels"]
    saws = [p for p in products if p["category"] == "Tools/Power Tools/Saws"]
    assert any("bath towel" in p["name"].lower() for p in towels)
    assert any("bandsaw" in p["name"].lower() for p in saws)
    for p in saws:
        assert not re.search(r"bath|towel", f"{p['name']} {p['description']}", re.I)
    for p in towels:
        assert not re.search(r"\bsaw|band", f"{p['name']} {p['description']}", re.I)


def test_attribute_lists_in_the_data_are_pools_and_other_values_are_fixed():
    towels = [p for p in demo_products() if p["category"] == "Home/Bath/Towels"]
    hand_towels = [p for p in towels if "Hand Towel" in p["name"]]
    # "size" is one value in the data, "pieces" a pool of 2 or 4, "gsm" a category pool.
    assert {p["attributes"]["size"] for p in hand_towels} == {"16 x 30 in"}
    assert {p["attributes"]["pieces"] for p in hand_towels} <= {2, 4}
    assert len({p["attributes"]["gsm"] for p in towels}) > 1


def _data() -> dict:
    return copy.deepcopy(json.loads(DATA_FILE.read_text(encoding="utf-8")))


def test_data_naming_a_shape_nobody_draws_is_refused_with_where_it_is():
    data = _data()
    data["categories"][0]["kinds"][0]["shape"] = "hovercraft"
    with pytest.raises(ValueError, match=r"category TWL.*'Bath Towel'.*'hovercraft'"):
        parse_data(data)


def test_data_naming_a_colour_without_a_paint_is_refused():
    data = _data()
    data["categories"][1]["colors"].append("ultraviolet")
    with pytest.raises(ValueError, match=r"category SAW.*ultraviolet"):
        parse_data(data)
