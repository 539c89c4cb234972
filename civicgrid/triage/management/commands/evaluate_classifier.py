"""``civicgrid evaluate_classifier``: the dispatch classifier's held-out figures."""

import json

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from civicgrid.triage.evaluation import evaluate, report


class Command(BaseCommand):
    @property
    def help(self):
        return _(
            "Measure the dispatch classifier on the held-out split of history (cases whose category a person set "
            "or confirmed): top-1 and top-3, per major class, and the most confused pairs. Fits a fresh model on "
            "the training split unless --active is given. Stores nothing."
        )

    def add_arguments(self, parser):
        parser.add_argument("--active", action="store_true", help=_("Measure the active stored model instead."))
        parser.add_argument("--confusions", type=int, default=10, help=_("How many confused pairs to list."))
        parser.add_argument("--json", action="store_true", help=_("Print the figures as JSON."))

    def handle(self, *args, **options):
        try:
            figures = evaluate(active=options["active"], confusions=options["confusions"])
        except ValueError as error:
            raise CommandError(str(error)) from None
        if options["json"]:
            self.stdout.write(json.dumps(figures, ensure_ascii=False, indent=2))
        else:
            self.stdout.write("\n".join(report(figures)))
