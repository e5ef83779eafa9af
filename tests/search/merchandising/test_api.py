"""/api/v1/synonyms and /api/v1/rules: staff only; every bad input a 400 with the reason and
nothing saved; what is saved acts on the next search."""

from __future__ import annotations

import pytest

from search.merchandising.models import MerchandisingRule, SynonymSet


def post(client, url, data, staff):
    return client.post(url, data, content_type="application/json", **staff)


def test_only_staff_may_read_or_write(client, db):
    assert client.get("/api/v1/rules").status_code in (401, 403)
    assert client.post("/api/v1/synonyms", {"terms": ["a", "b"]}).status_code in (401, 403)


def test_a_synonym_set_made_through_the_api_changes_the_next_search(client, staff, shop):
    assert "BOT-300" not in [r["sku"] for r in client.get(
        "/api/v1/search", {"q": "sneakers", "mode": "lexical"}).json()["results"]]  # fmt: skip
    created = post(client, "/api/v1/synonyms", {"terms": ["sneakers", "boots"]}, staff)
    assert created.status_code == 201, created.content
    body = client.get("/api/v1/search", {"q": "sneakers", "mode": "lexical"}).json()
    assert "BOT-300" in [r["sku"] for r in body["results"]]
    assert body["applied_synonyms"] == [
        {"id": created.json()["id"], "matched": "sneakers", "alternatives": ["boots"]}
    ]
    one = client.get(f"/api/v1/synonyms/{created.json()['id']}", **staff)
    assert one.json() == {"id": created.json()["id"], "terms": ["sneakers", "boots"]}
    assert client.delete(f"/api/v1/synonyms/{created.json()['id']}", **staff).status_code == 204
    assert client.get("/api/v1/synonyms", **staff).json() == []


@pytest.mark.parametrize(
    ("body", "field", "reason"),
    [
        ({"terms": []}, "terms", "empty"),
        ({"terms": ["sofa"]}, "terms", "one term"),
        ({"terms": ["sofa", "SOFA"]}, "terms", "twice"),
        ({"terms": ["sofa", "cou\x07ch"]}, "terms", "control"),
        ({"terms": ["sofa", "c" * 500]}, "terms", "at most"),
        ({"from": "sofa", "to": ["couch"], "extra": 1}, "extra", "unknown"),
    ],
)
def test_bad_synonym_sets_get_a_400_with_the_reason(client, staff, body, field, reason):
    response = post(client, "/api/v1/synonyms", body, staff)
    assert response.status_code == 400
    assert reason in " ".join(response.json()[field])
    assert not SynonymSet.objects.exists()


def test_a_circular_one_way_set_gets_a_400_that_says_multi_way(client, staff):
    assert (
        post(client, "/api/v1/synonyms", {"from": "sofa", "to": ["couch"]}, staff).status_code
        == 201
    )
    response = post(client, "/api/v1/synonyms", {"from": "couch", "to": ["sofa"]}, staff)
    assert response.status_code == 400 and "multi-way" in response.json()["to"][0]


def test_synonyms_csv_round_trip_through_the_api(client, staff):
    post(client, "/api/v1/synonyms", {"terms": ["sneakers", "trainers"]}, staff)
    post(client, "/api/v1/synonyms", {"from": "iphone case", "to": ["phone case"]}, staff)
    exported = client.get("/api/v1/synonyms/csv", **staff)
    assert exported["Content-Type"].startswith("text/csv")
    SynonymSet.objects.all().delete()
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile("s.csv", exported.content, content_type="text/csv")
    imported = client.post("/api/v1/synonyms/csv", {"file": upload}, **staff)
    assert imported.json() == {"added": 2}
    assert client.get("/api/v1/synonyms/csv", **staff).content == exported.content


def test_a_rule_round_trip_and_patch(client, staff, shop):
    rule = {"query": "gift", "match": "exact", "pin": [{"sku": "MUG-050", "position": 1}],
            "hide": ["TWL-010"], "boost": [{"brand": "Dunehome", "factor": 1.5}],
            "redirect": None, "starts_at": None, "ends_at": None, "enabled": True}  # fmt: skip
    created = post(client, "/api/v1/rules", rule, staff)
    assert created.status_code == 201, created.content
    rule_id = created.json()["id"]
    assert client.get(f"/api/v1/rules/{rule_id}", **staff).json()["pin"] == rule["pin"]
    patched = client.patch(
        f"/api/v1/rules/{rule_id}", {"enabled": False}, content_type="application/json", **staff
    )
    assert patched.status_code == 200 and patched.json()["enabled"] is False
    assert client.delete(f"/api/v1/rules/{rule_id}", **staff).status_code == 204
    assert not MerchandisingRule.objects.exists()


def test_a_redirect_rule_sends_the_storefront_with_a_302_and_the_api_a_url(client, staff, shop):
    post(client, "/api/v1/rules", {"query": "returns", "redirect": "/help/returns"}, staff)
    page = client.get("/search", {"q": "returns"})
    assert page.status_code == 302 and page["Location"] == "/help/returns"
    body = client.get("/api/v1/search", {"q": "returns"}).json()
    assert body["redirect"] == "/help/returns" and body["results"] == []
    assert body["applied_rules"][0]["actions"] == ["redirect"]


@pytest.mark.parametrize(
    ("body", "field", "reason"),
    [
        ({"query": "gift", "pin": [{"sku": "NOPE-1", "position": 1}]}, "pin", "no product"),
        ({"query": "gift", "pin": [{"sku": "MUG-050", "position": 0}]}, "pin", "from 1 to"),
        ({"query": "gift", "pin": [{"sku": "MUG-050", "position": 5000}]}, "pin", "from 1 to"),
        ({"query": "gift", "boost": [{"brand": "Stride", "factor": 9}]}, "boost", "factor"),
        ({"query": "gift", "boost": [{"brand": "Stride", "factor": 0}]}, "boost", "factor"),
        ({"query": "gift", "redirect": "javascript:alert(1)"}, "redirect", "http(s)"),
        ({"query": "gift", "redirect": "ftp://example.com/x"}, "redirect", "http(s)"),
        ({"query": "gift", "redirect": "//evil.example/x"}, "redirect", "path of this site"),
        ({"query": "gift", "hide": ["MUG-050"], "starts_at": "2026-12-24T00:00:00Z",
          "ends_at": "2026-12-01T00:00:00Z"}, "ends_at", "ends before it starts"),
        ({"query": "gift", "hide": ["MUG-050"], "colour": "red"}, "colour", "unknown"),
        ({"query": "gift"}, "detail", "must pin, hide, boost or redirect"),
        ({"query": "", "hide": ["MUG-050"]}, "query", "give the query"),
        ({"match": "category", "category": "nowhere", "hide": ["MUG-050"]}, "category",
         "no category"),
        ({"query": "gift", "hide": ["MUG-050"], "starts_at": "soon"}, "starts_at", "date and time"),
        ({"query": "gift", "pin": [{"sku": "MUG-050", "position": 1}], "redirect": "/help"},
         "redirect", "cannot also"),
    ],
)  # fmt: skip
def test_bad_rules_get_a_400_with_the_reason_and_nothing_is_saved(
    client, staff, shop, body, field, reason
):
    response = post(client, "/api/v1/rules", body, staff)
    assert response.status_code == 400, response.content
    assert reason in " ".join(response.json()[field])
    assert not MerchandisingRule.objects.exists()


def test_a_bad_patch_changes_nothing(client, staff, shop):
    rule_id = post(client, "/api/v1/rules", {"query": "gift", "hide": ["MUG-050"]}, staff).json()[
        "id"
    ]
    response = client.patch(
        f"/api/v1/rules/{rule_id}", {"hide": ["NOPE"], "name": "x"},
        content_type="application/json", **staff,
    )  # fmt: skip
    assert response.status_code == 400
    assert MerchandisingRule.objects.get().hides == ["MUG-050"]
    assert MerchandisingRule.objects.get().name == ""
