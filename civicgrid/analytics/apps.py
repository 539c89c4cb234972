from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AnalyticsConfig(AppConfig):
    """Figures for leaders and the public (统计分析): every number from a selector."""

    name = "civicgrid.analytics"
    label = "analytics"
    verbose_name = _("Analytics")
