"""Merchandising rules: the merchandiser's last word on a query's results.

A rule matches a search when it is enabled, inside its time window (`starts_at` <= now <
`ends_at`, either open) and its query matches: `exact` (the normalised query is the rule's:
lower case, words only, "Gift!" is "gift"), `contains` (the query holds the rule's phrase as
whole words) or `category` (any query filtered to the rule's category or below).

Several rules compose in one documented order. The matching rules are taken most specific
first (exact, then contains with longer phrases first, then category with deeper paths
first), then by id. A redirect wins: the most specific matching redirect answers, with no
results. Otherwise every matching rule acts, in three steps over the ranked list that fusion,
click boosts and the rerank made:

1. hides: every hidden SKU leaves the list (a hide beats a pin: a hidden product is never
   shown for the query);
2. boosts and burials: each product's factor is the product of the factors of the boosts it
   matches (brand, category and below, or attribute name:value), bounded to
   [MIN_FACTOR, MAX_FACTOR]; the list is re-sorted by factor / (BOOST_PLACES + place), so a
   product at place r moves to about (BOOST_PLACES + r) / factor - BOOST_PLACES: a factor
   of 2 lifts the first page's products to the top and place 60 to 20, a factor of 0.5
   sinks place 1 to 22; ties keep their order;
3. pins: each pinned SKU goes to its place among the counted results (the first rule to
   claim a place or a SKU has it), when it is active and inside the shopper's filters (a
   pinned product outside the chosen brand, category, price or attributes is not shown).

What counts (search.retrieval.counting) is otherwise unchanged: a pinned product counts as
a result (the merchandiser put it there), a hidden one does not, and the facets count what
counts. Pins place products in relevance order; a shopper's sort by price sorts them with
the rest.

Rules are compiled per process and checked against a version token (search.merchandising.
versions); the results cache's key carries the matching rules themselves, so a change, or a
rule's window opening, shows on the next search."""

from __future__ import annotations

import contextlib
import re
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import DEFAULT_DB_ALIAS
from django.db.models import Q
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Lower
from django.utils import timezone

from catalog.models import Product
from search.merchandising.models import MerchandisingRule
from search.merchandising.versions import ProcessCopy
from search.query import SearchFilters, SearchRequest

MIN_FACTOR = 0.5
MAX_FACTOR = 2.0
# The places a boost's factor is spread over: about one page.
BOOST_PLACES = 20

_WORD = re.compile(r"\w+")
SPECIFICITY = {"exact": 3, "contains": 2, "category": 1}


def normalise_rule_query(text: str) -> str:
    """How rules compare queries: lower case, words only, single spaces."""
    return " ".join(_WORD.findall(text.lower()))


@dataclass(frozen=True)
class CompiledRule:
    id: int | None  # None: a draft being previewed
    name: str
    match: str
    query: str  # normalised
    category: str
    pins: tuple[tuple[str, int], ...] = ()  # (sku, place)
    hides: tuple[str, ...] = ()
    boosts: tuple[tuple[str, str, float], ...] = ()  # (brand|category|attribute, value, factor)
    redirect: str = ""
    starts_at: datetime | None = None
    ends_at: datetime | None = None

    @classmethod
    def of(cls, rule: MerchandisingRule) -> CompiledRule:
        boosts = []
        for boost in rule.boosts:
            kind = next(k for k in ("brand", "category", "attribute") if k in boost)
            boosts.append((kind, str(boost[kind]), float(boost["factor"])))
        return cls(
            id=rule.pk,
            name=rule.name,
            match=rule.match,
            query=normalise_rule_query(rule.query),
            category=rule.category.strip("/").lower(),
            pins=tuple((p["sku"], int(p["position"])) for p in rule.pins),
            hides=tuple(rule.hides),
            boosts=tuple(boosts),
            redirect=rule.redirect,
            starts_at=rule.starts_at,
            ends_at=rule.ends_at,
        )

    @property
    def specificity(self) -> tuple:
        depth = len(self.query.split()) if self.match != "category" else self.category.count("/")
        return (-SPECIFICITY[self.match], -depth, self.id if self.id is not None else -1)

    def is_live(self, now: datetime) -> bool:
        return (self.starts_at is None or self.starts_at <= now) and (
            self.ends_at is None or now < self.ends_at
        )

    def matches(self, words: str, filters: SearchFilters) -> bool:
        if self.match == "exact":
            return bool(words) and words == self.query
        if self.match == "contains":
            return bool(self.query) and f" {self.query} " in f" {words} "
        chosen = (filters.category or "").lower()
        return bool(chosen) and (chosen == self.category or chosen.startswith(self.category + "/"))

    def actions(self) -> list[str]:
        names = [("pin", self.pins), ("hide", self.hides), ("boost", self.boosts)]
        return [n for n, v in names if v] + (["redirect"] if self.redirect else [])

    def data(self) -> dict[str, Any]:
        """How a response names it (`applied_rules`)."""
        return {
            "id": self.id,
            "name": self.name,
            "match": self.match,
            "query": self.query if self.match != "category" else "",
            "category": self.category if self.match == "category" else "",
            "actions": self.actions(),
        }


def _load() -> tuple[CompiledRule, ...]:
    """The enabled rules (from the primary: a replica's lag must not be kept for a version)."""
    rows = MerchandisingRule.objects.using(DEFAULT_DB_ALIAS).filter(enabled=True)
    return tuple(CompiledRule.of(rule) for rule in rows.order_by("id"))


_compiled: ProcessCopy[tuple[CompiledRule, ...]] = ProcessCopy("rules", _load)
_drafts = threading.local()


def rules_copy() -> ProcessCopy:
    return _compiled


def forget_rules() -> None:
    """Tests: the tables were rolled back."""
    _compiled.forget()


@contextlib.contextmanager
def previewing(draft: CompiledRule, *, replacing: int | None) -> Iterator[None]:
    """Searches in this thread see `draft` as if saved (in place of rule `replacing`, the
    one being edited): the admin's preview shows a rule before it is saved."""
    _drafts.value = (draft, replacing)
    try:
        yield
    finally:
        _drafts.value = None


@dataclass(frozen=True)
class MatchedRules:
    """The rules that act on one search, most specific first."""

    rules: tuple[CompiledRule, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.rules)

    @property
    def redirect(self) -> CompiledRule | None:
        return next((r for r in self.rules if r.redirect), None)

    @property
    def key(self) -> tuple:
        """What the results cache's key carries: the rules themselves (their content)."""
        return tuple(repr(r) for r in self.rules)

    def data(self) -> list[dict[str, Any]]:
        return [r.data() for r in self.rules]


NO_RULES = MatchedRules()


def rules_for(request: SearchRequest, *, now: datetime | None = None) -> MatchedRules:
    """The enabled, live rules matching this search, in the order they compose."""
    rules = _compiled.get()
    draft = getattr(_drafts, "value", None)
    if draft is not None:
        rules = tuple(r for r in rules if r.id != draft[1]) + (draft[0],)
    if not rules:
        return NO_RULES
    now = now or timezone.now()
    words = normalise_rule_query(request.query)
    found = [r for r in rules if r.is_live(now) and r.matches(words, request.filters)]
    if not found:
        return NO_RULES
    return MatchedRules(tuple(sorted(found, key=lambda r: r.specificity)))


# --- Acting on a ranked list -----------------------------------------------------------------


@dataclass(frozen=True)
class RuleEffect:
    """What the rules did to one product: `action` "pinned", "boosted" or "buried", by
    which rules, and its place before them (None: the ranking did not hold it)."""

    action: str
    rules: tuple[int | None, ...]
    before: int | None


@dataclass
class RulesOutcome:
    order: list[int]
    counts: set[int]
    added: list[int] = field(default_factory=list)  # pinned products the ranking did not hold
    effects: dict[int, RuleEffect] = field(default_factory=dict)


def apply_rules(
    matched: MatchedRules, *, order: list[int], counts: set[int], filters: SearchFilters
) -> RulesOutcome:
    """Hides, then boosts, then pins (see the module's doc) over a ranked list; `counts`:
    the ids that count. At most two statements, only when a rule needs them."""
    outcome = RulesOutcome(order=list(order), counts=set(counts))
    if not matched:
        return outcome
    before = {pid: place for place, pid in enumerate(order, start=1)}
    rules = matched.rules
    skus = {s for r in rules for s in r.hides} | {s for r in rules for s, _ in r.pins}
    found = _products_by_sku(sorted(skus), filters) if skus else {}
    hidden = {found[s][0] for r in rules for s in r.hides if s in found}
    outcome.order = [pid for pid in outcome.order if pid not in hidden]
    outcome.counts -= hidden
    _boost(rules, outcome, before)
    pins: dict[int, tuple[int, int | None]] = {}  # place -> (product, rule)
    pinned: set[int] = set()
    for rule in rules:
        for sku, place in sorted(rule.pins, key=lambda p: p[1]):
            pid, shown = found.get(sku, (None, False))
            if pid is None or not shown or pid in hidden or pid in pinned or place in pins:
                continue
            pins[place] = (pid, rule.id)
            pinned.add(pid)
    if pins:
        outcome.order = [pid for pid in outcome.order if pid not in pinned]
        outcome.counts |= pinned
        for place in sorted(pins):
            pid, rule_id = pins[place]
            outcome.order.insert(_index_for(outcome.order, outcome.counts, place), pid)
            outcome.effects[pid] = RuleEffect("pinned", (rule_id,), before.get(pid))
        outcome.added = [pid for pid in pinned if pid not in before]
    return outcome


def _products_by_sku(skus: Sequence[str], filters: SearchFilters) -> dict[str, tuple[int, bool]]:
    """sku -> (product id, inside the shopper's filters and active): the filters as the
    legs apply them (search.retrieval.filters), in two small reads."""
    products = Product.objects.filter(sku__in=skus)
    ids = dict(products.values_list("sku", "id"))
    shown = products.filter(active=True)
    if filters.category:
        chosen = filters.category
        shown = shown.filter(Q(category__path=chosen) | Q(category__path__startswith=chosen + "/"))
    if filters.brands:
        shown = shown.annotate(_brand=Lower("brand")).filter(
            _brand__in=[b.lower() for b in filters.brands]
        )
    if filters.price_min is not None:
        shown = shown.filter(price__gte=filters.price_min)
    if filters.price_max is not None:
        shown = shown.filter(price__lte=filters.price_max)
    for i, (name, value) in enumerate(filters.attributes):
        field = f"_attr{i}"
        shown = shown.annotate(**{field: Lower(KeyTextTransform(name, "attributes"))}).filter(
            **{field: value.lower()}
        )
    inside = set(shown.values_list("id", flat=True))
    return {sku: (pid, pid in inside) for sku, pid in ids.items()}


def _boost(rules: Sequence[CompiledRule], outcome: RulesOutcome, before: dict[int, int]) -> None:
    boosts = [(rule.id, b) for rule in rules for b in rule.boosts]
    if not boosts or not outcome.order:
        return
    fields = Product.objects.filter(id__in=outcome.order).values_list(
        "id", "brand", "category__path", "attributes"
    )
    rows = {pid: (brand.lower(), path or "", attrs or {}) for pid, brand, path, attrs in fields}
    factors: dict[int, float] = {}
    by: dict[int, list[int | None]] = {}
    for pid in outcome.order:
        brand, path, attributes = rows.get(pid, ("", "", {}))
        factor = 1.0
        for rule_id, (kind, value, f) in boosts:
            if _boost_matches(kind, value, brand, path, attributes):
                factor *= f
                by.setdefault(pid, []).append(rule_id)
        if factor != 1.0:
            factors[pid] = min(MAX_FACTOR, max(MIN_FACTOR, factor))
    if not factors:
        return
    places = {pid: i for i, pid in enumerate(outcome.order, start=1)}
    outcome.order.sort(
        key=lambda pid: (-factors.get(pid, 1.0) / (BOOST_PLACES + places[pid]), places[pid])
    )
    for pid, factor in factors.items():
        action = "boosted" if factor > 1 else "buried"
        outcome.effects[pid] = RuleEffect(action, tuple(dict.fromkeys(by[pid])), before.get(pid))


def _boost_matches(kind: str, value: str, brand: str, path: str, attributes: dict) -> bool:
    if kind == "brand":
        return brand == value.lower()
    if kind == "category":
        wanted = value.strip("/").lower()
        return path == wanted or path.startswith(wanted + "/")
    name, _, wanted = value.partition(":")
    held = attributes.get(name.strip()) if isinstance(attributes, dict) else None
    return held is not None and str(held).lower() == wanted.strip().lower()


def _index_for(order: list[int], counts: set[int], place: int) -> int:
    """Where in `order` a product goes to be the `place`-th counted one (after the last
    counted product when there are fewer)."""
    counted = 0
    for i, pid in enumerate(order):
        if counted == place - 1:
            return i
        if pid in counts:
            counted += 1
    return len(order)
