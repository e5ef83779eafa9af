"""The admin's synonyms (list, editor, CSV import and export) and rules (editor with a
preview of the storefront's results, a list filterable by live now). Thin: the forms check
through the services, and saves and deletes go through them (so every process hears)."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone

from search.merchandising.forms import MerchandisingRuleForm, SynonymSetForm
from search.merchandising.models import MerchandisingRule, SynonymSet
from search.merchandising.rule_writes import delete_rule, save_rule
from search.merchandising.synonyms import (
    SynonymsInvalid,
    delete_synonym_set,
    export_csv,
    import_csv,
    save_synonym_set,
)


@admin.register(SynonymSet)
class SynonymSetAdmin(admin.ModelAdmin):
    form = SynonymSetForm
    list_display = ("__str__", "kind", "updated_at")
    search_fields = ("source", "terms")
    actions = ["export_csv"]
    change_list_template = "admin/merchandising/synonymset/change_list.html"

    @admin.display(description="kind")
    def kind(self, obj: SynonymSet) -> str:
        return "one-way" if obj.one_way else "multi-way"

    def save_model(self, request, obj, form, change) -> None:
        saved = save_synonym_set(data=form.checked, instance=obj if change else None)
        obj.pk = saved.pk

    def delete_model(self, request, obj) -> None:
        delete_synonym_set(synonym_set=obj)

    def delete_queryset(self, request, queryset: QuerySet) -> None:
        for synonym_set in queryset:
            delete_synonym_set(synonym_set=synonym_set)

    @admin.action(description="Export the selected sets as CSV")
    def export_csv(self, request: HttpRequest, queryset: QuerySet) -> HttpResponse:
        response = HttpResponse(export_csv(queryset.order_by("id")), content_type="text/csv")
        response["Content-Disposition"] = 'attachment; filename="synonyms.csv"'
        return response

    def get_urls(self):
        view = self.admin_site.admin_view(self.import_view)
        return [path("import/", view, name="search_synonymset_import"), *super().get_urls()]

    def import_view(self, request: HttpRequest) -> HttpResponse:
        """Upload a CSV (as the export writes it): all its sets are added, or none."""
        if request.method == "POST" and request.FILES.get("file"):
            try:
                text = request.FILES["file"].read(5_000_001).decode("utf-8-sig")
                added = import_csv(text=text)
            except UnicodeDecodeError:
                messages.error(request, "The CSV must be UTF-8 text.")
            except SynonymsInvalid as exc:
                messages.error(request, f"Nothing was imported: {exc}")
            else:
                messages.success(request, f"{added} synonym sets added.")
                return HttpResponseRedirect(reverse("admin:search_synonymset_changelist"))
        context = {**self.admin_site.each_context(request), "opts": self.model._meta}
        context["title"] = "Import synonyms from CSV"
        return TemplateResponse(request, "admin/merchandising/synonymset/import.html", context)


class LiveFilter(admin.SimpleListFilter):
    title = "live now"
    parameter_name = "live"

    def lookups(self, request, model_admin):
        return [("yes", "acting now (enabled, inside its window)"), ("no", "not acting now")]

    def queryset(self, request, queryset):
        now = timezone.now()
        live = (
            Q(enabled=True)
            & (Q(starts_at__isnull=True) | Q(starts_at__lte=now))
            & (Q(ends_at__isnull=True) | Q(ends_at__gt=now))
        )
        if self.value() == "yes":
            return queryset.filter(live)
        if self.value() == "no":
            return queryset.exclude(live)
        return queryset


@admin.register(MerchandisingRule)
class MerchandisingRuleAdmin(admin.ModelAdmin):
    form = MerchandisingRuleForm
    list_display = ("__str__", "match", "matches", "does", "enabled", "starts_at", "ends_at")
    list_filter = (LiveFilter, "enabled", "match")
    search_fields = ("name", "query", "category")
    change_form_template = "admin/merchandising/merchandisingrule/change_form.html"

    @admin.display(description="query or category")
    def matches(self, obj: MerchandisingRule) -> str:
        return obj.category if obj.match == MerchandisingRule.Match.CATEGORY else obj.query

    @admin.display(description="does")
    def does(self, obj: MerchandisingRule) -> str:
        parts = [f"pin {p['sku']} at {p['position']}" for p in obj.pins]
        parts += [f"hide {sku}" for sku in obj.hides]
        parts += [
            f"{'boost' if b['factor'] > 1 else 'bury'} {k} {b[k]}"
            for b in obj.boosts
            for k in b
            if k != "factor"
        ]
        parts += [f"redirect to {obj.redirect}"] if obj.redirect else []
        return "; ".join(parts)

    def save_model(self, request, obj, form, change) -> None:
        saved = save_rule(data=form.checked, instance=obj if change else None)
        obj.pk = saved.pk

    def delete_model(self, request, obj) -> None:
        delete_rule(rule=obj)

    def delete_queryset(self, request, queryset: QuerySet) -> None:
        for rule in queryset:
            delete_rule(rule=rule)
