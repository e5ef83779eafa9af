"""The shopper's filters as SQL, applied inside each leg (not after it), so a selective filter
still fills a page."""

from __future__ import annotations

from functools import lru_cache
from typing import NamedTuple

from psycopg import sql

from search.query import SearchFilters


class FilterShape(NamedTuple):
    """Which conditions a search's filters make: the SQL depends on this only, the values
    go as parameters (so the legs can cache their statements per shape)."""

    category: bool = False
    brands: bool = False
    price_min: bool = False
    price_max: bool = False
    attributes: int = 0  # how many name:value pairs


def filter_values(filters: SearchFilters | None) -> tuple[FilterShape, dict]:
    """The filters' shape (see `filter_clause`) and the parameters its SQL reads."""
    if filters is None:
        return FilterShape(), {}
    params: dict = {}
    if filters.category:
        params["f_cat"] = filters.category
        params["f_cat_prefix"] = filters.category.replace("%", r"\%").replace("_", r"\_") + "/%"
    if filters.brands:
        params["f_brands"] = [b.lower() for b in filters.brands]
    if filters.price_min is not None:
        params["f_price_min"] = filters.price_min
    if filters.price_max is not None:
        params["f_price_max"] = filters.price_max
    for i, (name, value) in enumerate(filters.attributes):
        params[f"f_attr_k{i}"] = name
        params[f"f_attr_v{i}"] = value
    shape = FilterShape(
        category=bool(filters.category),
        brands=bool(filters.brands),
        price_min=filters.price_min is not None,
        price_max=filters.price_max is not None,
        attributes=len(filters.attributes),
    )
    return shape, params


@lru_cache(maxsize=128)
def filter_clause(shape: FilterShape) -> sql.Composable:
    """A WHERE condition over `catalog_product p` / `catalog_category c` for filters of this
    shape, reading `filter_values`' parameters."""
    clauses: list[sql.Composable] = [sql.SQL("p.active")]
    if shape.category:
        clauses.append(sql.SQL("(c.path = %(f_cat)s OR c.path LIKE %(f_cat_prefix)s)"))
    if shape.brands:
        clauses.append(sql.SQL("lower(p.brand) = ANY(%(f_brands)s)"))
    if shape.price_min:
        clauses.append(sql.SQL("p.price >= %(f_price_min)s"))
    if shape.price_max:
        clauses.append(sql.SQL("p.price <= %(f_price_max)s"))
    for i in range(shape.attributes):
        # Case-insensitive on the value, whatever its JSON type ("Red", 42, true).
        clauses.append(
            sql.SQL("lower(p.attributes ->> {name}) = lower({value})").format(
                name=sql.Placeholder(f"f_attr_k{i}"), value=sql.Placeholder(f"f_attr_v{i}")
            )
        )
    return sql.SQL(" AND ").join(clauses)
