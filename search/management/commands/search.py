"""Search the catalog from a terminal: the same service the storefront and API use."""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand, CommandError

from search.services import SearchRequest, SearchUnavailable, normalise_query, search_products


class Command(BaseCommand):
    help = 'Search the active index, e.g. `manage.py search "blue mug"`.'

    def add_arguments(self, parser) -> None:
        parser.add_argument("query")
        parser.add_argument("--page", type=int, default=1)
        parser.add_argument("--page-size", type=int, default=10)
        parser.add_argument("--no-rerank", action="store_true")
        parser.add_argument("--json", action="store_true", help="print the response as JSON")

    def handle(self, *args, query: str, page: int, page_size: int, no_rerank: bool, **options):
        text, _ = normalise_query(query)
        if not text:
            raise CommandError("Give a query: it is empty after removing whitespace.")
        if page < 1 or page_size < 1:
            raise CommandError("--page and --page-size start at 1.")
        try:
            response = search_products(
                SearchRequest(query=text, page=page, page_size=page_size, rerank=not no_rerank)
            )
        except SearchUnavailable as exc:
            raise CommandError(str(exc)) from None
        if options["json"]:
            from search.api.serializers import SearchResponseSerializer

            self.stdout.write(json.dumps(SearchResponseSerializer(response).data, default=str))
            return
        self.stdout.write(
            f"{response.count} results for {text!r} (page {page}/{response.num_pages})"
        )
        for rank, hit in enumerate(response.results, start=(page - 1) * page_size + 1):
            price = f"{hit.currency} {hit.price}" if hit.price is not None else "no price"
            self.stdout.write(f"{rank:3}. {hit.score:7.4f}  {hit.sku:<16} {hit.name}  [{price}]")
        self.stdout.write(f"timings_ms: {response.timings_ms}  model: {response.model['embedder']}")
