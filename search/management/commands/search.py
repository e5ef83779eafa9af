"""Search the catalog from a terminal: the same service the storefront and API use."""

from __future__ import annotations

import json
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from catalog.images import PhotoRejected, open_photo
from search.explain import describe_stage
from search.photos import QUERY_PHOTO_MAX_SIDE
from search.query import MODES, SORTS, InvalidSearch, parse_search_request
from search.services import SearchUnavailable, search_products
from search.types import SearchHit, search_response_data


class Command(BaseCommand):
    help = (
        'Search the active index, e.g. `manage.py search "blue mug"`, '
        '`manage.py search --image shoe.jpg` or `manage.py search "in red" --image shoe.jpg`.'
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("query", nargs="?", default="", help="words (optional with --image)")
        parser.add_argument("--image", metavar="PATH", help="search with this photo too")
        # Values are checked by search.query, as the storefront's and the API's are.
        parser.add_argument("--page", default="1")
        parser.add_argument("--page-size", default="10")
        parser.add_argument("--no-rerank", action="store_true")
        parser.add_argument("--mode", default="hybrid", help=" | ".join(MODES))
        parser.add_argument("--category", default="", help='a category path, e.g. "home/bath"')
        parser.add_argument("--brand", action="append", default=[], help="repeat for several")
        parser.add_argument("--sort", default="relevance", help=" | ".join(SORTS))
        parser.add_argument("--json", action="store_true", help="print the response as JSON")
        parser.add_argument(
            "--explain", action="store_true", help="say why each result ranked where it did"
        )

    def handle(self, *args, query: str, image: str | None, **options):
        params = {
            "q": query,
            "page": options["page"],
            "page_size": options["page_size"],
            "rerank": not options["no_rerank"],
            "mode": options["mode"],
            "sort": options["sort"],
            "category": options["category"],
            "brand": options["brand"],
            "explain": options["explain"],
        }
        photo = _read_photo(Path(image)) if image else None
        try:
            search = parse_search_request(params, photo=photo)
            if search.is_empty:
                raise CommandError(
                    "Give a query, --image PATH, or both: the query is empty after removing"
                    " whitespace."
                )
            response = search_products(search)
        except (InvalidSearch, SearchUnavailable) as exc:
            raise CommandError(str(exc)) from None
        if options["json"]:
            self.stdout.write(json.dumps(search_response_data(response), default=str))
            return
        text, page, page_size = search.query, search.page, search.page_size
        what = " and ".join(
            ([f"photo {image}"] if photo is not None else []) + ([repr(text)] if text else [])
        )
        results = "result" if response.count == 1 else "results"
        pages = f"page {page}/{response.num_pages}"
        self.stdout.write(f"{response.count} {results} for {what} ({pages})")
        for notice in response.notices:
            self.stdout.write(f"note: {notice}")
        for rank, hit in enumerate(response.results, start=(page - 1) * page_size + 1):
            self.stdout.write(f"{rank:3}. {_line(hit)}")
            for stage in hit.explanation.stages if hit.explanation else ():
                self.stdout.write(f"       {describe_stage(stage)}")
        if response.also_like:  # ranked, not counted (README, "Result counts")
            self.stdout.write("you might also like:")
            for hit in response.also_like:
                self.stdout.write(f"   - {_line(hit)}")
        self.stdout.write(f"timings_ms: {response.timings_ms}  model: {response.model['embedder']}")


def _line(hit: SearchHit) -> str:
    price = f"{hit.currency} {hit.price}" if hit.price is not None else "no price"
    return f"{hit.score:7.4f}  {hit.sku:<16} {hit.name}  [{price}]"


def _read_photo(path: Path):
    """The photo at `path`, checked and decoded like a shopper's upload, or CommandError."""
    limit = settings.VITRINE_MAX_PHOTO_BYTES
    try:
        size = path.stat().st_size
        if size > limit:
            raise CommandError(
                f"--image {path}: the photo is {size // 1024} KiB; the limit is {limit // 1024} KiB"
            )
        with path.open("rb") as f:
            content = f.read(limit + 1)  # a device or pipe can say 0 bytes and never end
    except OSError as exc:
        raise CommandError(f"cannot read --image {path}: {exc.strerror or exc}") from None
    try:
        return open_photo(content, max_side=QUERY_PHOTO_MAX_SIDE)
    except PhotoRejected as exc:
        raise CommandError(f"--image {path}: {exc.reason}") from None
