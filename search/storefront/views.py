"""Storefront search pages. Thin: parse (search.query), call the service, build the page
(search.storefront.page), render.

Photo searches follow post/redirect/get: POST /search takes the upload, keeps the photo in
the cache (search.storefront.photo_store) and redirects (303) to GET /search?photo=<key>&q=<text>,
a results page that can be paged and refreshed for as long as the photo is kept (an hour).

Refining a results page is a plain GET form (works without script): `category` (a category
path; it and its subcategories), `brand` (repeatable), `price` (a price-facet bucket, "25-50"
or "1000-"), `price_min` / `price_max`, `attr` (repeatable "name:value"), `sort` and `mode`."""

from __future__ import annotations

from dataclasses import replace
from urllib.parse import urlencode

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.cache import add_never_cache_headers, patch_cache_control
from django.views.decorators.http import require_GET, require_http_methods

from catalog.images import PhotoRejected
from catalog.selectors import has_products, products_with_photos
from search.inference.backend import configured_model_modalities
from search.insights.models import Source
from search.insights.recording import record_search
from search.photos import QueryPhotoRejected, read_query_photo
from search.query import InvalidSearch, normalise_query, parse_search_params
from search.services import (
    NO_PRODUCTS_YET,
    RETRY_AFTER_S,
    SearchUnavailable,
    model_info,
    search_products,
)
from search.storefront.page import (
    PHOTO_EXPIRED,
    base_params,
    query_string,
    results_context,
    sentence,
)
from search.storefront.photo_store import (
    PHOTO_TTL_S,
    is_photo_key,
    load_query_photo,
    query_photo_bytes,
    store_query_photo,
)


def search_box(request: HttpRequest) -> dict:
    """What the search boxes need. `accepts_photos`: the model reads photos, so they offer an
    upload (a text-only shop gets the plain GET form). `text_only_model`: the model that
    reads text only, which the big boxes name where the upload would be, with how to turn
    photo search on for staff and in development (search/_photo_search_off.html).

    The active index says what its model reads; before the first index, the configured model
    is asked (None where this process cannot: remote inference; then neither is shown)."""
    info = model_info()
    modalities = info["modalities"] or configured_model_modalities()
    reads_photos = modalities is not None and "image" in modalities
    return {
        "accepts_photos": reads_photos,
        "text_only_model": info["embedder"] if modalities and not reads_photos else None,
        "show_setup": request.user.is_staff or settings.DEBUG,
    }


def home(request: HttpRequest) -> HttpResponse:
    featured = products_with_photos().filter(active=True).order_by("-updated_at")[:12]
    context = {"featured": featured, **search_box(request)}
    return render(request, "search/home.html", context)


@require_http_methods(["GET", "HEAD", "POST"])
def search_page(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        return _take_photo(request)
    context: dict = {"query": "", "response": None, "error": None}
    context.update(search_box(request))
    key = request.GET.get("photo", "")
    if key and not is_photo_key(key):
        context["error"] = "That photo search link is not valid — upload the photo again."
        return render(request, "search/results.html", context, status=400)
    try:
        params = parse_search_params(request.GET, page_size=settings.SEARCH_PAGE_SIZE)
    except InvalidSearch as exc:
        query, _ = normalise_query(request.GET.get("q", ""))
        context.update(query=query, error=sentence(exc), photo_key=key)
        context["unfiltered_url"] = query_string(base_params(key, query))
        return render(request, "search/results.html", context, status=400)
    if params.explain and not request.user.is_staff:
        # "Why this rank?" is for staff; a shopper who follows such a link gets the page.
        params = replace(params, explain=False)
    context["query"] = params.query
    context["query_truncated"] = params.query_truncated
    photo = None
    if key:
        try:
            photo = load_query_photo(key)
        except PhotoRejected:  # not ours to have stored; treat it as gone
            photo = None
        if photo is None:
            # 410: the link was good and is no more. Never cached: uploading the same photo
            # again brings the same key (and this very URL) back to life.
            context["notice"] = PHOTO_EXPIRED
            response = render(request, "search/results.html", context, status=410)
            add_never_cache_headers(response)
            return response
        context["photo_key"] = key
    search = params.request(photo=photo)
    if search.is_empty:
        return render(request, "search/results.html", context)
    try:
        response = search_products(search)
    except InvalidSearch as exc:
        context["error"] = sentence(exc)
        context["photo_key"] = ""  # the search boxes drop the photo the model cannot read
        context["photo_refused"] = photo is not None
        return render(request, "search/results.html", context, status=400)
    except SearchUnavailable as exc:
        context["error"] = f"Search is warming up: {exc}."
        unavailable = render(request, "search/results.html", context, status=503)
        unavailable["Retry-After"] = str(RETRY_AFTER_S)
        return unavailable
    if request.method == "GET":  # a HEAD is no shopper's search
        response.search_id = record_search(
            search=search, response=response, source=Source.STOREFRONT, http_request=request
        )
    # Nothing to find, rather than nothing found: the page says so (and staff how to add some).
    if not response.count and not has_products():
        context["shop_is_empty"] = True
        response = replace(response, notices=[n for n in response.notices if n != NO_PRODUCTS_YET])
    context.update(results_context(params=params, response=response, photo_key=key))
    return render(request, "search/results.html", context)


def _take_photo(request: HttpRequest) -> HttpResponse:
    """POST /search: check and keep the uploaded photo, then redirect to its results page.
    Without a new upload, a still-valid `photo_key` (refining a photo search's words) is kept;
    with neither, this is a plain text search."""
    query, _ = normalise_query(request.POST.get("q", ""))
    try:
        photo = read_query_photo(upload=request.FILES.get("photo"))
    except QueryPhotoRejected as exc:
        context = {
            "query": query,
            "response": None,
            "error": f"We could not use that photo: {exc.reason}.",
            **search_box(request),
        }
        return render(request, "search/results.html", context, status=413 if exc.too_large else 400)
    params = {}
    if photo is not None:
        params["photo"] = store_query_photo(photo)
    elif is_photo_key(key := request.POST.get("photo_key", "")):
        params["photo"] = key
    if query:
        params["q"] = query
    url = reverse("search:search") + (f"?{urlencode(params)}" if params else "")
    return HttpResponseRedirect(url, status=303)


@require_GET
def query_photo(request: HttpRequest, key: str) -> HttpResponse:
    """The shopper's own photo, shown beside its results while it is kept."""
    content = query_photo_bytes(key)
    if content is None:
        raise Http404("That photo has expired")
    response = HttpResponse(content, content_type="image/jpeg")
    patch_cache_control(response, private=True, max_age=PHOTO_TTL_S)
    return response
