"""The admin's preview of a merchandising rule: the storefront's first page for the rule's
query with the rule as written in its form (saved or not), shown in a frame on the rule's
page. Thin: the form's values are checked as a save would check them
(search.merchandising.rule_writes) and the search is search_products' own."""

from __future__ import annotations

from csp.constants import SELF
from csp.decorators import csp_replace
from django.contrib.admin.views.decorators import staff_member_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.http import require_POST

from search.merchandising.forms import rule_data_from_form
from search.merchandising.rule_writes import RuleInvalid, draft_rule
from search.merchandising.rules import previewing
from search.query import SearchFilters, SearchRequest, normalise_query
from search.services import SearchUnavailable, search_products
from search.types import RuleStage


# Shown in a frame on the rule's admin page: this one page may be framed by the site itself
# (the shop's policy forbids framing everywhere else).
@xframe_options_sameorigin
@csp_replace({"frame-ancestors": [SELF]})
@staff_member_required
@require_POST
def rule_preview(request: HttpRequest) -> HttpResponse:
    rule_id = request.GET.get("rule", "")
    try:
        draft = draft_rule(
            rule_data_from_form(request.POST), rule_id=int(rule_id) if rule_id.isdigit() else None
        )
    except RuleInvalid as exc:
        return render(request, "admin/merchandising/preview.html", {"errors": exc.errors})
    query, _ = normalise_query(request.POST.get("preview_query", "") or draft.query)
    category = draft.category if draft.match == "category" else ""
    context = {"query": query, "category": category, "redirect": draft.redirect}
    if draft.redirect or not query:
        return render(request, "admin/merchandising/preview.html", context)
    search = SearchRequest(
        query=query, filters=SearchFilters(category=category or None), explain=True
    )
    try:
        with previewing(draft, replacing=draft.id):
            response = search_products(search)
    except SearchUnavailable as exc:
        context["errors"] = {"search": [str(exc)]}
        return render(request, "admin/merchandising/preview.html", context)
    context["response"] = response
    context["items"] = [{"hit": hit, "effect": _effect(hit)} for hit in response.results]
    return render(request, "admin/merchandising/preview.html", context)


def _effect(hit) -> str:
    stage = next(
        (
            s
            for s in (hit.explanation.stages if hit.explanation else ())
            if isinstance(s, RuleStage)
        ),
        None,
    )
    return stage.action if stage else ""
