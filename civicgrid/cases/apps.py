from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


def _install_reference_triggers(using="default", **kwargs):
    # Infrastructure, not domain logic: after every migrate (and test flush) the triggers that keep
    # the in-memory reference honest must exist, including on tables a migration has rebuilt.
    from civicgrid.cases.reference import install_triggers

    install_triggers(using)


class CasesConfig(AppConfig):
    name = "civicgrid.cases"
    label = "cases"
    verbose_name = _("Cases")  # 案件

    def ready(self):
        post_migrate.connect(_install_reference_triggers, sender=self, dispatch_uid="civicgrid.cases.reference")
