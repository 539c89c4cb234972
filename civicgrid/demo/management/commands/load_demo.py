"""``civicgrid load_demo``: the Xiamen demonstration data set."""

from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from civicgrid.demo.actions import load_demo


class Command(BaseCommand):
    @property
    def help(self):  # argparse wants a str, so translate when asked rather than at import
        return _(
            "Load (or refresh) the Xiamen demo: real division codes and district polygons, generated "
            "demo geometry for streets, communities and about 4,100 grids, departments, command centres, "
            "categories and one demo login per role. Safe to run again."
        )

    def handle(self, *args, **options):
        summary = load_demo()
        counts = summary.counts
        self.stdout.write(self.style.SUCCESS(_("Xiamen demo loaded in %(seconds).1f s.") % {"seconds": summary.seconds}))
        rows = [
            (_("districts"), counts["districts"]),
            (_("streets and towns"), counts["streets"]),
            (_("communities and villages"), counts["communities"]),
            (_("grids (demo geometry)"), counts["grids"]),
            (_("departments"), counts["departments"]),
            (_("command centres"), counts["centres"]),
            (_("demo users"), counts["users"]),
        ]
        rows += [(label, value) for label, value in summary.extra_counts.items()]
        for label, value in rows:
            self.stdout.write(f"  {label}: {value:,}")
        self.stdout.write("")
        self.stdout.write(_("Demo logins (password for all: %(password)s):") % {"password": summary.logins[0].password})
        width = max(len(login.username) for login in summary.logins)
        for login in summary.logins:
            self.stdout.write(f"  {login.username.ljust(width)}  {login.password}  {login.role_label}  {login.where}")
        self.stdout.write(_("Street, community and grid boundaries are generated demo geometry, not official."))
        if options["verbosity"] > 1:
            for step, seconds in summary.timings.items():
                self.stdout.write(f"  {step}: {seconds:.2f} s")
