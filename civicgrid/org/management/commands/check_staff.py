"""``civicgrid check_staff``: report staff whose role, placement or grids break the rules."""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from civicgrid.org.actions import validate_staff
from civicgrid.org.models import User


class Command(BaseCommand):
    help = (
        "Check every staff member's role against their department, command centre, jurisdiction "
        "and grids (the rules the admin and the actions enforce), e.g. after a bulk import. "
        "Exits with status 1 when any is invalid."
    )

    def add_arguments(self, parser):
        parser.add_argument("--active-only", action="store_true", help="Skip deactivated accounts.")

    def handle(self, *args, active_only=False, **options):
        users = User.objects.select_related("department__region", "centre__region", "jurisdiction")
        if active_only:
            users = users.filter(is_active=True)
        checked = invalid = 0
        for user in users.order_by("username").iterator(chunk_size=500):
            checked += 1
            try:
                validate_staff(user)
            except ValidationError as exc:
                invalid += 1
                for field, errors in exc.message_dict.items():
                    for message in errors:
                        self.stdout.write(f"{user.username}\t{field}\t{message}")
        summary = f"{checked} staff checked, {invalid} invalid."
        if invalid:
            raise CommandError(summary)
        self.stdout.write(self.style.SUCCESS(summary))
