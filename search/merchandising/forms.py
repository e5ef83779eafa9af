"""The admin's forms for synonyms and rules, in the merchandiser's words: a rule's pins and
boosts are lines of text ("MUG-050 1", "brand Stride 1.5"). The checks are the services'
(the API's), their messages put on the fields they name."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.postgres.forms import SimpleArrayField

from search.merchandising.models import MerchandisingRule, SynonymSet
from search.merchandising.rule_writes import RuleInvalid, check_rule
from search.merchandising.synonyms import SynonymsInvalid, check_synonym_set

# The API's field names -> the form's.
_RULE_FIELDS = {"pin": "pins_text", "boost": "boosts_text", "hide": "hides", "detail": None}


class SynonymSetForm(forms.ModelForm):
    terms = SimpleArrayField(
        forms.CharField(max_length=200),
        help_text="comma-separated, e.g. sneakers, trainers, running shoes",
    )

    class Meta:
        model = SynonymSet
        fields = ["source", "terms"]
        labels = {"source": "one-way from"}

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if self.errors:
            return cleaned
        source, terms = cleaned.get("source", ""), cleaned.get("terms") or []
        data = {"from": source, "to": terms} if source.strip() else {"terms": terms}
        try:
            fields = check_synonym_set(data, instance=self.instance)
        except SynonymsInvalid as exc:
            for field, messages in exc.errors.items():
                target = {"from": "source", "to": "terms"}.get(field, field)
                self.add_error(target if target in self.fields else None, messages)
            return cleaned
        self.checked = data
        cleaned["source"], cleaned["terms"] = fields.source, fields.terms
        return cleaned


def rule_data_from_form(post: Any) -> dict[str, Any]:
    """The API's shape of a rule from the admin form's values (raw POST or cleaned data):
    pins "SKU place" and boosts "brand|category|attribute VALUE FACTOR", one per line."""
    pins, boosts = [], []
    for line in str(post.get("pins_text") or "").splitlines():
        if line.strip():
            sku, _, place = line.strip().rpartition(" ")
            pins.append({"sku": sku.strip() or place, "position": _number(place, int)})
    for line in str(post.get("boosts_text") or "").splitlines():
        if line.strip():
            kind, _, rest = line.strip().partition(" ")
            value, _, factor = rest.strip().rpartition(" ")
            boosts.append({kind.lower(): value.strip(), "factor": _number(factor, float)})
    hides = post.get("hides") or ""
    if isinstance(hides, str):
        hides = [h.strip() for h in hides.split(",") if h.strip()]
    return {
        "name": post.get("name") or "",
        "match": post.get("match") or "exact",
        "query": post.get("query") or "",
        "category": post.get("category") or "",
        "pin": pins,
        "hide": list(hides),
        "boost": boosts,
        "redirect": post.get("redirect") or "",
        "starts_at": post.get("starts_at") or _joined(post, "starts_at"),
        "ends_at": post.get("ends_at") or _joined(post, "ends_at"),
        "enabled": post.get("enabled") in (True, "on", "true", "1"),
    }


def _joined(post: Any, name: str) -> str | None:
    """The admin's split date and time inputs (name_0, name_1) as one ISO text."""
    day, time = post.get(f"{name}_0"), post.get(f"{name}_1")
    return f"{day}T{time or '00:00:00'}" if day else None


def _number(text: str, kind: type) -> Any:
    try:
        return kind(text)
    except ValueError:
        return text  # the check says what is wrong with it


class MerchandisingRuleForm(forms.ModelForm):
    pins_text = forms.CharField(
        label="Pins", required=False, widget=forms.Textarea(attrs={"rows": 3}),
        help_text="one per line: SKU and place (1 = first), e.g. MUG-050 1",
    )  # fmt: skip
    boosts_text = forms.CharField(
        label="Boosts", required=False, widget=forms.Textarea(attrs={"rows": 3}),
        help_text="one per line: brand, category or attribute, what, factor from 0.5 (bury) "
        "to 2 (boost), e.g. brand Stride 1.5 / category footwear/boots 0.5 / attribute "
        "color:red 2",
    )  # fmt: skip
    hides = forms.CharField(
        required=False, help_text="comma-separated SKUs never shown for the query"
    )

    class Meta:
        model = MerchandisingRule
        fields = [
            "name", "enabled", "match", "query", "category", "pins_text", "hides",
            "boosts_text", "redirect", "starts_at", "ends_at",
        ]  # fmt: skip

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        rule = self.instance
        if rule.pk and not self.is_bound:
            self.initial["pins_text"] = "\n".join(f"{p['sku']} {p['position']}" for p in rule.pins)
            self.initial["hides"] = ", ".join(rule.hides)
            self.initial["boosts_text"] = "\n".join(
                f"{k} {b[k]} {b['factor']:g}" for b in rule.boosts for k in b if k != "factor"
            )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if self.errors:
            return cleaned
        self.checked = rule_data_from_form(cleaned)
        try:
            check_rule(self.checked)
        except RuleInvalid as exc:
            for field, messages in exc.errors.items():
                target = _RULE_FIELDS.get(field, field)
                self.add_error(target if target in self.fields else None, messages)
        return cleaned
