"""Checking and saving merchandising rules, for the API and the admin alike: one shape
(`RULE_FIELDS`), one set of checks, every message naming its field; a rule is saved whole
in one transaction or not at all, and every process sees it within seconds."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from catalog.models import Category, Product
from search.merchandising.models import MerchandisingRule
from search.merchandising.rules import (
    MAX_FACTOR,
    MIN_FACTOR,
    CompiledRule,
    normalise_rule_query,
    rules_copy,
)
from search.merchandising.versions import changed

RULE_FIELDS = (
    "name", "query", "match", "category", "pin", "hide", "boost", "redirect",
    "starts_at", "ends_at", "enabled",
)  # fmt: skip
MAX_PIN_POSITION = 100  # five pages: past that a pin is nobody's first impression
MAX_PINS = 20
MAX_HIDES = 200
MAX_BOOSTS = 20
MAX_QUERY_CHARS = 200
MAX_REDIRECT_CHARS = 2000

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class RuleInvalid(ValueError):
    """A rule that cannot be saved as sent: `errors` maps a field to its messages."""

    def __init__(self, errors: dict[str, list[str]]):
        super().__init__("; ".join(f"{k}: {' '.join(v)}" for k, v in errors.items()))
        self.errors = errors


def _fail(field: str, message: str) -> RuleInvalid:
    return RuleInvalid({field: [message]})


def _text(data: Mapping, field: str, longest: int) -> str:
    value = data.get(field)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise _fail(field, "must be text")
    if _CONTROL.search(value):
        raise _fail(field, "may not hold control characters")
    value = value.strip()
    if len(value) > longest:
        raise _fail(field, f"is at most {longest} characters")
    return value


def _list(data: Mapping, field: str, most: int) -> list:
    value = data.get(field)
    if value is None:
        return []
    if not isinstance(value, list):
        raise _fail(field, "give a list")
    if len(value) > most:
        raise _fail(field, f"at most {most} per rule")
    return value


def _category(path: str, field: str) -> str:
    path = path.strip().strip("/").lower()
    if not Category.objects.filter(path=path).exists():
        raise _fail(field, f"no category has the path {path[:100]!r}")
    return path


def _skus(skus: list[str], field: str) -> None:
    known = set(Product.objects.filter(sku__in=skus).values_list("sku", flat=True))
    missing = [s for s in skus if s not in known]
    if missing:
        raise _fail(field, f"no product has the SKU {', '.join(repr(s) for s in missing[:5])}")


def _pins(data: Mapping) -> list[dict]:
    pins, skus, places = [], set(), set()
    for pin in _list(data, "pin", MAX_PINS):
        if not isinstance(pin, Mapping) or set(pin) != {"sku", "position"}:
            raise _fail("pin", 'each pin is {"sku": ..., "position": 1}')
        sku, place = pin["sku"], pin["position"]
        if not isinstance(sku, str) or not sku.strip() or _CONTROL.search(sku):
            raise _fail("pin", "each pin's sku must be text")
        if isinstance(place, bool) or not isinstance(place, int):
            raise _fail("pin", f"the position of {sku!r} must be a whole number")
        if not 1 <= place <= MAX_PIN_POSITION:
            raise _fail("pin", f"a position is from 1 to {MAX_PIN_POSITION}, not {place}")
        if sku in skus or place in places:
            raise _fail("pin", f"the SKU {sku!r} or the position {place} is pinned twice")
        skus.add(sku)
        places.add(place)
        pins.append({"sku": sku.strip(), "position": place})
    _skus([p["sku"] for p in pins], "pin")
    return pins


def _hides(data: Mapping) -> list[str]:
    hides = []
    for sku in _list(data, "hide", MAX_HIDES):
        if not isinstance(sku, str) or not sku.strip() or _CONTROL.search(sku):
            raise _fail("hide", "each hidden SKU must be text")
        if sku.strip() not in hides:
            hides.append(sku.strip())
    _skus(hides, "hide")
    return hides


def _boosts(data: Mapping) -> list[dict]:
    boosts = []
    for boost in _list(data, "boost", MAX_BOOSTS):
        kinds = [
            k
            for k in ("brand", "category", "attribute")
            if isinstance(boost, Mapping) and k in boost
        ]
        if not isinstance(boost, Mapping) or len(kinds) != 1 or set(boost) != {kinds[0], "factor"}:
            raise _fail(
                "boost", 'each boost is {"brand"|"category"|"attribute": ..., "factor": 1.5}'
            )
        kind, value, factor = kinds[0], boost[kinds[0]], boost["factor"]
        if not isinstance(value, str) or not value.strip() or _CONTROL.search(value):
            raise _fail("boost", f"the {kind} to boost must be text")
        value = value.strip()[:300]
        if kind == "category":
            value = _category(value, "boost")
        if kind == "attribute":
            name, sep, wanted = value.partition(":")
            if not sep or not name.strip() or not wanted.strip():
                raise _fail("boost", f"an attribute boost is name:value, not {value[:50]!r}")
        if isinstance(factor, bool) or not isinstance(factor, int | float):
            raise _fail("boost", "a factor is a number")
        if not MIN_FACTOR <= factor <= MAX_FACTOR:
            raise _fail(
                "boost",
                f"a factor is from {MIN_FACTOR} (bury) to {MAX_FACTOR} (boost), not {factor}",
            )
        boosts.append({kind: value, "factor": float(factor)})
    return boosts


def check_redirect(value: str) -> str:
    """Only http(s) URLs or paths of this site ("/help/returns")."""
    if not value:
        return ""
    if any(c.isspace() for c in value) or "\\" in value:
        raise _fail("redirect", "a redirect may not hold spaces or backslashes")
    if value.startswith("/"):
        if value.startswith("//"):
            raise _fail("redirect", "give a path of this site (/help) or a full http(s) URL")
        return value
    parts = urlsplit(value)
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        raise _fail(
            "redirect", "a redirect goes to an http(s) URL or a path of this site like /help"
        )
    return value


def _moment(data: Mapping, field: str) -> datetime | None:
    value = data.get(field)
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, str):
        try:
            moment = parse_datetime(value.strip())
        except ValueError:
            moment = None
        if moment is None:
            raise _fail(
                field, f"give a date and time like 2026-12-24T18:00:00Z, not {value[:40]!r}"
            )
    else:
        raise _fail(field, "give a date and time like 2026-12-24T18:00:00Z")
    return moment if timezone.is_aware(moment) else timezone.make_aware(moment)


def check_rule(data: Mapping[str, Any]) -> dict[str, Any]:
    """The model's field values for a rule sent as `RULE_FIELDS` (see the API's docs).
    Raises RuleInvalid: unknown keys, a missing query or category, a pin of a missing SKU,
    a place < 1 or > MAX_PIN_POSITION, a factor out of bounds, a redirect to another scheme,
    an end before the start, a rule that does nothing."""
    if not isinstance(data, Mapping):
        raise _fail("detail", "send the rule as an object")
    unknown = sorted(set(data) - set(RULE_FIELDS))
    if unknown:
        raise RuleInvalid({k: ["unknown field"] for k in unknown})
    match = data.get("match") or "exact"
    if match not in MerchandisingRule.Match.values:
        raise _fail("match", f"match is one of {', '.join(MerchandisingRule.Match.values)}")
    query = normalise_rule_query(_text(data, "query", MAX_QUERY_CHARS))
    category = _text(data, "category", 1000)
    if match == "category":
        if not category:
            raise _fail("category", "a category rule needs a category path")
        category = _category(category, "category")
    elif not query:
        raise _fail("query", "give the query (words) the rule matches")
    enabled = data.get("enabled", True)
    if not isinstance(enabled, bool):
        raise _fail("enabled", "enabled is true or false")
    fields = {
        "name": _text(data, "name", 200),
        "match": match,
        "query": query if match != "category" else "",
        "category": category if match == "category" else "",
        "pins": _pins(data),
        "hides": _hides(data),
        "boosts": _boosts(data),
        "redirect": check_redirect(_text(data, "redirect", MAX_REDIRECT_CHARS)),
        "starts_at": _moment(data, "starts_at"),
        "ends_at": _moment(data, "ends_at"),
        "enabled": enabled,
    }
    if fields["starts_at"] and fields["ends_at"] and fields["ends_at"] <= fields["starts_at"]:
        raise _fail("ends_at", "the rule ends before it starts")
    acts = fields["pins"] or fields["hides"] or fields["boosts"]
    if fields["redirect"] and acts:
        raise _fail("redirect", "a redirect shows no results: it cannot also pin, hide or boost")
    if not (acts or fields["redirect"]):
        raise _fail("detail", "a rule must pin, hide, boost or redirect")
    return fields


def rule_data(rule: MerchandisingRule) -> dict[str, Any]:
    """A rule as the API shows it (and as `check_rule` reads it back)."""
    return {
        "id": rule.pk,
        "name": rule.name,
        "match": rule.match,
        "query": rule.query,
        "category": rule.category,
        "pin": list(rule.pins),
        "hide": list(rule.hides),
        "boost": list(rule.boosts),
        "redirect": rule.redirect or None,
        "starts_at": rule.starts_at.isoformat() if rule.starts_at else None,
        "ends_at": rule.ends_at.isoformat() if rule.ends_at else None,
        "enabled": rule.enabled,
    }


def save_rule(
    *, data: Mapping[str, Any], instance: MerchandisingRule | None = None
) -> MerchandisingRule:
    """Check and save a rule whole (a new one, or `instance` replaced by `data`)."""
    fields = check_rule(data)
    with transaction.atomic():
        rule = instance or MerchandisingRule()
        for name, value in fields.items():
            setattr(rule, name, value)
        rule.save()
        changed(rules_copy())
    return rule


def update_rule(*, rule: MerchandisingRule, changes: Mapping[str, Any]) -> MerchandisingRule:
    """PATCH: the rule with these fields changed, checked whole."""
    if not isinstance(changes, Mapping):
        raise _fail("detail", "send the changes as an object")
    current = {k: v for k, v in rule_data(rule).items() if k != "id"}
    return save_rule(data={**current, **changes}, instance=rule)


def delete_rule(*, rule: MerchandisingRule) -> None:
    with transaction.atomic():
        rule.delete()
        changed(rules_copy())


def draft_rule(data: Mapping[str, Any], *, rule_id: int | None) -> CompiledRule:
    """A rule checked as `save_rule` would, not saved: what the admin's preview applies."""
    fields = check_rule(data)
    draft = MerchandisingRule(pk=rule_id, **fields)
    return CompiledRule.of(draft)
