"""The catalog API: staff-only product CRUD and bulk imports. Thin: validate, call the
services and the import jobs, serialise.

Every endpoint here (reads included) is for staff, by token (`Authorization: Token ...`,
from `manage.py drf_create_token USER`) or an admin session: the catalog API shows
inactive products and import reports. Shoppers read through the public search API."""

from __future__ import annotations

from django.db.models import Prefetch, Q
from django.http import Http404, StreamingHttpResponse
from django.shortcuts import get_object_or_404
from django.utils.text import slugify
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.authentication import SessionAuthentication, TokenAuthentication
from rest_framework.generics import GenericAPIView
from rest_framework.pagination import PageNumberPagination
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.permissions import IsAdminUser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.reverse import reverse

from catalog import services, tasks
from catalog.api.serializers import (
    ImportAcceptedSerializer,
    ImportJobSerializer,
    ImportJobSummarySerializer,
    ImportUploadSerializer,
    ProductSerializer,
)
from catalog.imports import jobs, report
from catalog.imports.formats import ImportFileRejected, open_source
from catalog.imports.rows import CleanRow
from catalog.models import ImportJob, Product, ProductImage


def save_product_row(row: CleanRow) -> Product:
    """Write one validated product: its values at once, through the services; its photo URLs
    are downloaded by a worker after the commit (`images` left out: photos stay as they are)."""
    product, _ = services.upsert_product(**row.product_fields())
    if row.images is not None:
        tasks.enqueue_photo_fetch(product_id=product.pk, urls=list(row.images))
    return product


class StaffAPIView(GenericAPIView):
    # Token first: an anonymous caller gets 401 with `WWW-Authenticate: Token`.
    authentication_classes = [TokenAuthentication, SessionAuthentication]
    permission_classes = [IsAdminUser]


class Pages(PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500


def products_queryset():
    return Product.objects.select_related("category", "category__parent").prefetch_related(
        Prefetch("images", queryset=ProductImage.objects.order_by("position", "id"))
    )


class ProductListCreateView(StaffAPIView):
    """List products (any state, by SKU) or create one."""

    serializer_class = ProductSerializer
    pagination_class = Pages
    parser_classes = [JSONParser]

    @extend_schema(
        operation_id="products_list",
        responses=ProductSerializer(many=True),
        parameters=[
            OpenApiParameter("q", str, description="part of the SKU or name"),
            OpenApiParameter("brand", str),
            OpenApiParameter("category", str, description="category path; includes children"),
            OpenApiParameter("active", bool),
        ],
    )
    def get(self, request: Request) -> Response:
        products = products_queryset().order_by("sku")
        params = request.query_params
        if params.get("q"):
            products = products.filter(
                Q(sku__icontains=params["q"]) | Q(name__icontains=params["q"])
            )
        if params.get("brand"):
            products = products.filter(brand__iexact=params["brand"])
        if params.get("category"):
            path = "/".join(slugify(p) for p in params["category"].split("/") if p.strip())
            products = products.filter(
                Q(category__path=path) | Q(category__path__startswith=path + "/")
            )
        if params.get("active") in ("true", "false"):
            products = products.filter(active=params["active"] == "true")
        page = self.paginate_queryset(products)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    @extend_schema(
        request=ProductSerializer,
        responses={
            201: ProductSerializer,
            400: OpenApiResponse(description="invalid fields, each with its reason"),
            409: OpenApiResponse(description="a product with this SKU exists"),
        },
    )
    def post(self, request: Request) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        row = serializer.validated_data
        if Product.objects.filter(sku=row.sku).exists():
            url = reverse("catalog-api:product-detail", kwargs={"sku": row.sku}, request=request)
            return Response(
                {"sku": [f"a product with this SKU exists; PUT or PATCH {url}"]},
                status=status.HTTP_409_CONFLICT,
            )
        product = save_product_row(row)
        body = self.get_serializer(products_queryset().get(pk=product.pk)).data
        headers = {"Location": body["url"]}
        return Response(body, status=status.HTTP_201_CREATED, headers=headers)


class ProductDetailView(StaffAPIView):
    """Read, replace (PUT), change some fields of (PATCH) or delete one product. A deleted
    product leaves search at once (its vectors go with it)."""

    serializer_class = ProductSerializer
    parser_classes = [JSONParser]

    def get_object(self) -> Product:
        return get_object_or_404(products_queryset(), sku=self.kwargs["sku"])

    def get(self, request: Request, sku: str) -> Response:
        return Response(self.get_serializer(self.get_object()).data)

    def _write(self, request: Request, sku: str, *, partial: bool) -> Response:
        product = self.get_object()
        data = dict(request.data) if isinstance(request.data, dict) else request.data
        if isinstance(data, dict):
            if data.get("sku", sku) != sku:
                return Response(
                    {"sku": ["the SKU of a product cannot change; create a new one"]},
                    status=status.HTTP_400_BAD_REQUEST,
                )
            if partial:
                current = self.get_serializer(product).data
                current.pop("images")  # photos change only when `images` is sent
                data = {**current, **data}
            data["sku"] = sku
        serializer = self.get_serializer(data=data)
        serializer.is_valid(raise_exception=True)
        save_product_row(serializer.validated_data)
        return Response(self.get_serializer(self.get_object()).data)

    @extend_schema(request=ProductSerializer, responses={200: ProductSerializer})
    def put(self, request: Request, sku: str) -> Response:
        return self._write(request, sku, partial=False)

    @extend_schema(request=ProductSerializer, responses={200: ProductSerializer})
    def patch(self, request: Request, sku: str) -> Response:
        return self._write(request, sku, partial=True)

    @extend_schema(responses={204: None, 404: OpenApiResponse(description="No such product")})
    def delete(self, request: Request, sku: str) -> Response:
        if not services.delete_product(sku=sku):
            raise Http404("No such product")
        return Response(status=status.HTTP_204_NO_CONTENT)


class ImportListCreateView(StaffAPIView):
    """Start an import (multipart `file`, optional `images` zip): 202 with the job's status
    URL; the job runs in a worker. GET lists recent imports."""

    parser_classes = [MultiPartParser, FormParser]
    pagination_class = Pages
    serializer_class = ImportJobSerializer

    @extend_schema(operation_id="imports_list", responses=ImportJobSummarySerializer(many=True))
    def get(self, request: Request) -> Response:
        page = self.paginate_queryset(ImportJob.objects.all())
        summaries = ImportJobSummarySerializer(page, many=True, context={"request": request})
        return self.get_paginated_response(summaries.data)

    @extend_schema(
        request={"multipart/form-data": ImportUploadSerializer},
        responses={
            202: ImportAcceptedSerializer,
            400: OpenApiResponse(description="no file"),
            413: OpenApiResponse(description="the file or zip is over the size limit"),
            507: OpenApiResponse(description="the server's disk is full: nothing was stored"),
        },
    )
    def post(self, request: Request) -> Response:
        upload = ImportUploadSerializer(data=request.data)
        upload.is_valid(raise_exception=True)
        try:
            job = jobs.start_import(
                file=upload.validated_data["file"],
                images=upload.validated_data.get("images"),
                created_by=request.user,
            )
        except jobs.UploadRejected as exc:
            code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE if exc.too_large else 400
            if exc.no_space:
                code = status.HTTP_507_INSUFFICIENT_STORAGE
            return Response({"detail": exc.message}, status=code)
        status_url = reverse("catalog-api:import-detail", kwargs={"pk": job.pk}, request=request)
        return Response(
            {"id": job.pk, "status": job.status, "status_url": status_url},
            status=status.HTTP_202_ACCEPTED,
            headers={"Location": status_url},
        )


class ImportDetailView(StaffAPIView):
    """An import's status, counts and report (errors and warnings by line)."""

    serializer_class = ImportJobSerializer

    def get(self, request: Request, pk: int) -> Response:
        job = get_object_or_404(ImportJob.objects.prefetch_related("issues"), pk=pk)
        return Response(self.get_serializer(job).data)


class ImportFailedRowsView(StaffAPIView):
    """The rows that failed, as CSV with an `import_error` column: fix and upload again."""

    @extend_schema(responses={(200, "text/csv"): OpenApiResponse(description="CSV")})
    def get(self, request: Request, pk: int):
        job = get_object_or_404(ImportJob, pk=pk)
        return failed_rows_response(job)


def failed_rows_response(job: ImportJob) -> StreamingHttpResponse:
    """Shared by the API and the admin."""
    try:
        with open_source(job):
            pass
    except (OSError, ImportFileRejected):
        raise Http404("The uploaded file is no longer available.") from None
    response = StreamingHttpResponse(
        report.failed_rows_csv(job), content_type="text/csv; charset=utf-8"
    )
    stem = job.source_name.rsplit(".", 1)[0] or "catalog"
    response["Content-Disposition"] = f'attachment; filename="{stem}-failed-rows.csv"'
    return response
