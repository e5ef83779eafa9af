"""Storefront search pages and /healthz. Thin: parse, call the service, render."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache

from catalog.selectors import products_with_photos
from search.health import health_report
from search.services import SearchRequest, SearchUnavailable, normalise_query, search_products


class SearchForm(forms.Form):
    # The query itself is read raw: normalise_query strips what a form field would refuse.
    page = forms.IntegerField(required=False, min_value=1, max_value=10_000)


def home(request: HttpRequest) -> HttpResponse:
    featured = products_with_photos().filter(active=True).order_by("-updated_at")[:12]
    return render(request, "search/home.html", {"featured": featured})


def search_page(request: HttpRequest) -> HttpResponse:
    form = SearchForm(request.GET)
    context: dict = {"form": form, "query": "", "response": None, "error": None}
    if not form.is_valid():
        context["error"] = "That page number is not one we have."
        return render(request, "search/results.html", context, status=400)
    query, truncated = normalise_query(request.GET.get("q", ""))
    context["query"] = query
    context["query_truncated"] = truncated
    if not query:
        return render(request, "search/results.html", context)
    page = form.cleaned_data["page"] or 1
    try:
        response = search_products(
            SearchRequest(query=query, page=page, page_size=settings.SEARCH_PAGE_SIZE)
        )
    except SearchUnavailable as exc:
        context["error"] = f"Search is warming up: {exc}."
        return render(request, "search/results.html", context, status=503)
    response.query_truncated = truncated
    context["response"] = response
    context["pages"] = range(1, response.num_pages + 1)
    return render(request, "search/results.html", context)


@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    healthy, report = health_report()
    return JsonResponse(report, status=200 if healthy else 503)
