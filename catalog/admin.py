"""The catalog's admin. Thin: every product, photo and category write goes through
`catalog.services` (the rules of imports and the API apply here too), and a value or photo
that cannot be written is an error on its form field; imports go through
`catalog.imports.jobs`."""

from django import forms
from django.conf import settings
from django.contrib import admin
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.http import Http404, JsonResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path
from django.utils.html import format_html

from catalog import services
from catalog.api.views import failed_rows_response
from catalog.images import PhotoRejected
from catalog.imports import jobs
from catalog.models import Category, ImportIssue, ImportJob, Product, ProductImage

# Rows of an import's report shown on its page; the whole report is the failed-rows CSV.
REPORT_ROWS_SHOWN = 500


# A product's own values, as `services.clean_product_values` takes them (category aside).
PRODUCT_VALUES = (
    "sku", "name", "description", "brand", "price", "currency", "attributes", "active",
)  # fmt: skip


class ProductForm(forms.ModelForm):
    """A product's values are normalised as every write normalises them
    (`services.clean_product_values`): a value that cannot be written is its field's error."""

    class Meta:
        model = Product
        fields = (*PRODUCT_VALUES[:4], "category", *PRODUCT_VALUES[4:])

    def clean(self) -> dict:
        data = super().clean()
        if "sku" not in data or "name" not in data:
            return data  # their own field errors say why
        values = {k: data[k] for k in PRODUCT_VALUES if k in data}
        data.update(services.clean_product_values(**values))
        return data


class ProductImageForm(forms.ModelForm):
    """A photo sent by hand is checked and described like every photo the shop stores
    (`services.read_photo`): one that cannot be used is an error on the form, with the reason."""

    photo: services.PhotoInput | None = None
    # As Django builds it from the model, with today's default scheme said out loud.
    source_url = forms.URLField(required=False, max_length=2000, assume_scheme="http")

    class Meta:
        model = ProductImage
        fields = ("product", "file", "position", "alt", "source_url")

    def clean_file(self):
        upload = self.cleaned_data.get("file")
        if isinstance(upload, UploadedFile):  # a new upload (not the file it has already)
            limit = settings.VITRINE_MAX_PHOTO_BYTES
            if upload.size > limit:  # refused before its bytes are read into memory
                raise ValidationError(
                    f"the photo is {upload.size // 1024} KiB; the limit is {limit // 1024} KiB"
                )
            upload.seek(0)
            try:
                self.photo = services.read_photo(upload.read())
            except PhotoRejected as exc:
                raise ValidationError(exc.reason) from None
        return upload


class ProductImageInline(admin.TabularInline):
    model = ProductImage
    form = ProductImageForm
    extra = 1
    fields = ("preview", "file", "position", "alt", "width", "height", "checksum")
    readonly_fields = ("preview", "width", "height", "checksum")

    @admin.display(description="Photo")
    def preview(self, obj: ProductImage) -> str:
        if not obj.pk or not obj.file:
            return "—"
        return format_html('<img src="{}" style="max-height:64px">', obj.file.url)


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ("__str__", "slug", "path")
    search_fields = ("name", "path")
    readonly_fields = ("path",)

    def save_model(self, request, obj: Category, form, change) -> None:
        services.save_category(category=obj)


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ("sku", "name", "brand", "category", "price", "currency", "active", "updated_at")
    list_filter = ("active", "category", "brand")
    search_fields = ("sku", "name", "brand")
    list_select_related = ("category",)
    inlines = [ProductImageInline]
    readonly_fields = ("created_at", "updated_at")
    form = ProductForm

    def save_model(self, request, obj: Product, form, change) -> None:
        services.save_product(product=obj)

    def save_formset(self, request, form, formset, change) -> None:
        """The photos: new bytes are stored as every photo is, edits and removals saved."""
        formset.save(commit=False)
        for image in formset.deleted_objects:
            services.delete_photo(image=image)
        photos = {id(f.instance): f.photo for f in formset.forms if getattr(f, "photo", None)}
        changed = [image for image, _fields in formset.changed_objects]
        for image in formset.new_objects + changed:
            services.save_photo(image=image, photo=photos.get(id(image)))

    def delete_model(self, request, obj: Product) -> None:
        services.delete_products(skus=[obj.sku])

    def delete_queryset(self, request, queryset) -> None:
        services.delete_products(skus=queryset.values_list("sku", flat=True))


@admin.register(ProductImage)
class ProductImageAdmin(admin.ModelAdmin):
    list_display = ("product", "position", "width", "height", "checksum")
    search_fields = ("product__sku",)
    readonly_fields = ("width", "height", "checksum")
    form = ProductImageForm

    def save_model(self, request, obj: ProductImage, form, change) -> None:
        services.save_photo(image=obj, photo=form.photo)

    def delete_model(self, request, obj: ProductImage) -> None:
        services.delete_photo(image=obj)

    def delete_queryset(self, request, queryset) -> None:
        for image in queryset:
            services.delete_photo(image=image)


class ImportUploadForm(forms.Form):
    file = forms.FileField(
        label="Catalog file",
        help_text="CSV with a header row, or JSONL (one JSON object per line).",
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.jsonl,.ndjson,.json,.txt"}),
    )
    images = forms.FileField(
        label="Photos (zip)",
        required=False,
        help_text="Optional: a zip with the photo files that the rows' images column names.",
        widget=forms.ClearableFileInput(attrs={"accept": ".zip"}),
    )


@admin.register(ImportJob)
class ImportJobAdmin(admin.ModelAdmin):
    """Imports: the list, the "Import catalog" upload page and each job's live progress and
    report (its change page). Jobs are created by uploads only and never edited."""

    list_display = (
        "__str__", "status", "progress", "created", "updated", "failed", "created_by",
        "created_at",
    )  # fmt: skip
    list_filter = ("status",)
    list_select_related = ("created_by",)

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description="Rows")
    def progress(self, job: ImportJob) -> str:
        return f"{job.processed} / {job.total if job.total is not None else '?'}"

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("upload/", wrap(self.upload_view), name="catalog_importjob_upload"),
            path("<int:pk>/status.json", wrap(self.status_view), name="catalog_importjob_status"),
            path(
                "<int:pk>/failed-rows.csv",
                wrap(self.failed_rows_view),
                name="catalog_importjob_failed_rows",
            ),
            *super().get_urls(),
        ]

    def add_view(self, request, form_url="", extra_context=None):
        return redirect("admin:catalog_importjob_upload")

    def upload_view(self, request):
        if not self.has_add_permission(request):
            raise PermissionDenied
        bound = request.method == "POST"
        form = ImportUploadForm(*((request.POST, request.FILES) if bound else ()))
        if bound and form.is_valid():
            try:
                job = jobs.start_import(
                    file=form.cleaned_data["file"],
                    images=form.cleaned_data.get("images"),
                    created_by=request.user,
                )
            except jobs.UploadRejected as exc:
                form.add_error("images" if "zip" in exc.message else "file", exc.message)
            else:
                return redirect("admin:catalog_importjob_change", job.pk)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": "Import catalog",
            "form": form,
            "limits": {
                "max_mib": settings.VITRINE_IMPORT_MAX_BYTES // 2**20,
                "max_rows": settings.VITRINE_IMPORT_MAX_ROWS,
                "max_zip_mib": settings.VITRINE_IMPORT_MAX_ZIP_BYTES // 2**20,
                "max_photos": settings.VITRINE_IMPORT_MAX_PHOTOS_PER_PRODUCT,
            },
            "recent": ImportJob.objects.all()[:5],
        }
        return TemplateResponse(request, "admin/catalog/importjob/upload.html", context)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        job = self.get_object(request, object_id)
        if job is None or not self.has_view_permission(request, job):
            raise Http404("No such import")
        errors = job.issues.filter(kind=ImportIssue.Kind.ERROR)
        warnings = job.issues.filter(kind=ImportIssue.Kind.WARNING)
        shown = REPORT_ROWS_SHOWN
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": str(job),
            "job": job,
            "status": job_status(job),
            "errors": errors[:shown],
            "warnings": warnings[:shown],
            "errors_more": max(0, errors.count() - shown) if job.failed else 0,
            "warnings_more": max(0, job.warned - shown),
        }
        return TemplateResponse(request, "admin/catalog/importjob/progress.html", context)

    def status_view(self, request, pk: int):
        job = self.get_object(request, str(pk))
        if job is None or not self.has_view_permission(request, job):
            raise Http404("No such import")
        return JsonResponse(job_status(job))

    def failed_rows_view(self, request, pk: int):
        job = self.get_object(request, str(pk))
        if job is None or not self.has_view_permission(request, job):
            raise Http404("No such import")
        return failed_rows_response(job)

    @admin.action(description="Resume selected imports (continue after the last commit)")
    def resume(self, request, queryset) -> None:
        unfinished = list(queryset.exclude(status=ImportJob.Status.DONE))
        for job in unfinished:
            jobs.retry_import(job_id=job.pk)
        self.message_user(request, f"{len(unfinished)} import(s) queued again.")

    actions = ["resume"]


def job_status(job: ImportJob) -> dict:
    """What the progress bar polls: counts only, never the report (it can be long)."""
    return {
        "id": job.pk,
        "status": job.status,
        "total": job.total,
        "processed": job.processed,
        "created": job.created,
        "updated": job.updated,
        "unchanged": job.unchanged,
        "failed": job.failed,
        "warnings": job.warned,
        "message": job.message,
        "finished": job.finished,
        "percent": (
            100 if job.status == ImportJob.Status.DONE
            else round(100 * job.processed / job.total) if job.total else 0
        ),
    }  # fmt: skip
