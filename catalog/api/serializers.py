"""Shapes of the catalog API. Validation of product values is an import row's
(`catalog.imports.rows.clean_row`): an API write and an import row are checked by the same
rules and give the same reasons."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers
from rest_framework.reverse import reverse

from catalog.imports.rows import COLUMNS, RowInvalid, clean_row, is_url
from catalog.models import ImportIssue, ImportJob, Product


def category_names(product: Product) -> str | None:
    if product.category_id is None:
        return None
    names = []
    node = product.category
    while node is not None:
        names.append(node.name)
        node = node.parent
    return "/".join(reversed(names))


class ProductSerializer(serializers.Serializer):
    """A product as JSON: the fields of an import row, plus read-only links and times.

    `category` is a path of names ("Home/Kitchen/Mugs"; created when new), `images` a list
    of photo URLs: on write they are downloaded by a worker (SSRF-guarded) and become the
    product's photos; URLs of its current photos are kept without a download. Leaving
    `images` out leaves the photos as they are."""

    sku = serializers.CharField(max_length=64)
    name = serializers.CharField(max_length=500)
    description = serializers.CharField(required=False, allow_blank=True)
    brand = serializers.CharField(required=False, allow_blank=True, max_length=200)
    category = serializers.CharField(required=False, allow_null=True, allow_blank=True)
    price = serializers.DecimalField(
        max_digits=12, decimal_places=2, required=False, allow_null=True, coerce_to_string=False
    )
    currency = serializers.CharField(required=False, max_length=3, default="USD")
    attributes = serializers.DictField(required=False)
    images = serializers.ListField(child=serializers.URLField(), required=False)
    active = serializers.BooleanField(required=False, default=True)
    category_path = serializers.CharField(read_only=True, help_text="slug path, for filters")
    url = serializers.CharField(read_only=True, help_text="the storefront page")
    created_at = serializers.DateTimeField(read_only=True)
    updated_at = serializers.DateTimeField(read_only=True)

    def to_internal_value(self, data: Any):
        """A `CleanRow`, or 400 with every bad field and its reason."""
        if not isinstance(data, dict):
            raise serializers.ValidationError({"non_field_errors": ["expected a JSON object"]})
        unknown = sorted(set(data) - set(self.fields))
        writable = {k: v for k, v in data.items() if k in self.fields and k in COLUMNS}
        try:
            row = clean_row(writable, from_text=False)
        except RowInvalid as exc:
            errors: dict[str, list[str]] = {}
            for column, message in exc.errors:
                errors.setdefault(column, []).append(message)
            raise serializers.ValidationError(errors) from None
        bad = [e for e in row.images or [] if not is_url(e)]
        if bad:
            raise serializers.ValidationError(
                {
                    "images": [
                        f"{bad[0]!r} is not an http(s) URL; upload photo files through "
                        "an import (POST /api/v1/imports with a zip)"
                    ]
                }  # fmt: skip
            )
        if unknown:
            raise serializers.ValidationError({k: ["unknown field"] for k in unknown})
        return row

    def to_representation(self, product: Product) -> dict[str, Any]:
        request = self.context.get("request")

        def absolute(url: str) -> str:
            return request.build_absolute_uri(url) if request else url

        names = self.context.setdefault("_category_names", {})  # shared by a page's items
        if product.category_id not in names:
            names[product.category_id] = category_names(product)
        return {
            "sku": product.sku,
            "name": product.name,
            "description": product.description,
            "brand": product.brand,
            "category": names[product.category_id],
            "price": float(product.price) if product.price is not None else None,
            "currency": product.currency,
            "attributes": product.attributes,
            "images": [
                image.source_url or absolute(image.file.url) for image in product.images.all()
            ],
            "active": product.active,
            "category_path": product.category.path if product.category_id else None,
            "url": absolute(product.get_absolute_url()),
            "created_at": serializers.DateTimeField().to_representation(product.created_at),
            "updated_at": serializers.DateTimeField().to_representation(product.updated_at),
        }


class ImportUploadSerializer(serializers.Serializer):
    file = serializers.FileField(help_text="the catalog: CSV (with a header row) or JSONL")
    images = serializers.FileField(
        required=False, help_text="optional zip of the photos the rows name"
    )


class ImportIssueSerializer(serializers.ModelSerializer):
    class Meta:
        model = ImportIssue
        fields = ["line", "sku", "field", "message"]


class WarningSerializer(serializers.ModelSerializer):
    class Meta:
        model = ImportIssue
        fields = ["line", "sku", "message"]


class ImportJobSerializer(serializers.ModelSerializer):
    """An import's progress and, as it goes, its report: `errors` are rows that were not
    imported (line, sku, field, message), `warnings` rows imported with a problem (e.g.
    text-only because a photo was rejected). `line` counts a CSV header as line 1."""

    file = serializers.CharField(source="source_name", read_only=True)
    status_url = serializers.SerializerMethodField()
    failed_rows_url = serializers.SerializerMethodField()
    errors = serializers.SerializerMethodField()
    warnings = serializers.SerializerMethodField()

    class Meta:
        model = ImportJob
        fields = [
            "id", "status", "file", "format", "total", "processed", "created", "updated",
            "unchanged", "failed", "message", "errors", "warnings", "status_url",
            "failed_rows_url", "created_at", "started_at", "finished_at",
        ]  # fmt: skip
        read_only_fields = fields

    def _url(self, name: str, job: ImportJob) -> str:
        return reverse(name, kwargs={"pk": job.pk}, request=self.context.get("request"))

    def get_status_url(self, job: ImportJob) -> str:
        return self._url("catalog-api:import-detail", job)

    def get_failed_rows_url(self, job: ImportJob) -> str | None:
        return self._url("catalog-api:import-failed-rows", job) if job.failed else None

    def _issues(self, job: ImportJob, kind: str) -> list:
        return [i for i in job.issues.all() if i.kind == kind]

    def get_errors(self, job: ImportJob) -> list[dict]:
        issues = self._issues(job, ImportIssue.Kind.ERROR)
        return ImportIssueSerializer(issues, many=True).data

    def get_warnings(self, job: ImportJob) -> list[dict]:
        return WarningSerializer(self._issues(job, ImportIssue.Kind.WARNING), many=True).data


class ImportJobSummarySerializer(ImportJobSerializer):
    """A job in a list: counts and links, not the report."""

    class Meta(ImportJobSerializer.Meta):
        fields = [f for f in ImportJobSerializer.Meta.fields if f not in ("errors", "warnings")]
        read_only_fields = fields


class ImportAcceptedSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.CharField()
    status_url = serializers.URLField()
