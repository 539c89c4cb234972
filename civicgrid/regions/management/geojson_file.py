"""Reading an operator's GeoJSON file, with errors a command can print."""

import json

from django.core.management.base import CommandError
from django.utils.translation import gettext as _


def read_geojson(path: str) -> object:
    """The parsed file, or a ``CommandError`` naming the file and what is wrong with it."""
    try:
        with open(path, encoding="utf-8") as handle:
            return json.load(handle)
    except OSError as exc:
        raise CommandError(str(exc)) from exc
    except ValueError as exc:
        raise CommandError(_("%(file)s is not valid JSON: %(error)s") % {"file": path, "error": exc}) from exc
