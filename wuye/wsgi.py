import os

from django.core.wsgi import get_wsgi_application
from django.urls import get_resolver

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "wuye.settings")
application = get_wsgi_application()
# Import every view and API module now, not on each worker's first request: with
# gunicorn's --preload the workers fork with them loaded and share that memory
# (bench/README.md: 3 s of start-up and 5 s of first request per worker otherwise).
get_resolver().url_patterns  # noqa: B018
