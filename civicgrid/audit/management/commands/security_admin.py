"""``civicgrid security_admin``: appoint, remove or list security administrators (安全管理员).

The only way to give or take the role: the application refuses it to every account, so a system
administrator cannot open the access log to themselves (separation of duties)."""

import logging

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from civicgrid.org.models import GridAssignment, Role, User

log = logging.getLogger(__name__)


class Command(BaseCommand):
    help = (
        "Appoint (grant), remove (revoke) or list security administrators, who alone read the "
        "personal-data access log. Set the password afterwards with `changepassword USERNAME`."
    )

    def add_arguments(self, parser):
        parser.add_argument("operation", choices=["grant", "revoke", "list"])
        parser.add_argument("username", nargs="?")
        parser.add_argument("--create", action="store_true",
                            help="grant: create the account if it does not exist (no usable password yet).")

    def handle(self, *args, operation, username=None, create=False, **options):
        if operation == "list":
            for user in User.objects.filter(role=Role.SECURITY_ADMIN).order_by("username"):
                self.stdout.write(f"{user.username}{'' if user.is_active else ' (inactive)'}")
            return
        if not username:
            raise CommandError("Name the account: security_admin grant|revoke USERNAME.")
        with transaction.atomic():
            user = User.objects.select_for_update().filter(username=username).first()
            if user is None and operation == "grant" and create:
                user = User(username=username)
                user.set_unusable_password()
            if user is None:
                raise CommandError(f"No account {username!r} (use --create to make one).")
            if operation == "grant":
                if user.is_superuser:
                    raise CommandError("A superuser cannot also be the security administrator.")
                # Nothing but the log: no department, centre, jurisdiction or grids.
                user.role, user.department, user.centre, user.jurisdiction = Role.SECURITY_ADMIN, None, None, None
                user.is_staff = user.is_active = True
                user.save()
                GridAssignment.objects.filter(worker=user).delete()
            else:
                if user.role != Role.SECURITY_ADMIN:
                    raise CommandError(f"{username!r} is not a security administrator.")
                user.role, user.is_staff = "", False
                user.save(update_fields=["role", "is_staff"])
        log.warning("security administrator %s: %s", operation, username)
        self.stdout.write(f"{username}: {'now' if operation == 'grant' else 'no longer'} a security administrator.")
