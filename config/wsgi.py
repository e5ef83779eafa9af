"""The WSGI entry point: gunicorn (`config.wsgi:application`) and runserver load it."""

from django.core.wsgi import get_wsgi_application

from config.bootstrap import bootstrap

bootstrap()  # before Django reads the settings (see config/bootstrap.py)
application = get_wsgi_application()

# Load the models and run one search before this process accepts a request (gunicorn's
# workers and runserver import this module before they serve), so the first shopper does
# not wait seconds for them. Gunicorn kills a worker that is silent for --timeout while it
# boots: keep it above the models' load time (docs/CONFIGURATION.md,
# VITRINE_WEB_PRELOAD_MODELS); and no --preload (search/warmup.py says why).
from search.warmup import warm_up_web_process  # noqa: E402

warm_up_web_process()
