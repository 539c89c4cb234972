"""``civicgrid import_boundaries FILE.geojson``"""

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from civicgrid.regions.actions import BoundaryError, set_boundaries
from civicgrid.regions.management.geojson_file import read_geojson


class Command(BaseCommand):
    help = (
        "Set the boundaries of existing divisions (city, district, street, community) from a GeoJSON "
        "FeatureCollection in WGS-84 whose features carry the region 'code'. Any invalid geometry or "
        "unknown code rejects the whole file. Grids are loaded with import_grids instead."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", metavar="FILE.geojson", help="GeoJSON FeatureCollection of boundaries")
        parser.add_argument("--demo", action="store_true", help="mark the boundaries as demo geometry")

    def handle(self, *args, file, demo, **options):
        collection = read_geojson(file)
        features = collection.get("features") if isinstance(collection, dict) else None
        if not isinstance(features, list):
            raise CommandError(_("The file is not a GeoJSON FeatureCollection."))
        geometries = {}
        for index, feature in enumerate(features):
            code = str(((feature or {}).get("properties") or {}).get("code") or "")
            if not code:
                raise CommandError(_("Feature %(index)d has no 'code' property.") % {"index": index})
            geometries[code] = feature
        try:
            changed = set_boundaries(geometries, is_demo=demo)
        except BoundaryError as exc:
            for problem in exc.problems:
                self.stderr.write(str(problem))
            raise CommandError(str(exc)) from exc
        self.stdout.write(_("%(count)d boundaries set.") % {"count": changed})
