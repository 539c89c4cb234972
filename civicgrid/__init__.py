"""civicgrid — open platform for grid-based municipal social governance (网格化社会治理)."""

from .celery import app as celery_app

__all__ = ["celery_app"]
