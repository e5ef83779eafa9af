"""Staff API clients ask `explain=1` and each result says why it ranked where it did, stage by
stage in pipeline order; everyone else gets a 403 that says why; the ranking never changes."""

from __future__ import annotations

import json

import pytest
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.authtoken.models import Token
from rest_framework.renderers import JSONRenderer

from search.api.serializers import SearchResponseSerializer
from search.query import SearchRequest
from search.services import search_products
from search.types import search_response_data


@pytest.fixture
def staff(db) -> dict[str, str]:
    user = User.objects.create_user("merch", is_staff=True)
    return {"HTTP_AUTHORIZATION": f"Token {Token.objects.create(user=user).key}"}


def explained(client, staff, **params) -> list[dict]:
    response = client.get("/api/v1/search", {**params, "explain": "1"}, **staff)
    assert response.status_code == 200, response.content
    return response.json()["results"]


def stages(hit: dict) -> dict[str, dict]:
    return {stage["stage"]: stage for stage in hit["explain"]["stages"]}


def test_each_result_says_its_stages_in_pipeline_order_with_the_matched_words(shop, client, staff):
    hits = explained(client, staff, q="red running shoes", page_size=8)
    assert [hit["explain"]["position"] for hit in hits] == list(range(1, len(hits) + 1))
    for hit in hits:
        names = [stage["stage"] for stage in hit["explain"]["stages"]]
        assert names == ["keyword", "vector", "fusion"]
        fusion = stages(hit)["fusion"]
        assert fusion["method"] == "convex"
        assert fusion["score"] == pytest.approx(hit["retrieval_score"])
        # The legs' parts add up to the fused score.
        assert sum(fusion["contributions"].values()) == pytest.approx(fusion["score"])

    sneakers = stages(next(hit for hit in hits if hit["sku"] == "SNK-100"))
    keyword = sneakers["keyword"]
    # Stemmed as the keyword leg stems ("running" -> "run"), in query order, with where.
    assert keyword["matched_words"] == ["red", "run"]
    assert keyword["matched_in"] == {"red": "attributes", "run": "name"}
    assert keyword["score"] > 0 and keyword["rank"] >= 1
    assert 0 < sneakers["vector"]["similarity"] <= 1 and sneakers["vector"]["rank"] >= 1

    # Counted by meaning alone (README, "Result counts"): the keyword stage says so.
    by_meaning = [stages(hit) for hit in explained(client, staff, q="something to dry off with")]
    unmatched = [s for s in by_meaning if s["keyword"]["score"] is None]
    assert unmatched, "some towel is found by meaning alone"
    for explanation in unmatched:
        assert explanation["keyword"]["matched_words"] == []
        assert explanation["fusion"]["contributions"]["keyword"] == 0


@pytest.mark.parametrize("fusion", ["convex", "rrf"])
@pytest.mark.parametrize(
    "params",
    [
        {"q": "red running shoes"},
        {"q": "towel", "mode": "lexical"},
        {"q": "something to dry off with", "mode": "vector"},
        {"q": "Stride"},
        {"q": "shoes", "sort": "price_asc"},
    ],
)
def test_explaining_never_changes_the_ranking(shop, client, staff, settings, fusion, params):
    settings.SEARCH_FUSION = fusion
    plain = client.get("/api/v1/search", {**params, "page_size": 8}).json()["results"]
    hits = explained(client, staff, **params, page_size=8)
    assert [hit["sku"] for hit in hits] == [hit["sku"] for hit in plain]
    assert [hit["score"] for hit in hits] == pytest.approx([hit["score"] for hit in plain])
    assert all("explain" not in hit for hit in plain)
    # And a plain search after it is still plain, and still the same.
    again = client.get("/api/v1/search", {**params, "page_size": 8}).json()["results"]
    assert again == plain


def test_rank_fusion_shows_each_legs_vote(shop, client, staff, settings):
    settings.SEARCH_FUSION = "rrf"
    for hit in explained(client, staff, q="red running shoes", page_size=8):
        found = stages(hit)
        assert found["fusion"]["method"] == "rrf"
        for leg in ("keyword", "vector"):
            rank = found[leg]["rank"]
            vote = 1 / (settings.SEARCH_RRF_K + rank) if rank else 0
            assert found["fusion"]["contributions"][leg] == pytest.approx(vote)


def test_an_exact_sku_match_says_so_and_how_far_it_moved(shop, client, staff):
    hits = explained(client, staff, q="SNK-200", page_size=8)
    assert hits[0]["sku"] == "SNK-200"
    exact = stages(hits[0])["exact_match"]
    assert exact == {"stage": "exact_match", "field": "sku", "rank": 1, "moved": exact["moved"]}
    assert exact["moved"] == stages(hits[0])["fusion"]["rank"] - 1
    assert all("exact_match" not in stages(hit) for hit in hits[1:])


def test_an_exact_brand_match_names_the_brand(shop, client, staff):
    hits = explained(client, staff, q="stride", mode="lexical", page_size=8)
    assert {hit["sku"] for hit in hits[:2]} == {"SNK-100", "BOT-300"}
    assert [stages(hit)["exact_match"]["field"] for hit in hits[:2]] == ["brand", "brand"]


def test_vector_mode_shows_only_the_vector_stage(shop, client, staff):
    hits = explained(client, staff, q="something to dry off with", mode="vector", page_size=8)
    assert hits
    for position, hit in enumerate(hits, start=1):
        assert hit["explain"]["stages"] == [
            {"stage": "vector", "similarity": pytest.approx(hit["score"]), "rank": position}
        ]


def test_lexical_mode_shows_only_the_keyword_stage(shop, client, staff):
    hits = explained(client, staff, q="towel", mode="lexical")
    assert hits and all([s["stage"] for s in h["explain"]["stages"]] == ["keyword"] for h in hits)
    assert all(stages(hit)["keyword"]["matched_words"] == ["towel"] for hit in hits)


def test_a_sorted_page_says_where_relevance_put_it_and_where_the_sort_did(shop, client, staff):
    hits = explained(client, staff, q="sneakers", sort="price_desc", page_size=1, page=2)
    positions = [hit["explain"]["position"] for hit in hits]
    assert positions == [2]
    for hit, position in zip(hits, positions, strict=True):
        assert hit["explain"]["stages"][-1] == {
            "stage": "sort",
            "by": "price_desc",
            "rank": position,
        }


def test_a_staff_session_may_post_a_photo_search_with_explain(shop, client):
    user = User.objects.create_user("merch", password="pw", is_staff=True)
    client.force_login(user)
    response = client.post(
        "/api/v1/search",
        json.dumps({"q": "running shoes", "explain": True}),
        content_type="application/json",
    )
    assert response.status_code == 200
    assert all("explain" in hit for hit in response.json()["results"])


@pytest.mark.parametrize("who", ["anonymous", "shopper"])
def test_explain_is_refused_to_anyone_but_staff(shop, client, who):
    auth = {}
    if who == "shopper":
        shopper = User.objects.create_user("shopper", is_staff=False)
        auth = {"HTTP_AUTHORIZATION": f"Token {Token.objects.create(user=shopper).key}"}
    response = client.get("/api/v1/search", {"q": "shoes", "explain": "1"}, **auth)
    assert response.status_code == 403
    assert "staff" in response.json()["detail"]
    posted = client.post(
        "/api/v1/search", {"q": "shoes", "explain": "true"}, content_type="application/json",
        **auth,
    )  # fmt: skip
    assert posted.status_code == 403
    # The same search without explain is open to everyone.
    assert client.get("/api/v1/search", {"q": "shoes"}, **auth).status_code == 200


def test_a_bad_explain_value_is_a_clear_400(shop, client, staff):
    response = client.get("/api/v1/search", {"q": "shoes", "explain": "please"}, **staff)
    assert response.status_code == 400 and "explain" in response.json()


def test_the_explanation_is_documented_in_the_schema_and_matches_it(shop, client):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    get = schema["paths"]["/api/v1/search"]["get"]
    assert "explain" in {p["name"] for p in get["parameters"]}
    assert "403" in get["responses"]
    hit = schema["components"]["schemas"]["SearchHit"]
    assert "explain" in hit["properties"] and "explain" not in hit.get("required", [])
    stage_kinds = schema["components"]["schemas"]["ExplainStage"]["discriminator"]["mapping"]
    assert set(stage_kinds) == {
        "keyword", "vector", "fusion", "exact_match", "click_boost", "rerank", "rule", "sort"
    }  # fmt: skip

    result = search_products(SearchRequest(query="SNK-100", page_size=4, explain=True))
    built = json.loads(JSONRenderer().render(search_response_data(result)))
    documented = json.loads(JSONRenderer().render(SearchResponseSerializer(result).data))
    assert built == documented and "explain" in built["results"][0]


def test_a_photo_query_shows_the_stages_that_ran_for_it(photo_catalog, client, png_bytes):
    """A photo alone is searched by meaning only; a photo with words by both legs."""
    client.force_login(User.objects.create_user("merch", password="pw", is_staff=True))

    def post(**fields) -> list[dict]:
        photo = SimpleUploadedFile("q.png", png_bytes("green", (48, 48)), content_type="image/png")
        response = client.post("/api/v1/search", {"image": photo, "explain": "1", **fields})
        assert response.status_code == 200, response.content
        return response.json()["results"]

    alone = post()
    assert alone[0]["sku"] == "GRN-1"
    assert all([s["stage"] for s in hit["explain"]["stages"]] == ["vector"] for hit in alone)
    with_words = post(q="cotton t-shirt")
    assert all(
        [s["stage"] for s in hit["explain"]["stages"]] == ["keyword", "vector", "fusion"]
        for hit in with_words
    )
    assert stages(with_words[0])["keyword"]["matched_words"] == ["cotton", "t-shirt", "shirt"]
