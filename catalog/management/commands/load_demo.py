"""Fill a shop with the generated demo catalog (what `make run` shows on first start)."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandParser

from catalog.demo import load_demo_catalog
from catalog.models import Product


class Command(BaseCommand):
    help = (
        "Load the demo catalog (a few hundred generated products with drawn photos) through "
        "the catalog services. Safe to rerun: products are matched by SKU."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--limit", type=int, default=None, help="load only the first N demo products"
        )
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help="do nothing when the catalog already has products (for `make run`)",
        )

    def handle(self, *args, limit: int | None, if_empty: bool, **options) -> None:
        if if_empty:
            existing = Product.objects.count()
            if existing:
                self.stdout.write(
                    f"Catalog already has {existing} products; demo catalog not loaded."
                )
                return
        # The bar goes to stderr and hides itself when that is not a terminal.
        written = load_demo_catalog(limit=limit, progress=options["verbosity"] > 0)
        self.stdout.write(self.style.SUCCESS(f"Loaded {written} demo products."))
