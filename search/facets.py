"""Facets over the ranked candidates, declared in settings.SEARCH_FACETS (django-oscar style):
adding a facet is configuration, not code, for the kinds below.

- kind "category": counts per product category (the shopper narrows to it and below);
- kind "field": counts per value of a product column (e.g. brand);
- kind "range": counts per bucket of a numeric column (e.g. price), edges from settings.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import replace
from decimal import Decimal

from django.conf import settings

from catalog.models import Product
from catalog.selectors import categories_with_ancestors
from search.query import SearchFilters
from search.replicas import read_alias
from search.types import Facet, FacetRow, FacetValue


def _bucket_label(low, high, currency: str = "") -> str:
    if high is None:
        return f"{low}+"
    return f"{low}–{high}"


# Labels this process has read: id -> (path, full name), and when it started reading them.
# A renamed category shows its new name within CATEGORY_LABELS_TTL_S; the results cache
# keeps whole facet lists for longer anyway (search.results_cache.RESULTS_CACHE_S).
CATEGORY_LABELS_TTL_S = 60.0
_labels: dict[int, tuple[str, str]] = {}
_labels_since = 0.0


def forget_category_labels() -> None:
    global _labels, _labels_since
    _labels = {}  # a new dict: a search reading the old one in another thread keeps it whole
    _labels_since = time.monotonic()


def _category_labels(category_ids: list[int]) -> dict[int, tuple[str, str]]:
    """id -> (path, full name "Home / Kitchen / Mugs"), whatever the depth: the ones this
    process has not read in the last minute in one query (~0.5 ms of a search)."""
    if time.monotonic() - _labels_since > CATEGORY_LABELS_TTL_S:
        forget_category_labels()
    labels = _labels
    missing = [cat_id for cat_id in category_ids if cat_id not in labels]
    if missing:
        for cat_id, category in categories_with_ancestors(ids=missing, using=read_alias()).items():
            labels[cat_id] = (category.path, category.full_name)
    return {cat_id: labels[cat_id] for cat_id in category_ids if cat_id in labels}


def compute_facets(
    product_ids: Sequence[int],
    *,
    selected: dict[str, object],
    known: Mapping[int, FacetRow] | None = None,
) -> list[Facet]:
    """Facet counts over these products. `selected` maps facet name -> current selection
    (a category path, a tuple of brands, a (min, max) price pair) to mark chosen values.
    `known`: rows the caller already has (the retrieval legs return them); only the other
    products are read here."""
    known = known or {}
    rows = [known[pid] for pid in product_ids if pid in known]
    missing = [pid for pid in product_ids if pid not in known]
    if missing:
        products = Product.objects.using(read_alias()).filter(id__in=missing)
        fields = products.values_list("sku", "category_id", "brand", "price")
        rows += [FacetRow(*row) for row in fields]
    # Ties in the counts keep SKU order, whichever way the rows arrived.
    rows.sort(key=lambda row: row.sku)
    facets: list[Facet] = []
    for spec in settings.SEARCH_FACETS:
        facet = Facet(name=spec["name"], label=spec["label"])
        limit = spec.get("limit", 20)
        if spec["kind"] == "category":
            counts = Counter(row.category_id for row in rows if row.category_id)
            top = counts.most_common(limit)
            labels = _category_labels([cat_id for cat_id, _ in top])
            for cat_id, count in top:
                path, full_name = labels[cat_id]
                facet.values.append(
                    FacetValue(path, full_name, count, path == selected.get(facet.name))
                )
        elif spec["kind"] == "field":
            values = (getattr(row, spec["field"]) for row in rows)
            counts = Counter(value for value in values if value)
            chosen = {str(v).lower() for v in selected.get(facet.name) or ()}
            for value, count in counts.most_common(limit):
                facet.values.append(FacetValue(value, value, count, value.lower() in chosen))
        elif spec["kind"] == "range":
            edges = spec["buckets"]
            current = selected.get(facet.name)
            amounts = [a for row in rows if (a := getattr(row, spec["field"])) is not None]
            for low, high in zip(edges, edges[1:], strict=False):
                lowest = Decimal(low)
                below = None if high is None else Decimal(high)
                count = sum(1 for a in amounts if a >= lowest and (below is None or a < below))
                if count:
                    value = f"{low}-{'' if high is None else high}"
                    is_selected = current == (low, high)
                    facet.values.append(
                        FacetValue(value, _bucket_label(low, high), count, is_selected)
                    )
        if facet.values:
            facets.append(facet)
    return facets


def selected_values(filters: SearchFilters) -> dict[str, object]:
    """What `compute_facets` marks as chosen, from the search's filters."""
    selected: dict[str, object] = {"category": filters.category, "brand": filters.brands}
    if filters.price_min is not None or filters.price_max is not None:
        selected["price"] = (filters.price_min, filters.price_max)
    return selected


def with_brand_facet(facets: list[Facet], wide: Facet, *, chosen: Sequence[str]) -> list[Facet]:
    """Brands are multi-select: `facets` with its brand facet replaced by `wide`, the brand
    facet of the same search without the brand filter (so the other brands stay on offer,
    with their counts), the `chosen` brands marked."""
    chosen_lower = {b.lower() for b in chosen}
    values = [replace(v, selected=v.value.lower() in chosen_lower) for v in wide.values]
    merged = {f.name: f for f in facets} | {"brand": replace(wide, values=values)}
    declared = [spec["name"] for spec in settings.SEARCH_FACETS]
    return sorted(merged.values(), key=lambda f: declared.index(f.name))
