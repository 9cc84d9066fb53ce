"""Django settings for yilian. Everything configurable comes from ``config.env``.

``YILIAN_ENV=production`` turns on the production profile, which refuses to
start without a real secret key and allowed hosts.
"""

from __future__ import annotations

import sys
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

from yilian.config import env

BASE_DIR = env.BASE_DIR
PACKAGE_DIR = Path(__file__).resolve().parents[1]
VAR_DIR = BASE_DIR / "var"

ENVIRONMENT = env.get("YILIAN_ENV", "development")
PRODUCTION = ENVIRONMENT == "production"
TESTING = env.get_bool("YILIAN_TESTING", False) or "pytest" in sys.modules

_DEV_SECRET = "dev-only-insecure-secret-key-change-me-in-production-0123456789"
SECRET_KEY = env.get("SECRET_KEY", "" if PRODUCTION else _DEV_SECRET)
DEBUG = env.get_bool("DEBUG", not PRODUCTION)
ALLOWED_HOSTS = env.get_list("ALLOWED_HOSTS", "" if PRODUCTION else "127.0.0.1,localhost,testserver")

if PRODUCTION:
    if not SECRET_KEY or SECRET_KEY == _DEV_SECRET or len(SECRET_KEY) < 50:
        raise ImproperlyConfigured("SECRET_KEY must be set to a random value of 50+ characters.")
    if not ALLOWED_HOSTS:
        raise ImproperlyConfigured("ALLOWED_HOSTS must be set in production.")

# Key for the keyed hash and the encryption of resident ID numbers.
PERSON_IDENTIFIER_KEY = env.get("PERSON_IDENTIFIER_KEY", "" if PRODUCTION else SECRET_KEY)
if PRODUCTION and len(PERSON_IDENTIFIER_KEY) < 32:
    raise ImproperlyConfigured("PERSON_IDENTIFIER_KEY must be set (32+ characters) in production.")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_tasks",
    "django_tasks_db",
    "yilian.core",
    "yilian.accounts",
    "yilian.institutions",
    "yilian.people",
    "yilian.notifications",
    "yilian.encounters",
    "yilian.referrals",
    "yilian.diagnostics",
    "yilian.telemedicine",
    "yilian.family_doctors",
    "yilian.chronic_care",
    "yilian.prescriptions",
    "yilian.outreach",
    "yilian.capacity_building",
    "yilian.insurance",
    "yilian.ingestion",
    "yilian.indicators",
    "yilian.assessment",
    "yilian.cockpit",
    "yilian.demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "yilian.core.middleware.RequestIdMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "yilian.config.urls"
WSGI_APPLICATION = "yilian.config.wsgi.application"
ASGI_APPLICATION = "yilian.config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "yilian.core.ui.context_processors.shell",
                "yilian.notifications.context_processors.notifications",
            ],
        },
    }
]

DATABASES = {
    "default": env.parse_database_url(env.get("DATABASE_URL", "sqlite:///var/yilian.sqlite3")).as_django()
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "accounts:login"

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
if TESTING:
    # Argon2 is deliberately slow; tests create many users.
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    # Django's own, with a message its zh_Hans catalogue translates (see the module).
    {"NAME": "yilian.accounts.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Login throttling: this many failures for one username within the window
# (counted from the last failure) locks further attempts for the window.
LOGIN_FAILURE_LIMIT = env.get_int("LOGIN_FAILURE_LIMIT", 5)
LOGIN_FAILURE_WINDOW_SECONDS = env.get_int("LOGIN_FAILURE_WINDOW_SECONDS", 900)
# The same for one client address: higher, since a whole hospital may sit behind one gateway.
LOGIN_ADDRESS_FAILURE_LIMIT = env.get_int("LOGIN_ADDRESS_FAILURE_LIMIT", 50)
# API tokens (POST /api/v1/auth/token) expire after this many hours.
API_TOKEN_TTL_HOURS = env.get_int("API_TOKEN_TTL_HOURS", 12)
# Reverse proxies in front of the app that append to X-Forwarded-For (0: use REMOTE_ADDR).
TRUSTED_PROXY_COUNT = env.get_int("TRUSTED_PROXY_COUNT", 0)

CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.db.DatabaseCache",
        "LOCATION": "yilian_cache",
    },
    # Computed figures pages (the cockpit, ADR 0020), keyed on their data's generation. A table of
    # their own, so culling their many entries never evicts the login throttling counters above.
    # FIGURES_CACHE_URL=redis://host:6379/1 puts them in Redis instead (needs the redis package).
    "figures": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": env.get("FIGURES_CACHE_URL")}
        if env.get("FIGURES_CACHE_URL")
        else {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "yilian_figures_cache",
            "OPTIONS": {"MAX_ENTRIES": env.get_int("FIGURES_CACHE_MAX_ENTRIES", 2000)},
        }
    ),
}
# An entry of the figures cache lives at most this long, even if no generation it keys on changes.
FIGURES_CACHE_SECONDS = env.get_int("FIGURES_CACHE_SECONDS", 3600)

LANGUAGE_CODE = "zh-hans"
# Each language is named in itself, so a reader of either can find theirs.
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [PACKAGE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
# Uploads (agreements, referral files, DICOM studies, reports) go to the local file system under
# MEDIA_ROOT by default; FILE_STORAGE=s3 sends them to an S3-compatible store (extra "s3").
DEFAULT_STORAGE: dict[str, object] = {"BACKEND": "django.core.files.storage.FileSystemStorage"}
if env.get("FILE_STORAGE", "local") == "s3":
    DEFAULT_STORAGE = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": env.get("S3_BUCKET", "yilian"),
            "endpoint_url": env.get("S3_ENDPOINT_URL", "") or None,
            "region_name": env.get("S3_REGION", "") or None,
            "access_key": env.get("S3_ACCESS_KEY", "") or None,
            "secret_key": env.get("S3_SECRET_KEY", "") or None,
            "default_acl": None,
            "querystring_auth": True,
            "file_overwrite": False,
        },
    }
STORAGES = {
    "default": DEFAULT_STORAGE,
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if PRODUCTION
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
# The embedded database, collected static files and uploads live under var/.
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
WHITENOISE_USE_FINDERS = DEBUG or TESTING
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env.get("MEDIA_ROOT", str(VAR_DIR / "media")))
# Uploaded agreements and charters: PDF, images, office documents, at most this size.
UPLOAD_MAX_BYTES = env.get_int("UPLOAD_MAX_BYTES", 20 * 1024 * 1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = UPLOAD_MAX_BYTES
# Shared diagnostic centres: a DICOM study may be large; reports, ECG tracings and images are not.
# A proxy in front of the app must allow request bodies of DIAGNOSTICS_MAX_DICOM_BYTES too.
DIAGNOSTICS_MAX_DICOM_BYTES = env.get_int("DIAGNOSTICS_MAX_DICOM_BYTES", 200 * 1024 * 1024)
DIAGNOSTICS_MAX_FILE_BYTES = env.get_int("DIAGNOSTICS_MAX_FILE_BYTES", 20 * 1024 * 1024)

# Delivery channels besides the in-app inbox (dotted paths of classes with deliver()); SMS plugs in here.
NOTIFICATION_CHANNELS: list[str] = [c for c in env.get("NOTIFICATION_CHANNELS", "").split(",") if c]

TASKS = {
    "default": {
        "BACKEND": env.get("TASKS_BACKEND", "django_tasks_db.DatabaseBackend"),
    }
}

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "yilian.accounts.api.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "yilian.core.api.pagination.StandardPagination",
    "PAGE_SIZE": 25,
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "yilian.core.api.errors.exception_handler",
    "DEFAULT_THROTTLE_RATES": {"login": env.get("API_LOGIN_RATE", "10/min")},
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "yilian API",
    "DESCRIPTION": "医联 — REST API of the medical consortium platform.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "ENUM_NAME_OVERRIDES": {},
    # Serve Swagger UI from our own static files: the demo machine may have no internet.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = env.get_int("SESSION_COOKIE_AGE", 8 * 3600)
CSRF_COOKIE_HTTPONLY = False
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if PRODUCTION:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = env.get_bool("SECURE_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = env.get_int("SECURE_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    CSRF_TRUSTED_ORIGINS = env.get_list("CSRF_TRUSTED_ORIGINS", "")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.get("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
