"""WSGI entry point (gunicorn yilian.config.wsgi)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "yilian.config.settings")
application = get_wsgi_application()
