from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CasesConfig(AppConfig):
    name = "civicgrid.cases"
    label = "cases"
    verbose_name = _("Cases")  # 案件

    def ready(self):
        from django.conf import settings

        # Embedded mode: no Celery beat, so the serving process sweeps deadlines itself.
        if getattr(settings, "CIVICGRID_INPROCESS_SCHEDULER", False):
            from civicgrid.cases import sweep

            if sweep.is_serving_process():
                sweep.start_inprocess_scheduler()
