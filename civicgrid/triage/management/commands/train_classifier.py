"""``civicgrid train_classifier``: train, store and (when not worse) activate a classifier version."""

from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from civicgrid.triage.actions import train_classifier


class Command(BaseCommand):
    @property
    def help(self):
        return _(
            "Train a new version of the dispatch classifier on the category names and keywords and on every case "
            "whose category a person set or confirmed, store it with its held-out figures, and activate it when "
            "those are not worse than the active version's on the same held-out cases (or with --force)."
        )

    def add_arguments(self, parser):
        parser.add_argument("--force", action="store_true", help=_("Activate the new version whatever its figures."))

    def handle(self, *args, **options):
        result = train_classifier(force=options["force"])
        model = result.model
        figures = (f"top-1 {model.top1:.4f}, top-3 {model.top3:.4f} on {model.heldout_examples:,} held-out cases"
                   if model.top1 is not None else _("no held-out cases yet"))
        self.stdout.write(_("Version %(version)s: %(examples)s examples (%(cases)s cases), %(figures)s, %(seconds)s s.") % {
            "version": model.version, "examples": f"{model.examples:,}", "cases": f"{model.cases:,}",
            "figures": figures, "seconds": model.seconds})
        if result.activated:
            self.stdout.write(self.style.SUCCESS(_("Activated (%(reason)s).") % {"reason": result.reason}))
        else:
            self.stdout.write(self.style.WARNING(_("Stored but not activated (%(reason)s).") % {"reason": result.reason}))
