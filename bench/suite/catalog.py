"""Phase 2, scale: the bench's catalog from real texts, with the model's own vectors.

In order: the 6,764 ESCI products (../shared/data/esci, through the real importer, SKU =
ASIN so the judgments find them), then the fashion catalog's rows (../shared/data/fashion,
SKU FC-<id>; the rows the ingest phase imports with their photos are left out), then
generated variants of those fashion rows (SKU FV-<k>: another colour, a size, a pack of
several, each a product whose text says so) until the catalog has the size asked for.
Products are written with COPY, categories through catalog.services.category_for_path, and
every product's vector is the configured embedder's own embedding of its document
(suite.vectors: cached on disk, so only the first run pays); then the keyword documents,
the word statistics and the HNSW graph, as a shop has them."""

from __future__ import annotations

import csv
import json
import os
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from suite.common import BENCH, DATA, ROOT, log, rnd
from suite.state import Run
from suite.store import build_hnsw, drop_hnsw
from suite.vectors import embed_catalog

ESCI = Path(os.environ.get("VITRINE_ESCI_DIR", ROOT.parent / "shared" / "data" / "esci"))
FASHION_PREFIX = "FC-"  # the catalog's fashion rows (the ingest phase's own are FASH-)
VARIANT_PREFIX = "FV-"
SIZES = ["XS", "S", "M", "L", "XL", "XXL"]
VARIANT_KINDS = ("colour", "size", "pack")


def fashion_rows() -> list[dict]:
    with open(DATA / "products.csv", newline="", encoding="utf-8") as handle:
        return [r for r in csv.DictReader(handle) if r["productDisplayName"]]


def ingest_ids(n: int) -> set[str]:
    """The fashion ids the ingest phase imports (bench/import_bench.build_csv: the first
    `n` rows with a photo), which the catalog leaves to it."""
    taken: set[str] = set()
    if n <= 0:
        return taken
    with open(DATA / "products.csv", newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            if row["image_file"] and (DATA / row["image_file"]).is_file():
                taken.add(row["id"])
                if len(taken) >= n:
                    break
    return taken


def fashion_product(row: dict, sku: str) -> dict:
    """A fashion row as bench/import_bench.build_csv imports it (brand: the name's first
    word; price from the id: the data set has none)."""
    name = row["productDisplayName"]
    attributes = {
        k: row[k] for k in ("gender", "baseColour", "season", "year", "usage") if row.get(k)
    }
    return {
        "sku": sku,
        "name": name,
        "brand": name.split(" ", 1)[0],
        "path": "/".join([row["masterCategory"], row["subCategory"], row["articleType"]]),
        "price": (int(row["id"]) % 9000) / 100 + 5,
        "attributes": attributes,
    }


def variant(rows: list[dict], palette: list[str], k: int) -> dict:
    """The k-th generated variant: fashion row k mod len(rows), as another colour, in a
    size or as a pack, by round (k // len(rows)); its name and attributes say which."""
    row = rows[k % len(rows)]
    round_ = k // len(rows)
    kind = VARIANT_KINDS[round_ % len(VARIANT_KINDS)]
    product = fashion_product(row, f"{VARIANT_PREFIX}{k:07d}")
    seed = int(row["id"]) + 7 * round_
    name, attributes = product["name"], product["attributes"]
    if kind == "colour":
        old = row.get("baseColour") or ""
        new = palette[seed % len(palette)]
        if new.lower() == old.lower():
            new = palette[(seed + 1) % len(palette)]
        if old and old.lower() in name.lower():
            at = name.lower().index(old.lower())
            name = name[:at] + new + name[at + len(old) :]
        else:
            name = f"{name}, {new}"
        attributes["baseColour"] = new
    elif kind == "size":
        size = SIZES[seed % len(SIZES)]
        name = f"{name}, Size {size}"
        attributes["size"] = size
    else:
        count = 2 + seed % 3
        name = f"Pack of {count} {name}"
        attributes["pack"] = str(count)
        product["price"] *= count
    product["name"], product["attributes"] = name, attributes
    return product


class CatalogSource:
    """The generated part of the catalog, in its fixed order: fashion rows, then variants."""

    def __init__(self, leave_out: set[str]) -> None:
        self.rows = [r for r in fashion_rows() if r["id"] not in leave_out]
        self.palette = sorted({r["baseColour"] for r in self.rows if r.get("baseColour")})

    def item(self, i: int) -> dict:
        if i < len(self.rows):
            row = self.rows[i]
            return fashion_product(row, f"{FASHION_PREFIX}{row['id']}")
        return variant(self.rows, self.palette, i - len(self.rows))


def import_esci(run: Run) -> dict:
    """The ESCI products through `manage.py import_catalog` (announcements off: the bench
    embeds them itself), and the dev queries and judgments evaluate_search reads."""
    from django.core.management import call_command

    from catalog.models import Product
    from catalog.signals import products_changed
    from search import receivers

    sys.path.insert(0, str(BENCH))
    import esci_to_jsonl

    paths = esci_to_jsonl.convert(ESCI, run.root / "esci")
    run.esci = paths
    t = time.perf_counter()
    products_changed.disconnect(receivers.on_products_changed)
    try:
        call_command("import_catalog", str(paths["products"]), verbosity=0)
    finally:
        products_changed.connect(receivers.on_products_changed)
    with open(paths["products"], encoding="utf-8") as handle:
        skus = [json.loads(line)["sku"] for line in handle if line.strip()]
    ids = list(Product.objects.filter(sku__in=skus).order_by("id").values_list("id", flat=True))
    if len(ids) != len(skus):
        raise RuntimeError(f"ESCI import: {len(ids)} of {len(skus)} products")
    seconds = time.perf_counter() - t
    log(f"imported the {len(ids):,} ESCI products in {seconds:.0f} s")
    return {"products": len(ids), "import_s": rnd(seconds, 1), "ids": ids}


def copy_products(items: list[dict]) -> list[int]:
    """These products with COPY; their ids, in order."""
    from django.db import connection

    from catalog.services import category_for_path

    categories = {p: category_for_path(p).pk for p in sorted({it["path"] for it in items})}
    now = datetime.now(UTC)
    with connection.cursor() as cursor:
        with cursor.cursor.copy(
            "COPY catalog_product (sku, name, description, brand, price, currency,"
            " attributes, category_id, active, created_at, updated_at) FROM STDIN"
        ) as copy:
            for it in items:
                copy.write_row((
                    it["sku"], it["name"], "", it["brand"], f"{it['price']:.2f}", "USD",
                    json.dumps(it["attributes"]), categories[it["path"]], True, now, now,
                ))  # fmt: skip
        cursor.execute(
            "SELECT id, sku FROM catalog_product WHERE sku = ANY(%s)", [[it["sku"] for it in items]]
        )
        by_sku = dict((sku, pk) for pk, sku in cursor.fetchall())
    return [by_sku[it["sku"]] for it in items]


def index_products(run: Run, ids: list[int], *, build: bool = True) -> dict:
    """Vectors (cache or model), keyword documents, word statistics, then the graph."""
    from search.indexing.lexical import refresh_lexeme_stats, refresh_lexical

    timings: dict = {}
    drop_hnsw(run)
    timings["vectors"] = embed_catalog(run, ids)
    t = time.perf_counter()
    for s in range(0, len(ids), 5000):
        refresh_lexical(product_ids=ids[s : s + 5000])
    # The word statistics the keyword leg weighs words by (the sweeper keeps them in a
    # shop); without them every word weighs 1 and hybrid figures are not the shipped ones.
    refresh_lexeme_stats()
    timings["lexical_s"] = rnd(time.perf_counter() - t, 1)
    if build:
        timings.update({k: rnd(v, 1) for k, v in build_hnsw(run).items()})
    return timings


def grow_catalog(run: Run, target: int, *, build: bool = True) -> dict:
    """Add the next generated products (fashion rows, then variants) until the catalog has
    `target` products, and index them. Returns the timings."""
    from catalog.models import Product

    have = Product.objects.count()
    if target <= have:
        return {}
    generated = Product.objects.filter(sku__regex=rf"^({FASHION_PREFIX}|{VARIANT_PREFIX})").count()
    source = run.catalog_source
    t = time.perf_counter()
    items = [source.item(i) for i in range(generated, generated + target - have)]
    ids = copy_products(items)
    timings = {"copy_products_s": rnd(time.perf_counter() - t, 1)}
    timings.update(index_products(run, ids, build=build))
    return timings


def catalog_makeup() -> dict:
    """How many products of each source the catalog holds."""
    from catalog.models import Product

    total = Product.objects.count()
    fashion = Product.objects.filter(sku__startswith=FASHION_PREFIX).count()
    variants = Product.objects.filter(sku__startswith=VARIANT_PREFIX).count()
    ingested = Product.objects.filter(sku__startswith="FASH-").count()
    return {
        "products": total,
        "esci": total - fashion - variants - ingested,
        "fashion": fashion,
        "fashion_variants": variants,
        "ingested_fashion_with_photos": ingested,
    }


def start_catalog(run: Run) -> dict:
    """The ESCI products, indexed: the first catalog the bench measures (relevance on
    the ESCI products alone)."""
    from django.conf import settings

    a = run.args
    run.ingest_total = a.ingest + settings.VITRINE_EMBED_TASK_SIZE if a.ingest > 0 else 0
    run.catalog_source = CatalogSource(ingest_ids(run.ingest_total))
    esci = import_esci(run)
    ids = esci.pop("ids")
    return {**esci, **index_products(run, ids)}
