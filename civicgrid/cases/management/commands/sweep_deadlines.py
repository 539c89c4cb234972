"""``manage.py sweep_deadlines``: run one deadline sweep now (or at ``--now``)."""

import json

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from civicgrid.cases.sweep import sweep_deadlines


class Command(BaseCommand):
    help = (
        "Mark due-soon and overdue cases and tasks, issue supervision notices and escalate "
        "undispatched overdue cases, once. Safe to repeat or to run beside the scheduled sweep."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--now", metavar="ISO_TIME",
            help="Sweep as if it were this moment, e.g. 2026-10-12T09:00+08:00 (local time if no offset).",
        )

    def handle(self, *args, now=None, **options):
        moment = None
        if now:
            moment = parse_datetime(now)
            if moment is None:
                raise CommandError(f"--now: not an ISO date and time: {now!r}")
            if timezone.is_naive(moment):
                moment = timezone.make_aware(moment)
        result = sweep_deadlines(moment)
        self.stdout.write(json.dumps(result.as_dict(), sort_keys=True))
