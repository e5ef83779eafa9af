"""The derived search index. Everything here can be rebuilt from the catalog."""

from __future__ import annotations

from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVectorField
from django.db import models
from pgvector.django import HalfVectorField, SparseVectorField


class SearchIndex(models.Model):
    """One embedding space: a model (id + revision + output dims) and its vectors.

    Several can exist (a new model builds while the old one serves); exactly one is active.
    Each index gets its own partial HNSW index over `embedding::halfvec(dims)`, because one
    column holds vectors of every index's width."""

    class State(models.TextChoices):
        BUILDING = "building"
        READY = "ready"
        RETIRED = "retired"

    embedder = models.CharField(max_length=500, help_text="sentence-transformers id or path")
    revision = models.CharField(max_length=100, blank=True)
    dims = models.PositiveIntegerField()
    modalities = models.JSONField(default=list, help_text="what the model reads: text, image")
    state = models.CharField(max_length=20, choices=State.choices, default=State.BUILDING)
    active = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "search indexes"
        constraints = [
            models.UniqueConstraint(
                fields=["active"], condition=models.Q(active=True), name="one_active_search_index"
            ),
            models.UniqueConstraint(
                fields=["embedder", "revision", "dims"], name="search_index_model"
            ),
        ]

    def __str__(self) -> str:
        flag = " (active)" if self.active else ""
        return f"{self.embedder}@{self.revision or 'default'} [{self.dims}d]{flag}"

    @property
    def ann_index_name(self) -> str:
        return f"search_emb_hnsw_{self.pk}"


class ProductEmbedding(models.Model):
    """A product's vector in one index, with the hash of the document it was made from:
    a product whose current document hashes differently is stale and gets re-embedded."""

    index = models.ForeignKey(SearchIndex, related_name="embeddings", on_delete=models.CASCADE)
    product = models.ForeignKey(
        "catalog.Product", related_name="embeddings", on_delete=models.CASCADE
    )
    embedding = HalfVectorField(null=True)  # null when the product could not be embedded
    document_hash = models.CharField(max_length=64)
    index_error = models.TextField(
        blank=True, help_text="why the photo (or the whole document) could not be embedded"
    )
    embedded_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["index", "product"], name="one_embedding_per_index"),
        ]

    def __str__(self) -> str:
        return f"{self.product_id} in index {self.index_id}"


class LexicalDocument(models.Model):
    """What the keyword leg searches: a weighted tsvector (name > brand/category >
    attributes > description) and lower-cased name/brand/SKU for trigram typo matching.
    Refreshed from the catalog with the embeddings (search.indexing.lexical)."""

    product = models.OneToOneField(
        "catalog.Product", primary_key=True, related_name="lexical", on_delete=models.CASCADE
    )
    document = SearchVectorField()
    keywords = models.TextField()
    # The keywords' trigrams as a sparse 0/1 vector (search.indexing.lexical.TRIGRAMS_SQL,
    # 2^20 positions): the keyword leg's near-miss score is one dot product with the query's.
    trigrams = SparseVectorField(dimensions=1 << 20, null=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [
            GinIndex(fields=["document"], name="lexical_document_gin"),
            GinIndex(fields=["keywords"], name="lexical_keywords_trgm", opclasses=["gin_trgm_ops"]),
        ]

    def __str__(self) -> str:
        return f"lexical document of product {self.product_id}"


class LexicalImpact(models.Model):
    """One word of a keyword document with what it adds to that product's keyword score
    (`impact`: ts_rank of the document for that word alone, as the keyword leg scores it),
    kept in an index ordered by impact per word. So each word's best products are ready
    ("impact-ordered lists", as search engines keep them): the keyword leg reads the top of
    each query word's list instead of scoring every product holding a common word.
    Derived from LexicalDocument by search.indexing.lexical, rebuilt with it."""

    pk = models.CompositePrimaryKey("document", "lexeme")
    # No database constraint: the rows are written right after their document in one
    # statement, and a 100k-product rebuild would check millions of them one by one.
    document = models.ForeignKey(
        LexicalDocument,
        on_delete=models.CASCADE,
        db_column="product_id",
        db_constraint=False,
        db_index=False,  # the primary key's index starts with it
        related_name="impacts",
    )
    lexeme = models.TextField()
    impact = models.FloatField()

    class Meta:
        indexes = [
            models.Index(fields=["lexeme", "-impact", "document"], name="lexical_impact_by_word")
        ]

    def __str__(self) -> str:
        return f"{self.lexeme} in product {self.document_id}: {self.impact:.3f}"


class VocabularyWord(models.Model):
    """Words of product names, brands and SKUs, for "did you mean" on misspelled queries."""

    word = models.CharField(max_length=100, primary_key=True)

    class Meta:
        indexes = [
            GinIndex(fields=["word"], name="vocabulary_word_trgm", opclasses=["gin_trgm_ops"])
        ]

    def __str__(self) -> str:
        return self.word


class LexemeStat(models.Model):
    """How many keyword documents contain each stemmed word: the keyword leg weighs rare
    words above common ones (BM25's idea of inverse document frequency). The row with an
    empty lexeme holds the number of documents. Rebuilt by
    `search.indexing.lexical.refresh_lexeme_stats`."""

    lexeme = models.TextField(primary_key=True)
    ndoc = models.PositiveIntegerField()

    def __str__(self) -> str:
        return f"{self.lexeme}: {self.ndoc}"


class Suggestion(models.Model):
    """Search-as-you-type (search.suggest): a completion the search box may offer. `text`:
    lower-cased, what is shown for a query; `label`: as shown otherwise; `terms`: the words
    a prefix matches (unstemmed: "runni" is on the way to "running"); `path`: the category's
    path (a category's own, a product's category's); `weight`: how popular (distinct
    visitors of a query, products of a brand or category)."""

    class Kind(models.TextChoices):
        QUERY = "query"
        BRAND = "brand"
        CATEGORY = "category"
        PRODUCT = "product"

    kind = models.CharField(max_length=10, choices=Kind.choices)
    text = models.CharField(max_length=300)
    label = models.CharField(max_length=300)
    path = models.CharField(max_length=1000, blank=True)
    weight = models.PositiveIntegerField(default=0)
    # No index of its own: one_product_suggestion serves lookups by product (and the cascade),
    # and a plain index on the column offered the planner a scan of every row without a
    # product, each tested against the prefix (~1 ms at 5k brands and categories) instead
    # of suggestion_terms_other (~0.05 ms).
    product = models.ForeignKey(
        "catalog.Product",
        null=True,
        blank=True,
        related_name="+",
        on_delete=models.CASCADE,
        db_index=False,
    )
    terms = SearchVectorField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "text", "path"],
                condition=models.Q(product=None),
                name="one_suggestion",
            ),
            models.UniqueConstraint(
                fields=["product"], condition=~models.Q(product=None), name="one_product_suggestion"
            ),
        ]
        indexes = [
            # Products apart from the rest (brands, categories, queries): a common word
            # begins thousands of products, and the few other rows must not wait for their
            # bitmap (the suggestions' p50 at 100k products went from ~7 ms to ~2.5 ms).
            # Without GIN's pending list (fastupdate): new rows' words queued there were read
            # in full by every prefix until the next vacuum.
            GinIndex(
                fields=["terms"],
                name="suggestion_terms_other",
                condition=models.Q(product=None),
                fastupdate=False,
            ),
            GinIndex(
                fields=["terms"],
                name="suggestion_terms_products",
                condition=~models.Q(product=None),
                fastupdate=False,
            ),
            # a prefix of one or two letters is matched at the text's start, in this order;
            # products apart from the rest, as above (one index for both read every product
            # in the range to find the few brands and categories in it)
            models.Index(
                fields=["text"],
                name="suggestion_prefix_products",
                opclasses=["text_pattern_ops"],
                condition=~models.Q(product=None),
            ),
            models.Index(
                fields=["text"],
                name="suggestion_prefix_other",
                opclasses=["text_pattern_ops"],
                condition=models.Q(product=None),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind}: {self.label}"


class AdaptationRun(models.Model):
    """One adaptation of the models to the catalog (search.adaptation): what it was asked,
    how far it is, what it made (model folders, a new search index) and what that measured
    against the active index."""

    class Status(models.TextChoices):
        QUEUED = "queued"
        RUNNING = "running"
        SUCCEEDED = "succeeded"
        SKIPPED = "skipped"  # a model this job cannot adapt: `message` says why
        FAILED = "failed"

    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    stage = models.CharField(max_length=100, blank=True, help_text="what it is doing now")
    heartbeat_at = models.DateTimeField(
        null=True, blank=True, help_text="when its worker last reported progress"
    )
    done_steps = models.PositiveIntegerField(default=0)
    total_steps = models.PositiveIntegerField(default=0)
    options = models.JSONField(default=dict, blank=True, help_text="steps, batch, lr, ...")
    base_embedder = models.CharField(max_length=500, blank=True)
    data_hash = models.CharField(max_length=64, blank=True)
    training_pairs = models.JSONField(default=dict, blank=True, help_text="pairs by kind")
    model_dir = models.CharField(max_length=1000, blank=True)
    reranker_path = models.CharField(max_length=1000, blank=True)
    baseline_index = models.ForeignKey(
        "search.SearchIndex", null=True, blank=True, related_name="+", on_delete=models.SET_NULL
    )
    index = models.ForeignKey(
        "search.SearchIndex",
        null=True,
        blank=True,
        related_name="adaptation_runs",
        on_delete=models.SET_NULL,
        help_text="the new index, built with the adapted embedder (not activated)",
    )
    queries_path = models.CharField(max_length=1000, blank=True)
    qrels_path = models.CharField(max_length=1000, blank=True)
    figures = models.JSONField(
        default=dict, blank=True, help_text="{index: {mode: {metric: value}}} on judged queries"
    )
    held_aside = models.JSONField(default=dict, blank=True, help_text="pseudo-query checks")
    timings = models.JSONField(default=dict, blank=True, help_text="seconds per stage")
    message = models.TextField(blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"adaptation {self.pk} ({self.status})"

    @property
    def percent(self) -> int:
        return int(100 * self.done_steps / self.total_steps) if self.total_steps else 0


# Search insights' tables live with their code (search/insights/); imported here so Django
# registers them with the search app.
from search.insights.models import (  # noqa: E402, F401
    ClickSignal,
    InsightsDay,
    ProductDay,
    QueryDay,
    ResultEvent,
    SearchEvent,
)

# Merchandising's tables (synonyms, rules) likewise live with their code (search/merchandising/).
from search.merchandising.models import MerchandisingRule, SynonymSet  # noqa: E402, F401

# Tasks set aside after too many deliveries (search/parking/): registered with the search app.
from search.parking.models import ParkedTask  # noqa: E402, F401
