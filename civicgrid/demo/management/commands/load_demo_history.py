"""``civicgrid load_demo_history``: about two years of demo cases for the Xiamen demo."""

from datetime import date

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from civicgrid.demo.history import DEFAULT_CASES_PER_DAY, DEFAULT_SEED, history_cases, load_history


def _day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise CommandError(_("Give the end day as YYYY-MM-DD, not “%(value)s”.") % {"value": value}) from None


class Command(BaseCommand):
    @property
    def help(self):  # argparse wants a str, so translate when asked rather than at import
        return _(
            "Load (or replace) the demo case history: about two years of cases across categories, channels, "
            "districts and outcomes, with timelines, ratings and supervision notices. Needs the demo "
            "(load_demo). Running it again replaces the history made before; live cases are kept."
        )

    def add_arguments(self, parser):
        parser.add_argument("--years", type=float, default=2, help=_("Years of history ending on the end day (default 2)."))
        parser.add_argument("--days", type=int, default=None, help=_("Days of history instead of years."))
        parser.add_argument("--per-day", type=float, default=DEFAULT_CASES_PER_DAY,
                            help=_("Average cases a day (default %(default)s)."))
        parser.add_argument("--seed", type=int, default=DEFAULT_SEED,
                            help=_("Random seed: the same seed and end day give the same history."))
        parser.add_argument("--end", type=_day, default=None, help=_("Last day of the history (default today)."))
        parser.add_argument("--if-missing", action="store_true",
                            help=_("Do nothing when a demo history is already loaded (for make demo)."))

    def handle(self, *args, **options):
        if options["years"] <= 0 or (options["days"] is not None and options["days"] <= 0):
            raise CommandError(_("The history needs a positive length."))
        if options["if_missing"] and history_cases().exists():
            self.stdout.write(_("A demo history is already loaded (%(count)s cases); kept.") % {
                "count": f"{history_cases().count():,}"})
            return
        try:
            summary = load_history(years=options["years"], days=options["days"], cases_per_day=options["per_day"],
                                   seed=options["seed"], end=options["end"])
        except ValueError as error:
            raise CommandError(str(error)) from None
        self.stdout.write(self.style.SUCCESS(
            _("Demo history %(first)s – %(last)s loaded in %(seconds).1f s.") % {
                "first": summary.first_day, "last": summary.last_day, "seconds": summary.seconds}
        ))
        for label, value in summary.counts.items():
            self.stdout.write(f"  {label}: {value:,}")
        self.stdout.write("  " + ", ".join(f"{state} {n:,}" for state, n in summary.by_state.items()))
        if summary.deleted:
            self.stdout.write(_("Replaced %(count)s cases of an earlier history.") % {"count": f"{summary.deleted:,}"})
        if options["verbosity"] > 1:
            self.stdout.write("  " + ", ".join(f"{c} {n:,}" for c, n in summary.by_channel.items()))
            for step, seconds in summary.timings.items():
                self.stdout.write(f"  {step}: {seconds:.2f} s")
