"""A minimal Django project that serves django-helpdesk (installed from PyPI into
``bench/out/helpdesk-venv`` by ``bench/helpdesk_compare.py``) for the peer comparison.

Our own settings, URLs and data loader only; django-helpdesk's code stays in its package.
"""
