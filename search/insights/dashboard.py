"""The admin's "Search insights" page and its CSV export, for staff. Thin: the period and
table parameters are parsed by search.insights.periods, the numbers come from
search.insights.selectors (the JSON endpoints read the same functions).

It hangs off the InsightsDay model's admin (registered in search/admin.py), whose list is
replaced by the dashboard: /admin/search/insightsday/ and .../queries.csv."""

from __future__ import annotations

import io
from datetime import UTC
from urllib.parse import urlencode

from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import path
from django.utils import timezone

from search.insights import selectors
from search.insights.charts import searches_chart
from search.insights.exports import write_query_table_csv
from search.insights.periods import (
    ORDERS,
    InvalidInsightsParams,
    parse_limit,
    parse_order,
    period_from_params,
)

TABLE_ROWS = 50
LIST_ROWS = 20
CSV_MAX_ROWS = 10_000


class InsightsDashboardAdmin(admin.ModelAdmin):
    """Every staff user may read the insights (as the JSON endpoints allow); nobody edits
    rollups by hand."""

    def has_module_permission(self, request: HttpRequest) -> bool:
        return request.user.is_active and request.user.is_staff

    def has_view_permission(self, request: HttpRequest, obj=None) -> bool:
        return self.has_module_permission(request)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def get_urls(self) -> list:
        wrap = self.admin_site.admin_view
        info = self.opts.app_label, self.opts.model_name
        return [
            path("", wrap(self.dashboard_view), name="search_insights"),
            # The name the admin index links the model by, so "Insights days" opens it too.
            path("", wrap(self.dashboard_view), name="{}_{}_changelist".format(*info)),
            path("queries.csv", wrap(self.csv_view), name="search_insights_csv"),
        ]

    def dashboard_view(self, request: HttpRequest) -> TemplateResponse:
        params = request.GET
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": "Search insights",
            "orders": ORDERS,
            "params": {k: params.get(k, "") for k in ("period", "from", "to", "order")},
            "today": timezone.now().astimezone(UTC).date(),
        }
        try:
            period = period_from_params(params)
            order = parse_order(params.get("order"))
        except InvalidInsightsParams as exc:
            context["error"] = {"param": exc.param, "message": str(exc)}
            return TemplateResponse(request, "admin/insights/dashboard.html", context, status=400)
        summary = selectors.insights_summary(period=period)
        context.update(
            period=period,
            order=order,
            summary=summary,
            chart=searches_chart(series=summary.series, unit=summary.series_unit),
            queries=selectors.query_table(period=period, order=order, limit=TABLE_ROWS),
            zero_result=selectors.zero_result_queries(period=period, limit=LIST_ROWS),
            unclicked=selectors.unclicked_queries(period=period, limit=LIST_ROWS),
            slowest=selectors.slowest_queries(period=period, limit=LIST_ROWS),
            products=selectors.top_clicked_products(period=period, limit=LIST_ROWS),
            period_query=_period_query(params),
            min_searches_for_latency=selectors.MIN_SEARCHES_FOR_LATENCY,
        )
        return TemplateResponse(request, "admin/insights/dashboard.html", context)

    def csv_view(self, request: HttpRequest) -> HttpResponse:
        try:
            period = period_from_params(request.GET)
            order = parse_order(request.GET.get("order"))
            limit = parse_limit(
                request.GET.get("limit"), default=CSV_MAX_ROWS, maximum=CSV_MAX_ROWS
            )
        except InvalidInsightsParams as exc:
            return HttpResponse(
                f"{exc.param}: {exc}", status=400, content_type="text/plain; charset=utf-8"
            )
        rows = selectors.query_table(period=period, order=order, limit=limit)
        out = io.StringIO()
        write_query_table_csv(rows=rows, out=out)
        name = f"search-queries-{period.first_day}-{period.last_day}-{period.key}-{order}.csv"
        response = HttpResponse(out.getvalue(), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response


def _period_query(params) -> str:
    """The period's own parameters, for links that keep it (order headers, CSV)."""
    return urlencode({k: params[k] for k in ("period", "from", "to") if params.get(k)})
