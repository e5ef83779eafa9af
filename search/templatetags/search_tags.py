"""Template tags the storefront uses: `{% similar_products product %}` on the product page (the
catalog's template asks search for it, so catalog's Python never imports search) and
`{% results_page_url n %}` for pagination links that keep the query, the photo, the filters and
the sort; `{{ stage|describe_stage }}` for staff's "Why this rank?"."""

from __future__ import annotations

from django import template

from search import services
from search.explain import describe_stage as describe
from search.storefront.page import query_string
from search.types import ExplainStage

register = template.Library()

SIMILAR_LIMIT = 8


@register.inclusion_tag("search/_similar.html")
def similar_products(product, limit: int = SIMILAR_LIMIT) -> dict:
    """Up to `limit` cards of the products nearest to this one in the active index."""
    return {"product": product, "hits": services.similar_products(product=product, limit=limit)}


@register.simple_tag(takes_context=True)
def results_page_url(context, page: int) -> str:
    """`?photo=<key>&q=<query>&<filters and sort>&page=<n>` for the results page being shown
    (photo only when it is a photo search). The view puts the page's own parameters in
    `search_params`; without them, the query and photo alone. Returned raw; the template
    escapes it."""
    params = context.get("search_params")
    if params is None:
        params = [("photo", context["photo_key"])] if context.get("photo_key") else []
        params.append(("q", context.get("query") or ""))
    return query_string([*params, ("page", str(page))])


@register.filter
def describe_stage(stage: ExplainStage) -> str:
    """One stage of a result's explanation in words (search.explain.describe_stage)."""
    return describe(stage)
