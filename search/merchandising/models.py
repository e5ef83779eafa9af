"""The merchandiser's tables: synonym sets and query rules. Written only through
search.merchandising.synonyms / .rules (which check them and tell every process)."""

from __future__ import annotations

from django.contrib.postgres.fields import ArrayField
from django.db import models


class SynonymSet(models.Model):
    """Words that mean the same to the shop. Multi-way (`source` empty): every term finds the
    others ("sneakers, trainers, running shoes"). One-way: `source` finds `terms`, not the
    other way round ("iphone case" -> "phone case"). Terms are kept lower-cased."""

    source = models.CharField(
        max_length=100, blank=True, help_text="one-way only: the words a shopper types"
    )
    terms = ArrayField(
        models.CharField(max_length=100),
        help_text="comma-separated: the set's terms (multi-way) or what `source` also finds",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        if self.source:
            return f"{self.source} -> {', '.join(self.terms)}"
        return ", ".join(self.terms)

    @property
    def one_way(self) -> bool:
        return bool(self.source)


class MerchandisingRule(models.Model):
    """What to do with the results of some queries: pin products at places, hide products,
    boost or bury products by brand, category or attribute, or redirect to a page. Acts last
    in the pipeline (search.merchandising.rules)."""

    class Match(models.TextChoices):
        EXACT = "exact", "the query is exactly"
        CONTAINS = "contains", "the query contains the phrase"
        CATEGORY = "category", "any query in the category"

    name = models.CharField(max_length=200, blank=True)
    match = models.CharField(max_length=10, choices=Match.choices, default=Match.EXACT)
    query = models.CharField(
        max_length=200, blank=True, help_text="normalised: lower case, words split by spaces"
    )
    category = models.CharField(
        max_length=1000, blank=True, help_text='a category path ("footwear/sneakers")'
    )
    pins = models.JSONField(default=list, blank=True, help_text='[{"sku": ..., "position": 1}]')
    hides = ArrayField(models.CharField(max_length=200), default=list, blank=True)
    boosts = models.JSONField(
        default=list, blank=True, help_text='[{"brand"|"category"|"attribute": ..., "factor": 1.5}]'
    )
    redirect = models.CharField(max_length=2000, blank=True)
    starts_at = models.DateTimeField(null=True, blank=True)
    ends_at = models.DateTimeField(null=True, blank=True)
    enabled = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        verbose_name = "merchandising rule"

    def __str__(self) -> str:
        what = self.category if self.match == self.Match.CATEGORY else self.query
        return self.name or f"{self.get_match_display()} {what!r}"
