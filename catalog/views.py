from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from catalog.selectors import product_by_sku


def product_detail(request: HttpRequest, sku: str) -> HttpResponse:
    product = product_by_sku(sku=sku)
    if product is None:
        raise Http404("No such product")
    return render(request, "catalog/product_detail.html", {"product": product})
