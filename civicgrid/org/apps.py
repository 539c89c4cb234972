from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


def _install_auth_triggers(using="default", **kwargs):
    # Infrastructure, not domain logic: after every migrate (and test flush) the triggers that keep
    # the per-process token cache honest must exist, including on tables a migration has rebuilt.
    from civicgrid.org.authentication import install_auth_triggers

    install_auth_triggers(using)


class OrgConfig(AppConfig):
    name = "civicgrid.org"
    label = "org"
    verbose_name = _("Organisations")  # 组织机构

    def ready(self):
        post_migrate.connect(_install_auth_triggers, sender=self, dispatch_uid="civicgrid.org.authentication")
