"""Django settings, read from the environment (12-factor).

Defaults suit the embedded demo: SQLite (WAL) under ``var/``, the database task
backend, a local-memory cache. Production sets ``DATABASE_URL``, ``SECRET_KEY``,
``ALLOWED_HOSTS`` and usually ``REDIS_URL``.
"""

import os
from pathlib import Path

import environ

PACKAGE_DIR = Path(__file__).resolve().parent
VAR_DIR = Path(environ.Env().str("WUYE_VAR_DIR", default=str(Path.cwd() / "var")))

env = environ.Env()

DEMO = env.bool("WUYE_DEMO", default=False)
DEBUG = env.bool("DEBUG", default=DEMO)
DEVELOPMENT_SECRET_KEY = "wuye-insecure-development-key-change-me-in-production"
SECRET_KEY = env.str("SECRET_KEY", default=DEVELOPMENT_SECRET_KEY)
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
    "csp",
    "template_partials",
    "django_tasks",
    "django_tasks_db",
    "django_rq",
    "django_tasks_rq",
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
    "wuye.quality",
    "wuye.privacy",
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
    "wuye.privacy.middleware.ExportAuditMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
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
def _database(url_variable: str, default: str | None = None) -> dict:
    config = env.db_url(url_variable, default=default)
    if config["ENGINE"] == "django.db.backends.sqlite3":
        config.setdefault("OPTIONS", {}).update(
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
        config.setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=60))
        config["CONN_HEALTH_CHECKS"] = True
        # JIT compiling costs 0.3–2 s on an analytics query over a large table, more than
        # running it does (bench/README.md, quality). libpq ignores PGOPTIONS once
        # ``options`` is set, so those are kept.
        config.setdefault("OPTIONS", {}).setdefault(
            "options", f"{os.environ.get('PGOPTIONS', '')} -c jit=off".strip()
        )
    return config


DATABASES = {"default": _database("DATABASE_URL", f"sqlite:///{VAR_DIR / 'wuye.sqlite3'}")}
# A streaming replica for reports, dashboards and exports (wuye.core.replica): they read
# from it; everything else, and every write, stays on the primary. Tests mirror it.
if env.str("DATABASE_REPLICA_URL", default=""):
    DATABASES["replica"] = {**_database("DATABASE_REPLICA_URL"), "TEST": {"MIRROR": "default"}}
DATABASE_ROUTERS = ["wuye.core.replica.ReportsReplicaRouter"]
# The alias report reads go to; "default" keeps them on the primary.
REPORTS_DATABASE = env.str(
    "REPORTS_DATABASE", default="replica" if "replica" in DATABASES else "default"
)
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
# "database": tasks are rows in the main database (django-tasks-db), nothing else to run.
# "redis": tasks go through Redis to RQ workers (django-tasks-rq), for many workers on
# other machines. ``wuye worker`` runs the matching worker.
TASK_BACKENDS = {
    "database": "django_tasks_db.DatabaseBackend",
    "redis": "django_tasks_rq.RQBackend",
}
TASKS_BACKEND = env.str("TASKS_BACKEND", default="database")
TASKS = {
    "default": {
        "BACKEND": TASK_BACKENDS.get(TASKS_BACKEND, TASKS_BACKEND),
        "QUEUES": ["default"],
    }
}
RQ_QUEUES = {
    "default": {
        "URL": env.str("TASKS_REDIS_URL", default=REDIS_URL or "redis://127.0.0.1:6379/0"),
        "DEFAULT_TIMEOUT": env.int("TASKS_TIMEOUT_SECONDS", default=3600),
        "QUEUE_CLASS": "wuye.core.taskqueue.RetryingQueue",
    }
}
# A task cut off by a dead worker runs again: RQ retries it (up to TASKS_RETRIES times);
# on the database queue a worker silent for WORKER_LOST_AFTER_SECONDS loses its tasks
# to the queue (wuye.core.workers).
TASKS_RETRIES = env.int("TASKS_RETRIES", default=2)
WORKER_HEARTBEAT_SECONDS = env.int("WORKER_HEARTBEAT_SECONDS", default=15)
WORKER_LOST_AFTER_SECONDS = env.int("WORKER_LOST_AFTER_SECONDS", default=90)

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
SMS_CODE_TTL_SECONDS = 300
SMS_CODE_MAX_ATTEMPTS = 5
# Login codes per mobile, web form and API together (counted from the stored codes).
SMS_CODES_PER_HOUR = env.int("SMS_CODES_PER_HOUR", default=5)
SMS_CODES_PER_DAY = env.int("SMS_CODES_PER_DAY", default=10)

# --- Content-Security-Policy (django-csp 4: one dict, directives in DIRECTIVES) ----
# Scripts and styles come only from our static files: no inline <script>, no on*=
# handlers, no eval (htmx runs with allowEval off), no <style> blocks, and no style=""
# attributes in our templates (tests/test_csp.py checks them; wuye/static/js/wuye.js sets
# data-width / data-color through the CSSOM, which CSP allows). The one exception is
# style-src-attr 'unsafe-inline': the vendored ECharts builds its tooltips and labels as
# HTML with style attributes. Style attributes cannot run script nor, having no selectors,
# read the page (the CSS exfiltration tricks need <style> rules, still blocked); what they
# could load is limited by img-src/font-src. Photos and other media are streamed by Django
# views after their permission checks, also with MEDIA_STORAGE=s3 (the bucket stays
# private, no page links to it), so img-src needs no bucket endpoint; data: and blob:
# are for ECharts' exported images and the previews of photos picked for upload.
SELF = "'self'"
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "style-src-attr": ["'unsafe-inline'"],
        "img-src": [SELF, "data:", "blob:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": ["'none'"],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": ["'none'"],
    }
}

# --- notifications beyond the in-app centre (wuye.notifications) ----------------
# Outside channels switched on, by dotted path: add …channels.EmailChannel,
# …channels.SmsChannel, …channels.WeChatChannel. In-app only by default.
NOTIFICATION_CHANNELS = env.list(
    "NOTIFICATION_CHANNELS", default=["wuye.notifications.channels.InAppChannel"]
)
EMAIL_HOST = env.str("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
EMAIL_HOST_USER = env.str("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env.str("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)
EMAIL_USE_SSL = env.bool("EMAIL_USE_SSL", default=False)
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=10)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="webmaster@localhost")
NOTIFICATION_EMAIL_FROM = env.str("NOTIFICATION_EMAIL_FROM", default="")
# SMS and WeChat template messages: a logging provider for development, or the HTTP
# adapters (…providers.HttpSmsProvider / HttpWeChatProvider) posting signed JSON.
NOTIFICATION_SMS_PROVIDER = env.str(
    "NOTIFICATION_SMS_PROVIDER", default="wuye.notifications.providers.LoggingSmsProvider"
)
NOTIFICATION_SMS_URL = env.str("NOTIFICATION_SMS_URL", default="")
NOTIFICATION_SMS_API_KEY = env.str("NOTIFICATION_SMS_API_KEY", default="")
NOTIFICATION_SMS_SECRET = env.str("NOTIFICATION_SMS_SECRET", default="")
NOTIFICATION_SMS_TEMPLATE = env.str("NOTIFICATION_SMS_TEMPLATE", default="")
NOTIFICATION_WECHAT_PROVIDER = env.str(
    "NOTIFICATION_WECHAT_PROVIDER", default="wuye.notifications.providers.LoggingWeChatProvider"
)
NOTIFICATION_WECHAT_URL = env.str("NOTIFICATION_WECHAT_URL", default="")
NOTIFICATION_WECHAT_API_KEY = env.str("NOTIFICATION_WECHAT_API_KEY", default="")
NOTIFICATION_WECHAT_SECRET = env.str("NOTIFICATION_WECHAT_SECRET", default="")
NOTIFICATION_WECHAT_TEMPLATE = env.str("NOTIFICATION_WECHAT_TEMPLATE", default="")
NOTIFICATION_HTTP_TIMEOUT = env.int("NOTIFICATION_HTTP_TIMEOUT", default=10)
# Makes the links in email and SMS absolute, e.g. https://wuye.example.com
NOTIFICATION_BASE_URL = env.str("NOTIFICATION_BASE_URL", default="")
NOTIFICATION_SITE_NAME = env.str("NOTIFICATION_SITE_NAME", default="")
NOTIFICATION_TIME_ZONE = env.str("NOTIFICATION_TIME_ZONE", default="Asia/Shanghai")
# Outbound webhooks may not call loopback or private addresses unless allowed (dev only).
WEBHOOKS_ALLOW_PRIVATE = env.bool("WEBHOOKS_ALLOW_PRIVATE", default=False)

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
# Media (photos, attachments, workbooks, reports) on this disk, or in an S3-compatible
# bucket shared by every web and worker machine. Never public: Django views serve it
# after their permission checks, so the bucket stays private.
MEDIA_STORAGE = env.str("MEDIA_STORAGE", default="local")
MEDIA_BACKENDS = {
    "local": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "s3": {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": env.str("AWS_STORAGE_BUCKET_NAME", default="wuye-media"),
            "endpoint_url": env.str("AWS_S3_ENDPOINT_URL", default=None),
            "region_name": env.str("AWS_S3_REGION_NAME", default=None),
            "location": env.str("AWS_S3_PREFIX", default="media"),
            # Keys come from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (boto3's own).
            "default_acl": "private",
            "file_overwrite": False,
        },
    },
}
STORAGES = {
    "default": MEDIA_BACKENDS[MEDIA_STORAGE],
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
# Requests a resident may submit (H5 and API; staff taking requests at the desk or on
# site are not limited), counted from the orders over a sliding hour and 24 hours.
# 0: no limit.
WORKORDER_SUBMIT_PER_HOUR = env.int("WORKORDER_SUBMIT_PER_HOUR", default=10)
WORKORDER_SUBMIT_PER_DAY = env.int("WORKORDER_SUBMIT_PER_DAY", default=30)
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
    # A property company's site lives on its own domain; turn these off (env) when a
    # subdomain still serves plain HTTP.
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
    SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
