"""Category facet labels are read once a minute per process, not once per search."""

from __future__ import annotations

from catalog import services as catalog
from catalog.models import Category
from search import facets


def _category_labels(product_ids: list[int]) -> list[str]:
    found = facets.compute_facets(product_ids, selected={})
    return [v.label for f in found if f.name == "category" for v in f.values]


def test_a_renamed_category_shows_its_new_name_within_a_minute(db, monkeypatch):
    now = [5000.0]
    monkeypatch.setattr(facets.time, "monotonic", lambda: now[0])
    facets.forget_category_labels()
    towel, _ = catalog.upsert_product(sku="T-1", name="Towel", category="Home/Bath")
    mug, _ = catalog.upsert_product(sku="M-1", name="Mug", category="Home/Kitchen")
    assert sorted(_category_labels([towel.id, mug.id])) == ["Home / Bath", "Home / Kitchen"]

    Category.objects.filter(name="Bath").update(name="Bathroom")
    now[0] += 30
    assert "Home / Bath" in _category_labels([towel.id])  # read 30 s ago: still shown
    now[0] += 31
    assert _category_labels([towel.id]) == ["Home / Bathroom"]


def test_a_new_category_is_labelled_at_once(db):
    towel, _ = catalog.upsert_product(sku="T-1", name="Towel", category="Home/Bath")
    assert _category_labels([towel.id]) == ["Home / Bath"]
    lamp, _ = catalog.upsert_product(sku="L-1", name="Lamp", category="Home/Lighting/Desk")
    assert _category_labels([lamp.id]) == ["Home / Lighting / Desk"]
