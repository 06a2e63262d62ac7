"""Deployment checks of our own, run by ``wuye manage check --deploy``."""

from django.conf import settings
from django.core.checks import Error, Tags, register


@register(Tags.security, deploy=True)
def development_secret_key(app_configs, **kwargs):
    # Django's own check (security.W009) accepts our development key: it is long and
    # varied. Anyone can read it in the source, so sessions and signatures made with it
    # could be forged.
    if settings.SECRET_KEY == settings.DEVELOPMENT_SECRET_KEY:
        return [
            Error(
                "SECRET_KEY is the development key from the source code.",
                hint="Set SECRET_KEY in the environment to 50 or more random characters.",
                id="wuye.E001",
            )
        ]
    return []
