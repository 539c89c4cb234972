from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TaxonomyConfig(AppConfig):
    name = "civicgrid.taxonomy"
    label = "taxonomy"
    verbose_name = _("Categories and responsibility")  # 事项分类与权责
