from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from civicgrid.taxonomy import actions


class Command(BaseCommand):
    help = (
        "Load or update the GB/T 47678.5-2026 categories (153 部件 + 250 事项), the social-governance "
        "categories, the default SLA rules and the default responsibility matrix. Idempotent: an "
        "administrator's edits stay."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--csv", dest="csv_files", action="append", type=Path, metavar="FILE",
            help="Load categories from this CSV (columns kind,code,name and optionally major_code, "
                 "major_name,keywords,is_public,auto_dispatch,description; kind 部件/事项/治理 or "
                 "component/matter/governance) instead of the shipped files. Repeatable.",
        )
        parser.add_argument("--no-matrix", action="store_true",
                            help="Do not add the default responsibility matrix.")

    def handle(self, *args, csv_files=None, no_matrix=False, **options):
        for path in csv_files or []:
            if not path.is_file():
                raise CommandError(f"No such file: {path}")
        try:
            categories = actions.load_standard_categories(csv_files)
            rules = 0 if no_matrix else actions.load_default_responsibility_matrix()
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from exc
        self.stdout.write(f"categories and SLA rules created or changed: {categories}")
        if not no_matrix:
            self.stdout.write(f"responsibility rules created: {rules}")
