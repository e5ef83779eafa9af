"""Template tags the storefront uses: `{% similar_products product %}` on the product page (the
catalog's template asks search for it, so catalog's Python never imports search) and
`{% results_page_url n %}` for pagination links that keep the query and the photo."""

from __future__ import annotations

from urllib.parse import quote

from django import template

from search import services

register = template.Library()

SIMILAR_LIMIT = 8


@register.inclusion_tag("search/_similar.html")
def similar_products(product, limit: int = SIMILAR_LIMIT) -> dict:
    """Up to `limit` cards of the products nearest to this one in the active index."""
    return {"product": product, "hits": services.similar_products(product=product, limit=limit)}


@register.simple_tag(takes_context=True)
def results_page_url(context, page: int) -> str:
    """`?photo=<key>&q=<query>&page=<n>` for the results page being shown (photo only when
    it is a photo search). Returned raw; the template escapes it."""
    params = []
    if context.get("photo_key"):
        params.append(("photo", context["photo_key"]))
    params += [("q", context.get("query") or ""), ("page", str(page))]
    return "?" + "&".join(f"{name}={quote(value, safe='/')}" for name, value in params)
