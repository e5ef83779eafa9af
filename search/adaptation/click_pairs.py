"""Shoppers' clicks as training pairs: (query, product) pairs weighted by what the clicks say
once corrected for position, with the products shoppers examined and skipped as negatives.

The evidence is the click signal's (search.insights.clicks): per query and product, clicks
and examinations under the cascade model, where a result was examined exactly when the
search's last click was at or below it. That is an examination probability of 1 above the
last click and 0 below, so clicks / examinations is the inverse-propensity estimate of the
click rate (each click divided by the probability that its result was examined; results
never examined are left out instead of counted as rejections). The same smoothing as the
ranking's boost (a Beta prior at the query's own rate, VITRINE_CLICK_MIN_VISITORS distinct
visitors at least) turns it into Yule's Q in (-1, 1) against the query's average result:

- Q > 0: the product is a positive for the query, drawn CLICK_WEIGHT * Q times as often as
  one pseudo-query (a strongly preferred click counts double: it is a real shopper's words);
- Q < 0: examined and skipped more than the query's average result: a hard negative for
  that query's positives.
"""

from __future__ import annotations

from collections import defaultdict

from django.conf import settings
from django.db.models import Sum

from search.adaptation.pseudo_queries import TrainingPair
from search.insights.clicks import Evidence, signal
from search.insights.models import ClickSignal

CLICK_WEIGHT = 2.0
MAX_NEGATIVES = 3


def click_pairs(*, product_ids: set[int], min_visitors: int | None = None) -> list[TrainingPair]:
    """Positive click pairs of the products in `product_ids`, with skipped ones as negatives."""
    min_visitors = settings.VITRINE_CLICK_MIN_VISITORS if min_visitors is None else min_visitors
    rows = list(
        ClickSignal.objects.exclude(normalised_query="")
        .filter(product_id__in=product_ids)
        .values_list("normalised_query", "product_id", "clicks", "examinations", "visitors")
    )
    if not rows:
        return []
    rates = {
        query: (c / e if e else 0.0)
        for query, c, e in ClickSignal.objects.filter(normalised_query__in={r[0] for r in rows})
        .values("normalised_query")
        .annotate(c=Sum("clicks"), e=Sum("examinations"))
        .values_list("normalised_query", "c", "e")
    }
    preferred: dict[str, list[tuple[float, int]]] = defaultdict(list)
    skipped: dict[str, list[tuple[float, int]]] = defaultdict(list)
    for query, pid, clicks, examinations, visitors in rows:
        evidence = Evidence(
            clicks=clicks,
            examinations=examinations,
            expected=rates.get(query, 0.0) * examinations,
            visitors=visitors,
        )
        q = signal(evidence, min_visitors=min_visitors)
        if q > 0:
            preferred[query].append((q, pid))
        elif q < 0:
            skipped[query].append((q, pid))
    pairs = []
    for query, found in sorted(preferred.items()):
        negatives = tuple(pid for _, pid in sorted(skipped.get(query, []))[:MAX_NEGATIVES])
        for q, pid in sorted(found, key=lambda f: (-f[0], f[1])):
            pairs.append(
                TrainingPair(
                    query=query,
                    product_id=pid,
                    negatives=negatives,
                    weight=round(CLICK_WEIGHT * q, 4),
                    kind="click",
                )
            )
    return pairs
