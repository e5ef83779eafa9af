"""The WSGI entry point: gunicorn (`config.wsgi:application`) and runserver load it."""

from django.core.wsgi import get_wsgi_application

from config.bootstrap import bootstrap

bootstrap()  # before Django reads the settings (see config/bootstrap.py)
application = get_wsgi_application()

# Load the active index's query encoder in the background at boot, so the first shopper
# does not wait seconds for it (gunicorn and runserver both import this module).
from search.inference.loading import warm_up_in_background  # noqa: E402

warm_up_in_background()
