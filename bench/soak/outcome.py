"""What the soak proves at the end about what it wrote and left: the catalog against the
admin's ledger, the index against the catalog, the batches a worker kill caught, and
processes left behind."""

from __future__ import annotations

from pathlib import Path

import psutil

# --- catalog and index ---------------------------------------------------------------------


def catalog_verdict(ledger) -> dict:
    """Every product the admin wrote is in the catalog once, as last written; every deleted
    one is gone. `lost_writes` counts the SKUs that are not as the ledger says."""
    from django.db.models import Count

    from catalog.models import Product

    skus = [s for s in ledger.written if s not in ledger.uncertain]
    rows = {
        sku: (name, price)
        for sku, name, price in Product.objects.filter(sku__in=skus).values_list(
            "sku", "name", "price"
        )
    }
    lost = []
    for sku in skus:
        want = ledger.written[sku]
        have = rows.get(sku)
        if want is None and have is not None:
            lost.append({"sku": sku, "problem": "deleted, but back"})
        elif want is not None and have is None:
            lost.append({"sku": sku, "problem": "missing"})
        elif want is not None and (have[0], price_text(have[1])) != (want["name"], want["price"]):
            written = f"{want['name']!r} {want['price']}"
            lost.append({"sku": sku, "problem": f"is {have[0]!r} {have[1]}, was written {written}"})
    duplicates = Product.objects.values("sku").annotate(n=Count("id")).filter(n__gt=1).count()
    return {
        "products_written": sum(1 for s in skus if ledger.written[s] is not None),
        "products_deleted": sum(1 for s in skus if ledger.written[s] is None),
        "uncertain_writes": len(ledger.uncertain),
        "lost_writes": len(lost),
        "lost_examples": lost[:10],
        "duplicate_skus": duplicates,
    }


def index_verdict() -> dict:
    """Every active product has one vector, made from its current document, in the active
    index."""
    from django.db.models import Count

    from search.indexing.embedding import expected_hashes, stale_products
    from search.indexing.indexes import active_index
    from search.models import ProductEmbedding

    index = active_index()
    expected = expected_hashes()
    stale = stale_products(index, expected) if index else sorted(expected)
    no_vector = (
        ProductEmbedding.objects.filter(
            index=index, product_id__in=list(expected), embedding=None
        ).count()
        if index
        else 0
    )
    duplicates = (
        ProductEmbedding.objects.values("index", "product")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
        .count()
    )
    return {
        "active_model": index.embedder if index else None,
        "active_products": len(expected),
        "unindexed": len(stale) + no_vector,
        "stale_or_missing": len(stale),
        "without_vector": no_vector,
        "duplicate_vectors": duplicates,
    }


def killed_batches_verdict(batches: list[list[int]]) -> dict:
    """The products of every embedding batch a worker kill interrupted: each one still in
    the catalog is indexed from its current document in the active index (the batch was
    re-delivered or swept, and nothing of it is lost)."""
    from search.indexing.embedding import expected_hashes, stale_products
    from search.indexing.indexes import active_index

    products = {pid for batch in batches for pid in batch}
    expected = {pid: h for pid, h in expected_hashes().items() if pid in products}
    index = active_index()
    stale = stale_products(index, expected) if index and expected else sorted(expected)
    return {
        "batches": len(batches),
        "products": len(products),
        "still_in_catalog": len(expected),
        "unindexed": len(stale),
    }


def price_text(price) -> str | None:
    return None if price is None else f"{price:.2f}"


# --- leftovers -----------------------------------------------------------------------------


def leftovers(root: Path) -> list[str]:
    """Live processes that belong to the soak's shop: our children, or anything whose command
    line or environment names its var dir."""
    me = psutil.Process()
    mine = {me.pid, *(p.pid for p in me.parents())}  # the soak and whoever started it
    found = {p.pid: p for p in me.children(recursive=True)}
    for p in psutil.process_iter(["cmdline"]):
        try:
            if p.pid in mine:
                continue
            if str(root) in " ".join(p.info["cmdline"] or []) or p.environ().get(
                "VITRINE_VAR_DIR"
            ) == str(root):
                found[p.pid] = p
        except psutil.Error:
            continue
    alive = []
    for pid, p in found.items():
        try:
            if p.status() != psutil.STATUS_ZOMBIE:
                alive.append(f"{pid} {' '.join(p.cmdline())[:100]}")
        except psutil.Error:
            continue
    return alive
