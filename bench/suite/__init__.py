"""The phases of `make bench`, one module each; bench/run_bench.py runs them in order.

common (paths, figures, distinct queries) <- servers (embedded PostgreSQL + Redis, Celery
workers, gunicorn) <- state (one run's shared state) <- the phases: ingest, synthetic
(catalog and vectors), ann (recall, speedup, scale), overhead (API against its floor,
hybrid), filtered (fill rate), load (wrk, memory), remote, calibrate; report (goals, table,
latest.json) reads only the results.
"""
