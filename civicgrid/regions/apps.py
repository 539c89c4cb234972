from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


def _install_notify_trigger(using="default", **kwargs):
    # Infrastructure, not domain logic: after every migrate the generations table notifies its
    # changes to the web processes' listeners (civicgrid.regions.generation).
    from civicgrid.regions.generation import install_notify_trigger

    install_notify_trigger(using)


class RegionsConfig(AppConfig):
    name = "civicgrid.regions"
    label = "regions"
    verbose_name = _("Regions and grids")  # 区划与网格

    def ready(self):
        post_migrate.connect(_install_notify_trigger, sender=self, dispatch_uid="civicgrid.regions.generation")
