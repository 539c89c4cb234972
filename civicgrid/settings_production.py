"""Production settings: everything hardened. Refuses to start without SECRET_KEY and hosts."""

import os

from django.core.exceptions import ImproperlyConfigured

os.environ["DEBUG"] = "0"

from .settings import *  # noqa: F403
from .settings import env_bool

DEBUG = False
if not os.environ.get("SECRET_KEY"):
    raise ImproperlyConfigured("SECRET_KEY must be set in production.")
if len(SECRET_KEY) < 50 or SECRET_KEY.startswith("django-insecure"):  # noqa: F405
    raise ImproperlyConfigured("SECRET_KEY must be a long random value (50+ characters).")
if not ALLOWED_HOSTS:  # noqa: F405
    raise ImproperlyConfigured("ALLOWED_HOSTS must be set in production.")
# Personal data: real keys from the environment, well-formed, never the development ones.
if not os.environ.get("CIVICGRID_DATA_KEYS") or not os.environ.get("CIVICGRID_BLIND_INDEX_KEY"):
    raise ImproperlyConfigured("CIVICGRID_DATA_KEYS and CIVICGRID_BLIND_INDEX_KEY must be set in production.")
from civicgrid.core import crypto as _crypto  # noqa: E402

_crypto.parse_blind_index_key(CIVICGRID_BLIND_INDEX_KEY)  # noqa: F405
if any(k.id == _crypto.DEVELOPMENT_KEY_ID for k in _crypto.parse_data_keys(CIVICGRID_DATA_KEYS)) or (  # noqa: F405
    CIVICGRID_BLIND_INDEX_KEY == _crypto.development_blind_index_key()  # noqa: F405
):
    raise ImproperlyConfigured("The development personal-data keys cannot be used in production.")

SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", 31536000))
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SESSION_COOKIE_SECURE = True
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_SECURE = True
X_FRAME_OPTIONS = "DENY"
