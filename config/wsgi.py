import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
application = get_wsgi_application()

# Load the active index's query encoder in the background at boot, so the first shopper
# does not wait seconds for it (gunicorn and runserver both import this module).
from search.inference import warm_up_in_background  # noqa: E402

warm_up_in_background()
