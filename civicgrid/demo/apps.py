from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DemoConfig(AppConfig):
    """The Xiamen demonstration data set (演示数据): real division codes, generated geometry."""

    name = "civicgrid.demo"
    label = "demo"
    verbose_name = _("Demo data")
