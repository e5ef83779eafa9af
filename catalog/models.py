"""The shop's truth: categories, products and their photos. Search derives from these."""

from __future__ import annotations

import uuid
from functools import lru_cache
from urllib.parse import quote

from django.core.validators import RegexValidator
from django.db import models
from django.urls import get_script_prefix, reverse
from django.utils.http import RFC3986_SUBDELIMS

from catalog.images import PHOTO_EXTENSIONS


class Category(models.Model):
    """A node in the category tree. `path` is the slash-joined slugs from the root
    ("home/kitchen/mugs"): cheap descendant filters (`path__startswith`) and stable URLs."""

    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=200)
    parent = models.ForeignKey(
        "self", null=True, blank=True, related_name="children", on_delete=models.PROTECT
    )
    path = models.CharField(max_length=1000, unique=True, editable=False)

    class Meta:
        verbose_name_plural = "categories"
        ordering = ["path"]
        constraints = [
            models.UniqueConstraint(
                fields=["parent", "slug"], name="category_unique_slug_per_parent"
            ),
        ]

    def __str__(self) -> str:
        return self.full_name

    @property
    def full_name(self) -> str:
        """Human-readable path: "Home / Kitchen / Mugs"."""
        names = []
        node: Category | None = self
        while node is not None:
            names.append(node.name)
            node = node.parent
        return " / ".join(reversed(names))


def product_url(sku: str) -> str:
    """A product's page, from its SKU alone (result lists build it without the model).
    Equal to reverse()'s answer, without its cost for each of a page's twenty results:
    the prefix is reversed once, the SKU quoted as reverse() quotes it."""
    return _product_url_prefix(get_script_prefix()) + quote(sku, safe=_URL_SAFE) + "/"


_URL_SAFE = RFC3986_SUBDELIMS + "/~:@"  # what reverse() leaves unquoted


@lru_cache(maxsize=8)
def _product_url_prefix(script_prefix: str) -> str:
    return reverse("catalog:product-detail", kwargs={"sku": "-"}).removesuffix("-/")


class Product(models.Model):
    # No slash, as imports and the API already refuse: a SKU is a path segment of the API.
    sku = models.CharField(
        max_length=64,
        unique=True,
        validators=[RegexValidator(r"/", inverse_match=True, message="must not contain '/'")],
    )
    name = models.CharField(max_length=500)
    description = models.TextField(blank=True)
    brand = models.CharField(max_length=200, blank=True, db_index=True)
    price = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    currency = models.CharField(max_length=3, default="USD")
    attributes = models.JSONField(default=dict, blank=True)
    category = models.ForeignKey(
        Category, null=True, blank=True, related_name="products", on_delete=models.SET_NULL
    )
    active = models.BooleanField(
        default=True, help_text="Inactive products are hidden from search."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["sku"]

    def __str__(self) -> str:
        return f"{self.sku} — {self.name}"

    def get_absolute_url(self) -> str:
        return product_url(self.sku)

    @property
    def primary_image(self) -> ProductImage | None:
        images = list(self.images.all())  # uses prefetch_related when the caller did
        return images[0] if images else None


def photo_storage_name(*, checksum: str, extension: str) -> str:
    """Where a photo's bytes are stored: named by their sha256, never by the uploader's file
    name, so the same bytes are stored once whoever sends them (`catalog.services` writes
    every photo file)."""
    return f"products/{checksum[:2]}/{checksum}.{extension}"


def product_image_path(instance: ProductImage, filename: str) -> str:
    """`upload_to` of a photo file assigned without `catalog.services` (which stores the bytes
    itself, under `photo_storage_name`, and so never reaches this)."""
    if not instance.checksum:
        raise ValueError("product photos are stored through catalog.services (read_photo)")
    extension = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    if extension not in PHOTO_EXTENSIONS.values():  # the served Content-Type follows it
        extension = "jpg"
    return photo_storage_name(checksum=instance.checksum, extension=extension)


class ProductImage(models.Model):
    product = models.ForeignKey(Product, related_name="images", on_delete=models.CASCADE)
    file = models.ImageField(
        upload_to=product_image_path, width_field="width", height_field="height"
    )
    position = models.PositiveIntegerField(default=0)
    alt = models.CharField(max_length=300, blank=True)
    source_url = models.URLField(max_length=2000, blank=True)
    checksum = models.CharField(max_length=64, editable=False, help_text="sha256 of the file")
    width = models.PositiveIntegerField(null=True, blank=True, editable=False)
    height = models.PositiveIntegerField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["product", "position", "id"]

    def __str__(self) -> str:
        return f"{self.product.sku} photo {self.position}"


def import_upload_path(instance: ImportJob, filename: str) -> str:
    # A folder per upload keeps the uploader's file name (shown in reports) without clashes.
    return f"imports/{uuid.uuid4().hex[:16]}/{filename}"


class ImportJob(models.Model):
    """One bulk upload (admin, API or `import_catalog`): its file, its progress and its report.

    Rows are committed in batches; `resume_line` is the last line of the last committed batch,
    so a run that dies is continued from there (and re-running is safe anyway: upsert by SKU).
    Row errors and photo warnings are `ImportIssue` rows, written with the batch they belong to.
    """

    class Status(models.TextChoices):
        PENDING = "pending"
        RUNNING = "running"
        DONE = "done"
        FAILED = "failed"

    class Format(models.TextChoices):
        CSV = "csv", "CSV"
        JSONL = "jsonl", "JSON Lines"

    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.PENDING, db_index=True
    )
    format = models.CharField(max_length=5, choices=Format.choices, blank=True)
    file = models.FileField(upload_to=import_upload_path, max_length=500, blank=True)
    images = models.FileField(
        upload_to=import_upload_path, max_length=500, blank=True, help_text="zip of photos"
    )
    source_path = models.CharField(
        max_length=1000, blank=True, help_text="the local file (`import_catalog`)"
    )
    images_path = models.CharField(
        max_length=1000, blank=True, help_text="the local photo folder or zip (`import_catalog`)"
    )
    created_by = models.ForeignKey(
        "auth.User", null=True, blank=True, related_name="+", on_delete=models.SET_NULL
    )
    total = models.PositiveIntegerField(null=True, blank=True, help_text="rows in the file")
    processed = models.PositiveIntegerField(default=0)
    created = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    unchanged = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    warned = models.PositiveIntegerField(default=0, help_text="rows with a warning")
    message = models.TextField(blank=True, help_text="why the whole job failed")
    resume_line = models.PositiveIntegerField(
        default=0, help_text="last line of the last committed batch"
    )
    attempts = models.PositiveIntegerField(default=0, help_text="runs that claimed the job")
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"Import #{self.pk} ({self.source_name})"

    @property
    def source_name(self) -> str:
        name = self.source_path or self.file.name or ""
        return name.rsplit("/", 1)[-1]

    @property
    def finished(self) -> bool:
        return self.status in (self.Status.DONE, self.Status.FAILED)


class ImportIssue(models.Model):
    """A row that failed (error: nothing of it was written) or landed with a problem
    (warning: e.g. its photo was rejected and it was imported text-only)."""

    class Kind(models.TextChoices):
        ERROR = "error"
        WARNING = "warning"

    job = models.ForeignKey(ImportJob, related_name="issues", on_delete=models.CASCADE)
    kind = models.CharField(max_length=7, choices=Kind.choices)
    line = models.PositiveIntegerField()
    sku = models.CharField(max_length=200, blank=True)
    field = models.CharField(max_length=100, blank=True)
    message = models.TextField()

    class Meta:
        ordering = ["job", "line", "id"]
        indexes = [models.Index(fields=["job", "kind", "line"])]

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"
