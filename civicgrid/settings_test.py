"""Settings for the test suite: the normal settings, with a throw-away key and fast hashing."""

import os
import tempfile
from pathlib import Path

os.environ["CIVICGRID_TESTING"] = "1"

from .settings import *  # noqa: F403

SECRET_KEY = "test-only-key-" + "x" * 50
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
MEDIA_ROOT = Path(tempfile.mkdtemp(prefix="civicgrid-media-"))
CELERY_TASK_ALWAYS_EAGER = True
ALLOWED_HOSTS = ["testserver", "127.0.0.1", "localhost"]
