from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TriageConfig(AppConfig):
    name = "civicgrid.triage"
    label = "triage"
    verbose_name = _("Dispatch classifier")  # 智能分拨
