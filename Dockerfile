# Vitrine: one image for every production role (web, GPU worker, CPU worker, beat, migrate);
# docker-compose.yml picks the role with `command:`. See docs/DEPLOY.md.
#
# torch: by default the plain PyPI wheel, which on linux/amd64 is the CUDA build (it brings
# its CUDA runtime as nvidia-* wheels; the host only needs the NVIDIA driver and the
# NVIDIA Container Toolkit). For a CPU-only image (smaller by several GB):
#   docker build --build-arg TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu .
# TORCH_SPEC pins another version; keep it inside the pyproject range or pip replaces it.
FROM python:3.11-slim

ARG TORCH_SPEC="torch>=2.6,<2.15"
ARG TORCH_INDEX_URL=""

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    HF_HOME=/var/cache/huggingface \
    VITRINE_VAR_DIR=/var/lib/vitrine \
    VITRINE_MEDIA_ROOT=/var/lib/vitrine/media \
    VITRINE_STATIC_ROOT=/app/staticfiles

RUN groupadd --system --gid 10001 vitrine \
    && useradd --system --uid 10001 --gid vitrine --home-dir /home/vitrine --create-home \
       --shell /usr/sbin/nologin vitrine

WORKDIR /app

# 1. torch alone: the biggest layer, changed least often.
RUN pip install ${TORCH_INDEX_URL:+--index-url "$TORCH_INDEX_URL"} "$TORCH_SPEC"

# 2. The project's dependencies, read from pyproject.toml, so that editing the code does not
#    reinstall them. torch is already satisfied and stays as installed above.
COPY pyproject.toml ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" \
        > /tmp/requirements.txt \
    && pip install -r /tmp/requirements.txt \
    && rm /tmp/requirements.txt

# 2b. Optional extras of pyproject.toml by name, comma-separated (build arg VITRINE_EXTRAS),
#     e.g. `s3` for photos in a bucket that workers on other hosts share (docs/DEPLOY.md).
ARG VITRINE_EXTRAS=""
RUN if [ -n "$VITRINE_EXTRAS" ]; then \
        python -c "import os, tomllib; extras = tomllib.load(open('pyproject.toml', 'rb'))['project']['optional-dependencies']; print('\n'.join(r for name in os.environ['VITRINE_EXTRAS'].split(',') if name.strip() for r in extras[name.strip()]))" \
            > /tmp/extras.txt \
        && pip install -r /tmp/extras.txt \
        && rm /tmp/extras.txt; \
    fi

# 3. The project itself. Installed editable on purpose: settings find `templates/` (top
#    level, not part of the wheel) and `manage.py` relative to config/settings.py, so the
#    code must run from this source tree, not from a copy in site-packages.
COPY . .
RUN pip install --no-deps -e .

# 4. Static files, at build time. manage.py starts the embedded PostgreSQL and Redis when
#    DATABASE_URL / REDIS_URL are unset (and the settings refuse to load without them);
#    collectstatic never connects, so unreachable placeholders are enough (nothing listens on
#    port 1) and the build needs no database. These values exist only for this one RUN step.
RUN DATABASE_URL=postgresql://collectstatic@127.0.0.1:1/none \
    REDIS_URL=redis://127.0.0.1:1/0 \
    DJANGO_SECRET_KEY=collectstatic-only-not-a-secret \
    VITRINE_DEBUG=0 \
    python manage.py collectstatic --noinput

# Writable state lives in volumes (media, model cache); the code stays root-owned and
# read-only for the app user. Named volumes mounted here inherit this ownership.
RUN mkdir -p "$VITRINE_MEDIA_ROOT" "$HF_HOME" \
    && chown -R vitrine:vitrine "$VITRINE_VAR_DIR" "$HF_HOME"

USER 10001:10001
EXPOSE 8000

# The web role; gunicorn reads WEB_CONCURRENCY for its worker count.
CMD ["gunicorn", "config.wsgi:application", "--bind", "0.0.0.0:8000", "--timeout", "60", \
     "--worker-tmp-dir", "/dev/shm", "--access-logfile", "-"]
