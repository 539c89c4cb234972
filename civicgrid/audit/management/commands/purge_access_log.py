"""``civicgrid purge_access_log``: delete access-log entries past their retention period."""

from django.conf import settings
from django.core.management.base import BaseCommand

from civicgrid.audit.actions import purge_expired, retention_cutoff
from civicgrid.audit.models import MIN_RETENTION_DAYS, AccessLogEntry


class Command(BaseCommand):
    help = (
        "Delete personal-data access-log entries older than the retention period "
        f"(CIVICGRID_ACCESS_LOG_RETENTION_DAYS, never fewer than {MIN_RETENTION_DAYS} days)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--days", type=int, default=None,
            help=f"Keep this many days (default {settings.CIVICGRID_ACCESS_LOG_RETENTION_DAYS}; "
                 f"values under {MIN_RETENTION_DAYS} count as {MIN_RETENTION_DAYS}).",
        )
        parser.add_argument("--dry-run", action="store_true", help="Only count what would be deleted.")

    def handle(self, *args, days=None, dry_run=False, **options):
        cutoff = retention_cutoff(days)
        if dry_run:
            count = AccessLogEntry.objects.filter(at__lt=cutoff).count()
            self.stdout.write(f"{count} entries older than {cutoff:%Y-%m-%d %H:%M} would be deleted.")
            return
        count = purge_expired(days)
        self.stdout.write(f"Deleted {count} entries older than {cutoff:%Y-%m-%d %H:%M}.")
