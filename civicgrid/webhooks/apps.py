from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WebhooksConfig(AppConfig):
    name = "civicgrid.webhooks"
    label = "webhooks"
    verbose_name = _("Department webhooks")  # 部门推送

    def ready(self):
        from django.conf import settings

        # Embedded mode: no Celery beat, so the serving process runs the retry sweep itself.
        if getattr(settings, "CIVICGRID_INPROCESS_SCHEDULER", False):
            from civicgrid.cases.sweep import is_serving_process
            from civicgrid.webhooks import scheduler

            if is_serving_process():
                scheduler.start_inprocess_scheduler()
