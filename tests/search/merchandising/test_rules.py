"""Merchandising rules act last on a query's results: pins, hides, boosts, redirects, in the
documented order, within their time window, named in the response."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from catalog.models import Product
from search.merchandising.rule_writes import RuleInvalid, save_rule, update_rule
from search.query import SearchFilters, SearchRequest
from search.services import search_products
from search.types import search_response_data


def skus(response):
    return [hit.sku for hit in response.results]


def search(query="sneakers", **kwargs):
    return search_products(SearchRequest(query=query, **kwargs))


def test_a_pin_at_place_one_stays_first_whatever_the_reranker_says(
    shop, settings, tiny_cross_encoder
):
    settings.VITRINE_RERANKER = str(tiny_cross_encoder)
    assert skus(search())[0] != "MUG-050"
    rule = save_rule(data={"query": "sneakers", "pin": [{"sku": "MUG-050", "position": 1}]})
    response = search()
    assert skus(response)[0] == "MUG-050"
    assert response.applied_rules == [
        {"id": rule.pk, "name": "", "match": "exact", "query": "sneakers", "category": "",
         "actions": ["pin"]}
    ]  # fmt: skip
    assert response.count == search(rerank=False).count  # a pinned product counts


def test_a_pin_lands_on_its_place_among_the_results(shop):
    save_rule(data={"query": "sneakers", "pin": [{"sku": "TWL-020", "position": 2}]})
    assert skus(search())[1] == "TWL-020"


def test_a_pin_outside_the_shoppers_brand_filter_is_not_shown(shop):
    save_rule(data={"query": "sneakers", "pin": [{"sku": "MUG-050", "position": 1}]})
    filtered = search(filters=SearchFilters(brands=("Stride",)))
    assert "MUG-050" not in skus(filtered)
    assert skus(filtered)[0] == "SNK-100"


def test_a_hidden_product_leaves_the_results_and_the_count(shop):
    before = search()
    assert "SNK-200" in skus(before)
    save_rule(data={"query": "sneakers", "hide": ["SNK-200"]})
    after = search()
    assert "SNK-200" not in skus(after) and after.count == before.count - 1


def test_a_boost_lifts_a_brand_and_a_burial_sinks_it_within_bounds(shop):
    order = skus(search("shoes", page_size=8))
    brand = dict(Product.objects.values_list("sku", "brand"))
    last, first = order[-1], order[0]
    assert brand[last] != brand[first]
    rule = save_rule(data={"query": "shoes", "boost": [{"brand": brand[last], "factor": 2}]})
    boosted = skus(search("shoes", page_size=8))
    assert boosted.index(last) < order.index(last)
    update_rule(rule=rule, changes={"boost": [{"brand": brand[first], "factor": 0.5}]})
    buried = skus(search("shoes", page_size=8))
    assert buried.index(first) > 0
    assert sorted(buried) == sorted(boosted) == sorted(order)  # reordered, nothing lost
    with pytest.raises(RuleInvalid, match="factor"):
        update_rule(rule=rule, changes={"boost": [{"brand": "Stride", "factor": 10}]})


def test_a_redirect_rule_answers_with_the_url_and_no_results(shop):
    save_rule(data={"query": "returns", "redirect": "/help/returns"})
    response = search("Returns")
    assert response.redirect == "/help/returns" and response.results == []
    assert search_response_data(response)["redirect"] == "/help/returns"


def test_a_rule_acts_only_when_enabled_and_inside_its_time_window(shop):
    now = timezone.now()
    rule = save_rule(
        data={"query": "sneakers", "hide": ["SNK-100"], "starts_at": now + timedelta(hours=1)}
    )
    assert "SNK-100" in skus(search())
    update_rule(rule=rule, changes={"starts_at": (now - timedelta(hours=1)).isoformat()})
    assert "SNK-100" not in skus(search())
    update_rule(rule=rule, changes={"enabled": False})
    assert "SNK-100" in skus(search())
    update_rule(rule=rule, changes={"enabled": True, "ends_at": now - timedelta(minutes=1)})
    assert "SNK-100" in skus(search())


def test_rules_compose_most_specific_first_a_hide_beating_a_pin(shop):
    contains = save_rule(
        data={"query": "sneakers", "match": "contains",
              "pin": [{"sku": "MUG-050", "position": 1}, {"sku": "TWL-010", "position": 2}]}
    )  # fmt: skip
    exact = save_rule(
        data={"query": "red sneakers", "pin": [{"sku": "TWL-020", "position": 1}],
              "hide": ["TWL-010"]}
    )  # fmt: skip
    response = search("red sneakers")
    assert [r["id"] for r in response.applied_rules] == [exact.pk, contains.pk]
    assert skus(response)[0] == "TWL-020"  # the exact rule claims place 1
    assert "TWL-010" not in skus(response)  # hidden by one rule, pinned by another
    # the place MUG-050 was pinned to is the more specific rule's
    assert "MUG-050" not in skus(response)


def test_a_category_rule_acts_on_any_query_in_that_category(shop):
    save_rule(
        data={
            "match": "category",
            "category": "footwear",
            "pin": [{"sku": "BOT-300", "position": 1}],
        }
    )
    assert skus(search("shoes", filters=SearchFilters(category="footwear/boots")))[0] == "BOT-300"
    assert search("shoes").applied_rules == []


def test_explain_names_the_rule_that_moved_a_product(shop):
    rule = save_rule(data={"query": "sneakers", "pin": [{"sku": "MUG-050", "position": 1}]})
    hit = search(explain=True).results[0]
    stage = hit.explanation.stages[-1]
    assert (stage.stage, stage.action, stage.rules, stage.rank) == ("rule", "pinned", (rule.pk,), 1)
