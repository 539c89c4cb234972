"""Settings for civicgrid, read from the environment.

Defaults give the embedded mode: SQLite under var/, DEBUG off unless asked for. Production uses
``civicgrid.settings_production`` on top of this module.
"""

import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("CIVICGRID_VAR_DIR", BASE_DIR / "var"))


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG", False)

SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG and not env_bool("CIVICGRID_TESTING"):
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")
    # Development only: a fixed, obviously unsafe key so sessions survive restarts.
    SECRET_KEY = "django-insecure-civicgrid-development-key-do-not-use-in-production"

# Personal data at rest (issue 7, docs/personal-data.md): AES-256-GCM keys "<id>:<base64>", the
# first encrypts and all decrypt; a separate HMAC key for exact search (blind index).
CIVICGRID_DATA_KEYS = env_list("CIVICGRID_DATA_KEYS")
CIVICGRID_BLIND_INDEX_KEY = os.environ.get("CIVICGRID_BLIND_INDEX_KEY", "").strip()
if not CIVICGRID_DATA_KEYS or not CIVICGRID_BLIND_INDEX_KEY:
    if not DEBUG and not env_bool("CIVICGRID_TESTING"):
        raise ImproperlyConfigured(
            "CIVICGRID_DATA_KEYS and CIVICGRID_BLIND_INDEX_KEY must be set when DEBUG is off."
        )
    from civicgrid.core.crypto import development_blind_index_key, development_data_keys

    # Development and tests only: fixed keys derived from public labels.
    CIVICGRID_DATA_KEYS = CIVICGRID_DATA_KEYS or development_data_keys()
    CIVICGRID_BLIND_INDEX_KEY = CIVICGRID_BLIND_INDEX_KEY or development_blind_index_key()
# How many reverse proxies (nginx) add to X-Forwarded-For; 0 = trust REMOTE_ADDR only. The access
# log records the client address found this way.
CIVICGRID_PROXY_COUNT = int(os.environ.get("CIVICGRID_PROXY_COUNT", 0))
# Access log retention (days); never below 184 (six months), whatever is configured.
CIVICGRID_ACCESS_LOG_RETENTION_DAYS = int(os.environ.get("CIVICGRID_ACCESS_LOG_RETENTION_DAYS", 365))

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_filters",
    "import_export",
    "civicgrid.core",
    "civicgrid.regions",
    "civicgrid.org",
    "civicgrid.webhooks",
    "civicgrid.taxonomy",
    "civicgrid.cases",
    "civicgrid.intake",
    "civicgrid.disputes",
    "civicgrid.dedup",
    "civicgrid.triage",
    "civicgrid.analytics",
    "civicgrid.registry",
    "civicgrid.web",
    "civicgrid.demo",
    "civicgrid.audit",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Django's, with the message storage made only for requests that use it (pages, not the API).
    "civicgrid.core.middleware.LazyMessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "civicgrid.urls"
WSGI_APPLICATION = "civicgrid.wsgi.application"
ASGI_APPLICATION = "civicgrid.asgi.application"
AUTH_USER_MODEL = "org.User"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
            ],
        },
    },
]

# --- database -------------------------------------------------------------------------------
VAR_DIR.mkdir(parents=True, exist_ok=True)
DATABASE_URL = os.environ.get("DATABASE_URL") or f"sqlite:///{VAR_DIR / 'civicgrid.sqlite3'}"
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets readers work while one writer commits; IMMEDIATE takes the write lock at BEGIN so
    # two writers queue instead of failing with "database is locked" half-way through.
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;",
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# --- language and time ------------------------------------------------------------------------
LANGUAGE_CODE = os.environ.get("LANGUAGE_CODE", "zh-hans")
LANGUAGES = [("zh-hans", _("Simplified Chinese")), ("en", _("English"))]
TIME_ZONE = os.environ.get("TIME_ZONE", "Asia/Shanghai")
USE_I18N = True
USE_TZ = True
LOCALE_PATHS = [BASE_DIR / "civicgrid" / "locale"]

# --- static files (served by WhiteNoise in the embedded mode; no CDN) ------------------------
STATIC_URL = "static/"
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", VAR_DIR / "static"))
STATICFILES_DIRS = [BASE_DIR / "civicgrid" / "web" / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
MEDIA_URL = "media/"
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", VAR_DIR / "media"))

LOGIN_URL = "/accounts/login/"

# --- API ----------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # DRF's token authentication with the token's user kept per process (docs/decisions/0007).
        # First, so that a request without valid credentials is answered 401 with
        # "WWW-Authenticate: Token" (DRF takes the challenge from the first class), not 403.
        "civicgrid.org.authentication.CachedTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.LimitOffsetPagination",
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "civicgrid.core.api.exception_handler",
    "DEFAULT_RENDERER_CLASSES": [
        "civicgrid.core.rendering.AnswerJSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "DEFAULT_CONTENT_NEGOTIATION_CLASS": "civicgrid.core.rendering.ContentNegotiation",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "civicgrid API",
    "DESCRIPTION": "Grid-based social governance platform (网格化社会治理).",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    # Swagger UI from the installed sidecar package: no CDN on government intranets.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {
        "RegionLevelEnum": "civicgrid.regions.models.Region.Level",
        "CentreLevelEnum": "civicgrid.org.models.CentreLevel",
        "DepartmentKindEnum": "civicgrid.org.models.DepartmentKind",
        "CategoryKindEnum": "civicgrid.taxonomy.models.CategoryKind",
        "CaseStateEnum": "civicgrid.cases.workflow.State",
        "AssignmentStateEnum": "civicgrid.cases.workflow.AssignmentState",
        "DisputeRiskLevelEnum": "civicgrid.disputes.models.RiskLevel",
        "DisputeFailureRouteEnum": "civicgrid.disputes.models.FailureRoute",
        "DisputePartyRoleEnum": "civicgrid.disputes.models.PartyRole",
        "DisputeOutcomeEnum": "civicgrid.disputes.models.Outcome",
        "MediationMethodEnum": "civicgrid.disputes.models.MediationMethod",
        "MediationSessionResultEnum": "civicgrid.disputes.models.SessionResult",
        "JudicialConfirmationStateEnum": "civicgrid.disputes.models.ConfirmationState",
        "FollowUpPerformanceEnum": "civicgrid.disputes.models.Performance",
        "RiskReviewDecisionEnum": "civicgrid.disputes.models.ReviewDecision",
        "VisitItemKindEnum": "civicgrid.registry.models.ItemKind",
    },
}

# --- background work --------------------------------------------------------------------------
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "redis://127.0.0.1:6379/0")
CELERY_RESULT_BACKEND = os.environ.get("CELERY_RESULT_BACKEND", "")
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_TIMEZONE = TIME_ZONE
# The deadline sweep (due soon, overdue, 督办, escalation) every minute; idempotent.
CELERY_BEAT_SCHEDULE = {
    "sweep-deadlines": {"task": "civicgrid.cases.tasks.sweep_deadlines_task", "schedule": 60.0},
    "webhooks-retry": {"task": "civicgrid.webhooks.tasks.retry_due_deliveries", "schedule": 60.0},
    "intake-callbacks-retry": {"task": "civicgrid.intake.tasks.retry_due_callbacks", "schedule": 60.0},
    "purge-idempotency-records": {
        "task": "civicgrid.core.tasks.purge_idempotency_records_task", "schedule": 3600.0,
    },
    "purge-access-log": {"task": "civicgrid.audit.tasks.purge_access_log_task", "schedule": 86400.0},
    "disputes-windows": {"task": "civicgrid.disputes.tasks.sweep_disputes_task", "schedule": 300.0},
    # 智能分拨: retrain when enough new filings arrived (the task checks; cheap when nothing is new).
    "retrain-classifier": {"task": "civicgrid.triage.tasks.retrain_classifier_task", "schedule": 3600.0},
}
# The embedded mode has no beat: civicgrid.core.scheduler runs this same schedule in the serving process.
CIVICGRID_INPROCESS_SCHEDULER = env_bool(
    "CIVICGRID_INPROCESS_SCHEDULER",
    DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3" and not env_bool("CIVICGRID_TESTING"),
)

# --- domain configuration -----------------------------------------------------------------------
# Office hours for working-time arithmetic (工作时间), local time.
CIVICGRID_OFFICE_HOURS = os.environ.get("CIVICGRID_OFFICE_HOURS", "08:30-12:00,14:30-17:30")
# How often a process re-reads the calendar revision counter to notice admin edits (seconds).
CIVICGRID_CALENDAR_RECHECK_SECONDS = int(os.environ.get("CIVICGRID_CALENDAR_RECHECK_SECONDS", 60))
# SLA: share of a stage's working time after which it is "due soon" (预警).
CIVICGRID_SLA_WARNING_SHARE = float(os.environ.get("CIVICGRID_SLA_WARNING_SHARE", 0.8))
# 督办: an overdue task gets a yellow card; this many working hours later, a red one.
CIVICGRID_SUPERVISION_RED_MARGIN_HOURS = float(os.environ.get("CIVICGRID_SUPERVISION_RED_MARGIN_HOURS", 8))
# 重办: days after an unsatisfied rating during which the centre may reopen a case.
CIVICGRID_REOPEN_WINDOW_DAYS = int(os.environ.get("CIVICGRID_REOPEN_WINDOW_DAYS", 7))
# Outbound department webhooks: attempts before giving up, first back-off and its growth factor.
CIVICGRID_WEBHOOK_MAX_ATTEMPTS = int(os.environ.get("CIVICGRID_WEBHOOK_MAX_ATTEMPTS", 6))
CIVICGRID_WEBHOOK_BACKOFF_SECONDS = int(os.environ.get("CIVICGRID_WEBHOOK_BACKOFF_SECONDS", 60))
CIVICGRID_WEBHOOK_BACKOFF_FACTOR = int(os.environ.get("CIVICGRID_WEBHOOK_BACKOFF_FACTOR", 5))
CIVICGRID_WEBHOOK_TIMEOUT_SECONDS = int(os.environ.get("CIVICGRID_WEBHOOK_TIMEOUT_SECONDS", 5))
# Photos (案件照片): the largest accepted upload, in bytes.
CIVICGRID_MAX_UPLOAD_BYTES = int(os.environ.get("CIVICGRID_MAX_UPLOAD_BYTES", 10 * 1024 * 1024))
# Maps draw our own polygons; a city with an intranet tile service may add it underneath.
CIVICGRID_MAP_TILE_URL = os.environ.get("CIVICGRID_MAP_TILE_URL", "")
CIVICGRID_MAP_TILE_ATTRIBUTION = os.environ.get("CIVICGRID_MAP_TILE_ATTRIBUTION", "")
# Centre levels whose overdue, still undispatched cases the sweep escalates to the next level.
CIVICGRID_AUTO_ESCALATE_LEVELS = tuple(env_list("CIVICGRID_AUTO_ESCALATE_LEVELS", "community"))
# Dispatch classifier (智能分拨, docs/classifier.md): confidence from which a predicted category is
# applied at intake without a person; how often a process re-reads the active model; training caps.
CIVICGRID_CLASSIFIER_THRESHOLD = float(os.environ.get("CIVICGRID_CLASSIFIER_THRESHOLD", 0.8))
CIVICGRID_CLASSIFIER_RECHECK_SECONDS = float(os.environ.get("CIVICGRID_CLASSIFIER_RECHECK_SECONDS", 30))
CIVICGRID_CLASSIFIER_MAX_PER_CATEGORY = int(os.environ.get("CIVICGRID_CLASSIFIER_MAX_PER_CATEGORY", 150))
CIVICGRID_CLASSIFIER_RETRAIN_MIN_NEW = int(os.environ.get("CIVICGRID_CLASSIFIER_RETRAIN_MIN_NEW", 50))
# Classify reports without a category at intake (off in the test suite unless a test turns it on).
CIVICGRID_CLASSIFY_AT_INTAKE = env_bool("CIVICGRID_CLASSIFY_AT_INTAKE", not env_bool("CIVICGRID_TESTING"))
# PostgreSQL: each process learns of changed generation tokens by LISTEN/NOTIFY instead of
# reading them on every request (civicgrid.regions.generation).
CIVICGRID_GENERATION_LISTENER = env_bool("CIVICGRID_GENERATION_LISTENER", True)
# Web processes load the intake's in-memory data before serving (civicgrid.warmup).
CIVICGRID_WARM_UP = env_bool("CIVICGRID_WARM_UP", True)
# Web processes: how soon a thread waiting for the GIL gets it, in milliseconds (civicgrid.warmup;
# CPython's default is 5; 0 leaves it).
CIVICGRID_GIL_SWITCH_INTERVAL_MS = float(os.environ.get("CIVICGRID_GIL_SWITCH_INTERVAL_MS", 0.5))
# Group commit (civicgrid.cases.group_commit): reports arriving at one process at the same moment
# are stored in one transaction. Off: each report is stored on its own.
CIVICGRID_INTAKE_GROUP_COMMIT = env_bool("CIVICGRID_INTAKE_GROUP_COMMIT", True)
# import_cases on PostgreSQL: worker processes preparing the next batches while one is stored
# (0: none; civicgrid.intake.bulk).
CIVICGRID_IMPORT_WORKERS = int(os.environ.get("CIVICGRID_IMPORT_WORKERS", 2))
# PostgreSQL: hot statements are server-side prepared (civicgrid.core.sql). Turn off behind a
# connection pooler in transaction mode (PgBouncer), where a prepared statement may be on another
# server connection.
CIVICGRID_DB_PREPARED = env_bool("CIVICGRID_DB_PREPARED", True)
# Duplicate merging (重复件合并, docs/duplicates.md): where to look (per-category overrides in the
# admin), and the scores above which a report is merged automatically / shown to the dispatcher.
CIVICGRID_DEDUP_RADIUS_M = float(os.environ.get("CIVICGRID_DEDUP_RADIUS_M", 150))
CIVICGRID_DEDUP_WINDOW_HOURS = float(os.environ.get("CIVICGRID_DEDUP_WINDOW_HOURS", 72))
CIVICGRID_DEDUP_AUTO_MERGE_SCORE = float(os.environ.get("CIVICGRID_DEDUP_AUTO_MERGE_SCORE", 0.68))
CIVICGRID_DEDUP_SUGGEST_SCORE = float(os.environ.get("CIVICGRID_DEDUP_SUGGEST_SCORE", 0.4))
# How soon other processes notice duplicate search rules edited in the admin.
CIVICGRID_DEDUP_RULES_RECHECK_SECONDS = float(os.environ.get("CIVICGRID_DEDUP_RULES_RECHECK_SECONDS", 60))

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "WARNING")},
}
