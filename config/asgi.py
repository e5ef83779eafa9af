"""The ASGI entry point, for an ASGI server (`config.asgi:application`)."""

from django.core.asgi import get_asgi_application

from config.bootstrap import bootstrap

bootstrap()  # before Django reads the settings (see config/bootstrap.py)
application = get_asgi_application()
