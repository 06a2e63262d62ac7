"""Django settings, read from the environment (12-factor).

Defaults suit the embedded demo: SQLite (WAL) under ``var/``, the database task
backend, a local-memory cache. Production sets ``DATABASE_URL``, ``SECRET_KEY``,
``ALLOWED_HOSTS`` and usually ``REDIS_URL``.
"""

from pathlib import Path

import environ

PACKAGE_DIR = Path(__file__).resolve().parent
VAR_DIR = Path(environ.Env().str("WUYE_VAR_DIR", default=str(Path.cwd() / "var")))

env = environ.Env()

DEMO = env.bool("WUYE_DEMO", default=False)
DEBUG = env.bool("DEBUG", default=DEMO)
SECRET_KEY = env.str("SECRET_KEY", default="wuye-insecure-development-key-change-me-in-production")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_htmx",
    "template_partials",
    "django_tasks",
    "django_tasks_db",
    "wuye.core",
    "wuye.accounts",
    "wuye.estates",
    "wuye.people",
    "wuye.staff",
    "wuye.sla",
    "wuye.imports",
    "wuye.notifications",
    "wuye.web",
    "wuye.workorders",
    "wuye.facilities",
    "wuye.incidents",
    "wuye.billing",
    "wuye.notices",
    "wuye.activities",
    "wuye.surveys",
    "wuye.webhooks",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "wuye.core.middleware.DefaultLanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "wuye.accounts.middleware.ActorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "wuye.urls"
WSGI_APPLICATION = "wuye.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [PACKAGE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "wuye.accounts.context_processors.actor",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------
DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'wuye.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            # WAL lets readers and the writer work at the same time; IMMEDIATE
            # takes the write lock up front so concurrent writers wait instead of
            # failing with "database is locked" halfway through a transaction.
            "init_command": (
                "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=5000;"
            ),
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
        }
    )
else:
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=60))
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache ----------------------------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- Background tasks -----------------------------------------------------
TASKS = {
    "default": {
        "BACKEND": env.str("TASKS_BACKEND", default="django_tasks_db.DatabaseBackend"),
        "QUEUES": ["default"],
    }
}

# --- Auth -----------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = ["wuye.accounts.backends.MobileOrUsernameBackend"]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "accounts:login"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
SMS_GATEWAY = env.str("SMS_GATEWAY", default="wuye.accounts.sms.LoggingGateway")
SMS_CODE_TTL_SECONDS = 300
SMS_CODE_MAX_ATTEMPTS = 5

# --- i18n -----------------------------------------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [PACKAGE_DIR / "locale"]
TIME_ZONE = env.str("TIME_ZONE", default="Asia/Shanghai")
USE_I18N = True
USE_TZ = True

# --- Static and media -----------------------------------------------------
STATIC_URL = "/static/"
# Project-wide assets (stylesheet, vendored htmx built by scripts/build_assets.sh).
STATICFILES_DIRS = [PACKAGE_DIR / "static"]
# Without STATIC_ROOT, WhiteNoise serves straight from the app folders (finders);
# deployments may set it and run collectstatic for hashed, compressed files.
STATIC_ROOT = env.str("STATIC_ROOT", default=None)
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(VAR_DIR / "media")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if STATIC_ROOT
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
WHITENOISE_USE_FINDERS = True
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
IMPORT_MAX_UPLOAD_BYTES = env.int("IMPORT_MAX_UPLOAD_BYTES", default=20 * 1024 * 1024)
# Photos (wuye.core.images): bytes accepted, pixels decoded (decompression bombs),
# and the longer side of the stored JPEG.
PHOTO_MAX_BYTES = env.int("PHOTO_MAX_BYTES", default=10 * 1024 * 1024)
PHOTO_MAX_PIXELS = env.int("PHOTO_MAX_PIXELS", default=40_000_000)
PHOTO_MAX_SIDE = env.int("PHOTO_MAX_SIDE", default=2560)
# Documents kept with an asset in the equipment ledger (wuye.facilities.services).
FACILITY_ATTACHMENT_MAX_MB = env.int("FACILITY_ATTACHMENT_MAX_MB", default=20)
# The demo and test payment provider signs notifications with this (wuye.billing.providers).
BILLING_SANDBOX_SECRET = env.str(
    "BILLING_SANDBOX_SECRET", default="wuye-sandbox-development-secret"
)
# An online payment order still unpaid this long after it was made is closed (checked
# every 5 minutes; wuye.billing.orders).
BILLING_ORDER_TTL_MINUTES = env.int("BILLING_ORDER_TTL_MINUTES", default=30)

# --- Work orders ------------------------------------------------------------
# Open orders one person may hold before dispatch skips them (HC's default is 10).
WORKORDER_MAX_OPEN_PER_ASSIGNEE = env.int("WORKORDER_MAX_OPEN_PER_ASSIGNEE", default=10)
# A breached clock escalates to company-wide managers this long after its deadline.
WORKORDER_ESCALATE_AFTER_MINUTES = env.int("WORKORDER_ESCALATE_AFTER_MINUTES", default=60)
# A dispatched order nobody takes within this many minutes (by urgency) goes to the
# next candidate (automatic modes, at most WORKORDER_MAX_REDISPATCH times) or back to
# the dispatcher / the grab pool.
WORKORDER_TAKE_TIMEOUT_MINUTES = {
    "normal": env.int("WORKORDER_TAKE_TIMEOUT_NORMAL", default=30),
    "urgent": env.int("WORKORDER_TAKE_TIMEOUT_URGENT", default=10),
    "emergency": env.int("WORKORDER_TAKE_TIMEOUT_EMERGENCY", default=5),
}
WORKORDER_MAX_REDISPATCH = env.int("WORKORDER_MAX_REDISPATCH", default=3)
# Completed orders nobody rated close this long after completion, marked as not rated
# (excluded from satisfaction figures), unless they wait for a return visit.
WORKORDER_AUTO_CLOSE_HOURS = env.int("WORKORDER_AUTO_CLOSE_HOURS", default=48)
# A rating of 2 or less opens a service-recovery follow-up due within this many
# business minutes of the order's calendar.
WORKORDER_RECOVERY_MINUTES = env.int("WORKORDER_RECOVERY_MINUTES", default=240)

# --- Security (production) ------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
if env.bool("HTTPS", default=False):
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
