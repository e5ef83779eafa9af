"""Import throughput: 10,000 fashion products (real photos where the data set has one)
through `catalog.imports.runner.run_import`, in-process, the way `import_catalog` runs it.

    VITRINE_VAR_DIR=/tmp/vt-bench .venv/bin/python bench/import_bench.py [--rows 10000] [--zip]

Uses ../shared/data/fashion (products.csv + images/); exits cleanly when it is absent. The
data is converted on the fly into a CSV in a temporary folder (never into the repo). No
worker runs, so the embedding tasks the import enqueues only wait in Redis (purged at the
end): the numbers are the import itself. Reports rows/s of a first import (everything
created, photos decoded and stored), of a re-import of the same file (everything unchanged)
and the process's peak RSS. Run it against its own VITRINE_VAR_DIR: it deletes the
products it created (SKU prefix FASH-) before and after; photos go to a temporary folder.
"""

from __future__ import annotations

import argparse
import csv
import os
import platform
import resource
import sys
import tempfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(os.environ.get("VITRINE_FASHION_DIR", ROOT.parent / "shared" / "data" / "fashion"))
PREFIX = "FASH-"


def build_csv(out: Path, rows: int) -> tuple[int, int]:
    """Our import format from the Kaggle columns; products with a photo first, then text-only
    ones. Streams: the source is read row by row."""
    with_photo = without = 0
    source = DATA / "products.csv"
    with open(out, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["sku", "name", "brand", "category", "price", "attributes", "images"])
        for want_photo in (True, False):
            with open(source, newline="", encoding="utf-8") as src:
                for row in csv.DictReader(src):
                    if with_photo + without >= rows:
                        break
                    has_photo = bool(row["image_file"]) and (DATA / row["image_file"]).is_file()
                    if has_photo != want_photo:
                        continue
                    attributes = {
                        k: row[k]
                        for k in ("gender", "baseColour", "season", "year", "usage")
                        if row[k]
                    }
                    name = row["productDisplayName"] or row["articleType"]
                    writer.writerow([
                        f"{PREFIX}{row['id']}",
                        name,
                        name.split(" ", 1)[0],
                        "/".join([row["masterCategory"], row["subCategory"], row["articleType"]]),
                        f"{(int(row['id']) % 9000) / 100 + 5:.2f}",
                        __import__("json").dumps(attributes),
                        row["image_file"].removeprefix("images/") if has_photo else "",
                    ])  # fmt: skip
                    with_photo += has_photo
                    without += not has_photo
    return with_photo, without


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--zip", action="store_true", help="photos from a zip (admin/API path)")
    args = parser.parse_args()
    if not (DATA / "products.csv").is_file():
        print(f"skipped: {DATA} is not here (the fashion data set is optional)")
        return 0

    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    # Photos go to a fresh folder: a first import really writes every file.
    media = tempfile.TemporaryDirectory(prefix="vitrine-bench-media-")
    os.environ["VITRINE_MEDIA_ROOT"] = media.name
    import django

    from config import embedded

    # The settings start nothing: the embedded servers of VITRINE_VAR_DIR, unless the URLs are set.
    embedded.start_if_needed()
    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from catalog.imports import runner
    from catalog.models import ImportJob, Product
    from config.celery import app

    call_command("migrate", verbosity=0)
    Product.objects.filter(sku__startswith=PREFIX).delete()
    with connection.cursor() as cursor:  # earlier runs' dead rows would slow this one
        cursor.execute("VACUUM ANALYZE catalog_product, catalog_productimage, catalog_category")
    rss_ready = peak_rss_mib()
    with tempfile.TemporaryDirectory() as tmp:
        data_file = Path(tmp) / "fashion.csv"
        with_photo, without = build_csv(data_file, args.rows)
        images = str(DATA / "images")
        if args.zip:
            images = str(Path(tmp) / "images.zip")
            with zipfile.ZipFile(images, "w", zipfile.ZIP_STORED) as archive:
                for path in sorted((DATA / "images").iterdir()):
                    archive.write(path, path.name)
        size_mib = data_file.stat().st_size / 2**20
        print(f"{with_photo + without} rows ({with_photo} with a photo), {size_mib:.1f} MiB CSV, "
              f"photos from {'a zip' if args.zip else 'a folder'}")  # fmt: skip
        results = {}
        for label in ("first import", "re-import"):
            job = ImportJob.objects.create(source_path=str(data_file), images_path=images)
            start = time.perf_counter()
            job = runner.run_import(job_id=job.pk)
            seconds = time.perf_counter() - start
            results[label] = (job, seconds)
            print(
                f"{label:>13}: {job.processed} rows in {seconds:.1f} s = "
                f"{job.processed / seconds:.0f} rows/s (created {job.created}, updated "
                f"{job.updated}, unchanged {job.unchanged}, failed {job.failed}, "
                f"warnings {job.warned}) [{job.status}]"
            )
    print(f"peak RSS: {peak_rss_mib():.0f} MiB (after Django setup: {rss_ready:.0f} MiB)")
    machine = platform.processor() or platform.machine()
    postgres = connection.pg_version // 10000
    print(f"machine: {machine}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
          f"PostgreSQL {postgres}; load average at the end: {os.getloadavg()[0]:.1f}")  # fmt: skip
    Product.objects.filter(sku__startswith=PREFIX).delete()
    app.control.purge()  # the embedding tasks nobody will run
    media.cleanup()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
