from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "civicgrid.core"
    label = "core"
    verbose_name = _("Core")  # 核心

    def ready(self):
        from civicgrid.core import scheduler

        # Embedded mode (no Celery beat): run the beat schedule inside the serving process.
        scheduler.start_if_embedded()
