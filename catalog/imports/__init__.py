"""Bulk catalog imports: CSV or JSON Lines, with photos from a zip, a folder or URLs.

An upload (admin, API) or `import_catalog` becomes an `ImportJob`; an import worker runs it.
Which file does what, in the order a row meets them:

- `jobs.py`     an upload -> a pending job, queued for a worker; retry, resume stalled
                jobs, purge old uploads (the job's lifecycle).
- `runner.py`   runs a job: claims it, reads it in batches, commits each batch with the
                job's counters and report rows; continues after the last commit.
- `formats.py`  reads the file: CSV/JSONL sniffing, UTF-8 lines, the header, records with
                line numbers; what fails the whole file (checked before anything is written).
- `rows.py`     a row's validation: one row -> a clean product row, or every bad field with
                its reason (the API validates a product with the same rules).
- `photos.py`   a row's photos: the zip or folder, URLs through the guarded fetcher, the
                thread pool that fetches and checks them; photos for one API product.
- `report.py`   the failed rows as CSV, to fix and upload again.

Products and photos are written by `catalog.services` (`save_products`, in bulk); the Celery
tasks (`catalog.tasks`) only call `runner`, `jobs` and `photos` by id.
"""
