"""The personal-data access log (个人信息访问日志): append-only, kept at least six months.

Written only by ``civicgrid.audit.actions``; read only by ``civicgrid.audit.selectors`` (the
security administrator). The application cannot change or remove an entry: ``save()`` of an
existing row, ``delete()`` and the queryset's ``update()``/``delete()`` raise, and a database
trigger (migration 0002) refuses ``UPDATE`` and the ``DELETE`` of any row younger than
``MIN_RETENTION_DAYS``, even in raw SQL. Only ``purge_expired`` removes rows, and only old ones.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

# Six months at their longest (July-December): what the database trigger enforces too.
MIN_RETENTION_DAYS = 184


class AppendOnlyError(RuntimeError):
    """Someone tried to change or delete an access-log entry."""


class AccessAction(models.TextChoices):
    UNMASK = "unmask", _("unmask")  # 查看明文
    EXPORT = "export", _("export")  # 导出
    VIEW_SENSITIVE = "view_sensitive", _("view sensitive data")  # 查看敏感信息


class AccessLogQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise AppendOnlyError("Access-log entries cannot be changed.")

    def delete(self):
        raise AppendOnlyError("Access-log entries cannot be deleted; expired ones are purged by "
                              "civicgrid purge_access_log.")

    def _purge_before(self, cutoff) -> int:
        """Delete entries older than ``cutoff`` (used only by ``actions.purge_expired``, which
        enforces the minimum retention)."""
        return self.filter(at__lt=cutoff)._raw_delete(self.db)

    # bulk_update would rewrite rows; refused like update().
    def bulk_update(self, objs, fields, batch_size=None):
        raise AppendOnlyError("Access-log entries cannot be changed.")


class AccessLogEntry(models.Model):
    """Who saw or exported which personal data, when, why and from where (访问日志)."""

    at = models.DateTimeField(_("at"), default=timezone.now, db_index=True, editable=False)
    # No foreign-key constraint and no cascade: deleting a user never touches the log (it would
    # be an UPDATE or DELETE, which the trigger refuses); the username is kept as it was.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), null=True, blank=True,
        on_delete=models.DO_NOTHING, db_constraint=False, related_name="+", editable=False,
    )
    username = models.CharField(_("username"), max_length=150, db_index=True, editable=False)
    role = models.CharField(_("role"), max_length=32, blank=True, editable=False)
    action = models.CharField(
        _("action"), max_length=16, choices=AccessAction.choices, db_index=True, editable=False,
    )
    object_type = models.CharField(
        _("object type"), max_length=100, db_index=True, editable=False,
        help_text=_("app_label.model of the record, e.g. cases.case."),
    )
    object_id = models.CharField(_("object id"), max_length=64, blank=True, db_index=True, editable=False)
    object_label = models.CharField(
        _("object"), max_length=200, blank=True, editable=False,
        help_text=_("A readable reference such as the case number (never personal data)."),
    )
    fields = models.CharField(_("fields"), max_length=300, blank=True, editable=False)
    reason = models.TextField(_("reason"), blank=True, editable=False)
    ip = models.GenericIPAddressField(_("IP address"), null=True, blank=True, editable=False)
    user_agent = models.CharField(_("user agent"), max_length=300, blank=True, editable=False)
    path = models.CharField(_("path"), max_length=300, blank=True, editable=False)
    detail = models.JSONField(
        _("detail"), default=dict, blank=True, editable=False,
        help_text=_("For exports: row count and scope; the forwarding chain of the request."),
    )

    objects = AccessLogQuerySet.as_manager()

    class Meta:
        verbose_name = _("access log entry")
        verbose_name_plural = _("access log")
        ordering = ["-at", "-pk"]
        indexes = [models.Index(fields=["object_type", "object_id"], name="accesslog_object")]
        default_permissions = ("view",)

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M} {self.username} {self.action} {self.object_type}:{self.object_id}"

    def save(self, *args, **kwargs):
        if self.pk is not None or not self._state.adding:
            raise AppendOnlyError("Access-log entries cannot be changed.")
        kwargs["force_insert"] = True
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("Access-log entries cannot be deleted.")
