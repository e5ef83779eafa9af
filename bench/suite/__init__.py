"""The phases of `make bench`, one module each; bench/run_bench.py runs them in order.

common (paths, figures, distinct queries) <- servers (embedded PostgreSQL + Redis, Celery
workers, gunicorn) <- state (one run's shared state) <- the phases: ingest, synthetic
(catalog and vectors), ann (recall, speedup, scale), overhead (API against its floor,
hybrid), filtered (fill rate), load (wrk, memory), remote, calibrate; report (goals, table,
latest.json) reads only the results.

The app's modules (Django, catalog, search) are imported inside the phase functions: they
need django.setup(), which Run.prepare calls once the embedded servers are up.
"""
