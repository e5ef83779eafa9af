"""Storefront search pages and /healthz. Thin: parse, call the service, render.

Photo searches follow post/redirect/get: POST /search takes the upload, keeps the photo in
the cache (search.query_photos) and redirects (303) to GET /search?photo=<key>&q=<text>, a
results page that can be paged and refreshed for as long as the photo is kept (an hour).

Refining a results page is a plain GET form (works without script): `category` (a category
path; it and its subcategories), `brand` (repeatable), `price` (a price-facet bucket, "25-50"
or "1000-"), `price_min` / `price_max`, `attr` (repeatable "name:value"), `sort` and `mode`.
Every link on the page (pages, filter chips, facet buckets, "did you mean") is the page's own
query string with one thing changed, so nothing the shopper chose is lost on the way."""

from __future__ import annotations

from urllib.parse import urlencode

from django import forms
from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.cache import add_never_cache_headers, patch_cache_control
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from catalog.images import PhotoRejected
from catalog.selectors import products_with_photos
from search.health import health_report
from search.photos import QueryPhotoRejected, read_query_photo
from search.query_photos import (
    KEY_PATTERN,
    PHOTO_TTL_S,
    is_photo_key,
    load_query_photo,
    query_photo_bytes,
    store_query_photo,
)
from search.services import (
    InvalidSearch,
    SearchRequest,
    SearchUnavailable,
    model_info,
    normalise_query,
    search_products,
)
from search.storefront import (
    PHOTO_EXPIRED,
    Refinement,
    base_params,
    refine_context,
)
from search.templatetags.search_tags import query_string


class SearchForm(forms.Form):
    # The query itself is read raw: normalise_query strips what a form field would refuse.
    page = forms.IntegerField(required=False, min_value=1, max_value=10_000)
    photo = forms.RegexField(regex=rf"^{KEY_PATTERN}$", required=False)


def accepts_photos() -> bool:
    """Whether the active model reads photos: only then do the search boxes offer an upload
    (a text-only shop gets the plain GET form)."""
    return "image" in model_info()["modalities"]


def home(request: HttpRequest) -> HttpResponse:
    featured = products_with_photos().filter(active=True).order_by("-updated_at")[:12]
    context = {"featured": featured, "accepts_photos": accepts_photos()}
    return render(request, "search/home.html", context)


def _sentence(exc: Exception) -> str:
    text = str(exc)
    return f"{text[:1].upper()}{text[1:]}."


@require_http_methods(["GET", "HEAD", "POST"])
def search_page(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        return _take_photo(request)
    form = SearchForm(request.GET)
    context: dict = {
        "form": form,
        "query": "",
        "response": None,
        "error": None,
        "accepts_photos": accepts_photos(),
    }
    if not form.is_valid():
        context["error"] = (
            "That photo search link is not valid — upload the photo again."
            if "photo" in form.errors
            else "That page number is not one we have."
        )
        return render(request, "search/results.html", context, status=400)
    query, truncated = normalise_query(request.GET.get("q", ""))
    context["query"] = query
    context["query_truncated"] = truncated
    key = form.cleaned_data["photo"] or ""
    try:
        refinement = Refinement.from_query(request.GET)
        filters = refinement.filters()
    except InvalidSearch as exc:
        context["error"] = _sentence(exc)
        context["photo_key"] = key
        context["unfiltered_url"] = query_string(base_params(key, query))
        return render(request, "search/results.html", context, status=400)
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
    if not query and photo is None:
        return render(request, "search/results.html", context)
    page = form.cleaned_data["page"] or 1
    search = SearchRequest(
        query=query,
        photo=photo,
        page=page,
        page_size=settings.SEARCH_PAGE_SIZE,
        mode=refinement.mode,
        filters=filters,
        sort=refinement.sort,
    )
    try:
        response = search_products(search)
    except InvalidSearch as exc:
        context["error"] = _sentence(exc)
        context["photo_key"] = ""  # the search boxes drop the photo the model cannot read
        context["photo_refused"] = photo is not None
        return render(request, "search/results.html", context, status=400)
    except SearchUnavailable as exc:
        context["error"] = f"Search is warming up: {exc}."
        return render(request, "search/results.html", context, status=503)
    response.query_truncated = truncated
    context["response"] = response
    context["pages"] = range(1, response.num_pages + 1)
    context.update(refine_context(search, response, refinement, base_params(key, query)))
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
            "accepts_photos": accepts_photos(),
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


@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    healthy, report = health_report()
    return JsonResponse(report, status=200 if healthy else 503)
