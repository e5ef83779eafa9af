from django.conf import settings
from django.contrib import admin
from django.urls import include, path, re_path
from django.views.static import serve
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from search.health import healthz, livez

urlpatterns = [
    path("admin/", admin.site.urls),
    path("livez", livez, name="livez"),
    path("healthz", healthz, name="healthz"),
    path("api/v1/", include("search.api.urls")),
    path("api/v1/", include("catalog.api.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The split view serves Swagger UI's start-up script as a file (?script), not inline: the
    # Content-Security-Policy allows no inline script.
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    path("", include("search.urls")),
    path("", include("catalog.urls")),
]


def serve_product_photo(request, path: str):
    """Product photos only (import uploads stay private), and never as an active document."""
    response = serve(request, path, document_root=settings.MEDIA_ROOT / "products")
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["X-Content-Type-Options"] = "nosniff"
    return response


if settings.SERVE_MEDIA:
    urlpatterns += [re_path(r"^media/products/(?P<path>.*)$", serve_product_photo)]
