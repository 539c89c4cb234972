from django.contrib import admin
from django.utils.translation import gettext_lazy as _

admin.site.site_header = _("civicgrid administration")
admin.site.site_title = _("civicgrid")
admin.site.index_title = _("Reference data and accounts")
