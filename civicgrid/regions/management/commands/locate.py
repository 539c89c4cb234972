"""``civicgrid locate LON LAT`` and ``civicgrid locate --csv FILE``"""

import csv
import time

import numpy as np
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from civicgrid.core.geo import SUPPORTED_CRS
from civicgrid.regions.locator import locate, locate_many


class Command(BaseCommand):
    help = (
        "Find the grid (or the finest region with a boundary) containing a point and list its "
        "ancestors: 'locate 118.097 24.576'. With --csv FILE, locate every row of a CSV with lon,lat "
        "columns and write it back to standard output with a 'code' column added."
    )

    def add_arguments(self, parser):
        parser.add_argument("lon", nargs="?", type=float, help="longitude")
        parser.add_argument("lat", nargs="?", type=float, help="latitude")
        parser.add_argument("--crs", choices=SUPPORTED_CRS, default="wgs84",
                            help="coordinate system of the input (gcj02: Chinese phone maps)")
        parser.add_argument("--csv", dest="csv_file", metavar="FILE", help="CSV with lon,lat columns to locate in one batch")

    def handle(self, *args, lon, lat, crs, csv_file, **options):
        if csv_file:
            return self._batch(csv_file, crs)
        if lon is None or lat is None:
            raise CommandError(_("Give LON LAT, or --csv FILE."))
        location = locate(lon, lat, crs)
        if location is None:
            raise CommandError(_("No grid or region with a boundary contains the point (%(lon)s, %(lat)s, %(crs)s).")
                               % {"lon": lon, "lat": lat, "crs": crs})
        self.stdout.write(_("matched level: %(level)s") % {"level": location.level})
        for region in location.path:
            self.stdout.write(f"{region.level:<10} {region.code:<15} {region.name}")

    def _batch(self, path, crs):
        try:
            with open(path, encoding="utf-8-sig", newline="") as handle:
                rows = list(csv.DictReader(handle))
        except OSError as exc:
            raise CommandError(str(exc)) from exc
        if rows and not {"lon", "lat"} <= set(rows[0]):
            raise CommandError(_("The CSV needs lon and lat columns."))
        try:
            lons = np.array([float(r["lon"]) for r in rows])
            lats = np.array([float(r["lat"]) for r in rows])
        except (TypeError, ValueError) as exc:
            raise CommandError(_("Row with a lon/lat that is not a number: %(error)s") % {"error": exc}) from exc
        started = time.perf_counter()
        codes = locate_many(lons, lats, crs)
        elapsed = time.perf_counter() - started
        fields = [*(rows[0].keys() if rows else ["lon", "lat"]), "code"]
        writer = csv.DictWriter(self.stdout, fieldnames=fields, lineterminator="\n")
        writer.writeheader()
        for row, code in zip(rows, codes, strict=True):
            writer.writerow({**row, "code": code or ""})
        located = sum(1 for c in codes if c is not None)
        self.stderr.write(_("%(located)d of %(total)d points located in %(seconds).3f s.") % {
            "located": located, "total": len(rows), "seconds": elapsed})
