"""The shopper's filters as SQL, applied inside each leg (not after it), so a selective filter
still fills a page."""

from __future__ import annotations

from psycopg import sql

from search.query import SearchFilters


def filter_sql(filters: SearchFilters | None) -> tuple[sql.Composable, dict]:
    """A WHERE condition over `catalog_product p` / `catalog_category c` for these filters,
    and its parameters."""
    clauses: list[sql.Composable] = [sql.SQL("p.active")]
    params: dict = {}
    if filters is None:
        return sql.SQL(" AND ").join(clauses), params
    if filters.category:
        clauses.append(sql.SQL("(c.path = %(f_cat)s OR c.path LIKE %(f_cat_prefix)s)"))
        params["f_cat"] = filters.category
        params["f_cat_prefix"] = filters.category.replace("%", r"\%").replace("_", r"\_") + "/%"
    if filters.brands:
        clauses.append(sql.SQL("lower(p.brand) = ANY(%(f_brands)s)"))
        params["f_brands"] = [b.lower() for b in filters.brands]
    if filters.price_min is not None:
        clauses.append(sql.SQL("p.price >= %(f_price_min)s"))
        params["f_price_min"] = filters.price_min
    if filters.price_max is not None:
        clauses.append(sql.SQL("p.price <= %(f_price_max)s"))
        params["f_price_max"] = filters.price_max
    for i, (name, value) in enumerate(filters.attributes):
        # Case-insensitive on the value, whatever its JSON type ("Red", 42, true).
        clauses.append(
            sql.SQL("lower(p.attributes ->> {name}) = lower({value})").format(
                name=sql.Placeholder(f"f_attr_k{i}"), value=sql.Placeholder(f"f_attr_v{i}")
            )
        )
        params[f"f_attr_k{i}"] = name
        params[f"f_attr_v{i}"] = value
    return sql.SQL(" AND ").join(clauses), params
