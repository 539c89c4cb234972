from django.core.management.base import BaseCommand, CommandError

from civicgrid.taxonomy.actions import KIND_NAMES
from civicgrid.taxonomy.models import Category
from civicgrid.taxonomy.selectors import explain


class Command(BaseCommand):
    help = ("Explain which department kinds lead and assist for a category at a region, by the "
            "responsibility matrix: the rule that won, why, and what else was considered. Exits with "
            "status 2 when the answer is ambiguous or no rule applies.")

    def add_arguments(self, parser):
        parser.add_argument("kind", help="Category kind: component/matter/governance (or 部件/事项/治理).")
        parser.add_argument("code", help="Five-digit category code, e.g. 06001.")
        parser.add_argument("region_code", help="Region code, e.g. 350211001001.")

    def handle(self, *args, kind, code, region_code, **options):
        if kind not in KIND_NAMES:
            raise CommandError(f"Unknown kind {kind!r}: use component, matter or governance.")
        if not region_code.isdigit() or len(region_code) > 15:
            raise CommandError(f"Not a region code: {region_code!r}")
        category = Category.objects.filter(kind=KIND_NAMES[kind], code=code).first()
        if category is None:
            raise CommandError(f"No {kind} category with code {code!r}; run load_categories first?")
        explanation = explain(category, region_code)
        self.stdout.write(f"{category} @ {region_code}")
        self.stdout.write(explanation.text)
        if explanation.ambiguous or explanation.rule is None:
            raise SystemExit(2)
