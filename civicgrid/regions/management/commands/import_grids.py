"""``civicgrid import_grids FILE.geojson``"""

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from civicgrid.regions.actions import GridImportError, import_grids
from civicgrid.regions.management.geojson_file import read_geojson


class Command(BaseCommand):
    help = (
        "Load a city's grid polygons (网格) from a GeoJSON FeatureCollection in WGS-84. Each feature has "
        "a 15-digit 'code' (12-digit community code + 3-digit sequence) and optionally a 'name'. Every "
        "feature is checked (closed valid polygon, known community, inside its parent's boundary, no "
        "overlap with other grids, no duplicate code); any problem rejects the whole file and all "
        "problems are listed. Re-importing updates the geometry of existing grids."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", metavar="FILE.geojson", help="GeoJSON FeatureCollection of grid polygons")
        parser.add_argument("--demo", action="store_true", help="mark the polygons as generated demo geometry")

    def handle(self, *args, file, demo, **options):
        collection = read_geojson(file)
        try:
            result = import_grids(collection, is_demo=demo)
        except GridImportError as exc:
            for problem in exc.problems:
                self.stderr.write(str(problem))
            raise CommandError(str(exc)) from exc
        self.stdout.write(_("%(total)d grids: %(created)d created, %(updated)d updated.") % {
            "total": result.total, "created": result.created, "updated": result.updated})
