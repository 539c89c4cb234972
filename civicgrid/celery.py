"""Celery application. Production runs workers on Redis; the embedded default runs the same
idempotent job functions on an in-process timer instead."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "civicgrid.settings")

app = Celery("civicgrid")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
