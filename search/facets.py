"""Facets over the ranked candidates, declared in settings.SEARCH_FACETS (django-oscar style):
adding a facet is configuration, not code, for the kinds below.

- kind "category": counts per product category (the shopper narrows to it and below);
- kind "field": counts per value of a product column (e.g. brand);
- kind "range": counts per bucket of a numeric column (e.g. price), edges from settings.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings

from catalog.models import Category, Product


@dataclass
class FacetValue:
    value: str  # what goes in the query string to select it
    label: str
    count: int
    selected: bool = False


@dataclass
class Facet:
    name: str
    label: str
    values: list[FacetValue] = field(default_factory=list)


def _bucket_label(low, high, currency: str = "") -> str:
    if high is None:
        return f"{low}+"
    return f"{low}–{high}"


def compute_facets(product_ids: Sequence[int], *, selected: dict[str, object]) -> list[Facet]:
    """Facet counts over these products. `selected` maps facet name -> current selection
    (a category path, a tuple of brands, a (min, max) price pair) to mark chosen values."""
    rows = list(
        Product.objects.filter(id__in=list(product_ids)).values_list(
            "category_id", "brand", "price"
        )
    )
    facets: list[Facet] = []
    for spec in settings.SEARCH_FACETS:
        facet = Facet(name=spec["name"], label=spec["label"])
        limit = spec.get("limit", 20)
        if spec["kind"] == "category":
            counts = Counter(cat for cat, _, _ in rows if cat)
            categories = Category.objects.select_related("parent__parent").in_bulk(list(counts))
            for cat_id, count in counts.most_common(limit):
                cat = categories[cat_id]
                facet.values.append(
                    FacetValue(cat.path, cat.full_name, count, cat.path == selected.get(facet.name))
                )
        elif spec["kind"] == "field":
            column = {"brand": 1}[spec["field"]]
            counts = Counter(row[column] for row in rows if row[column])
            chosen = {str(v).lower() for v in selected.get(facet.name) or ()}
            for value, count in counts.most_common(limit):
                facet.values.append(FacetValue(value, value, count, value.lower() in chosen))
        elif spec["kind"] == "range":
            edges = spec["buckets"]
            current = selected.get(facet.name)
            for low, high in zip(edges, edges[1:], strict=False):
                count = sum(
                    1
                    for _, _, price in rows
                    if price is not None
                    and price >= Decimal(low)
                    and (high is None or price < Decimal(high))
                )
                if count:
                    value = f"{low}-{'' if high is None else high}"
                    is_selected = current == (low, high)
                    facet.values.append(
                        FacetValue(value, _bucket_label(low, high), count, is_selected)
                    )
        if facet.values:
            facets.append(facet)
    return facets
