from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DedupConfig(AppConfig):
    name = "civicgrid.dedup"
    label = "dedup"
    verbose_name = _("Duplicate merging")  # 重复件合并
