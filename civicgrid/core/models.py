"""Core data: the working-day calendar's overrides and per-year confirmation.

Changed only through ``civicgrid.core.actions``; read through ``civicgrid.core.calendar``.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class CalendarOverride(models.Model):
    """One announced day that differs from (or pins down) the computed schedule: a day off
    (放假) or a make-up working day (调休上班). Overrides win over every other source."""

    date = models.DateField(_("date"), unique=True)
    is_working_day = models.BooleanField(
        _("working day"),
        help_text=_("Ticked: the offices work on this day (e.g. a make-up working day). "
                    "Unticked: a day off (e.g. a holiday)."),
    )
    name = models.CharField(
        _("name"), max_length=100, help_text=_("For example: National Day, or make-up working day.")
    )
    note = models.TextField(_("note"), blank=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("calendar override")
        verbose_name_plural = _("calendar overrides")
        ordering = ["date"]

    def __str__(self):
        return f"{self.date.isoformat()} {self.name}"


class CalendarYear(models.Model):
    """Whether the State Council's schedule for a year (放假安排) has been entered and checked."""

    year = models.PositiveSmallIntegerField(_("year"), unique=True)
    confirmed = models.BooleanField(
        _("schedule confirmed"),
        default=False,
        help_text=_("Tick once the official holiday schedule of this year, including make-up "
                    "working days, has been entered as calendar overrides."),
    )
    confirmed_at = models.DateTimeField(_("confirmed at"), null=True, blank=True)
    note = models.TextField(_("note"), blank=True)

    class Meta:
        verbose_name = _("calendar year")
        verbose_name_plural = _("calendar years")
        ordering = ["year"]

    def __str__(self):
        return str(self.year)


class CalendarRevision(models.Model):
    """A single row whose counter every calendar action bumps, so that each process can tell
    that its in-memory day tables are stale."""

    revision = models.PositiveBigIntegerField(default=0)
    changed_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("calendar revision")
        verbose_name_plural = _("calendar revisions")

    def __str__(self):
        return str(self.revision)


class IdempotencyRecord(models.Model):
    """One claimed ``Idempotency-Key``: who sent it where (``scope``), a hash of the body, and —
    once the request has finished — the answer to replay. Written only by
    ``civicgrid.core.idempotency``; expires after a day."""

    scope = models.CharField(
        _("scope"), max_length=300, help_text=_("Caller, method and path the key was used for."),
    )
    key = models.CharField(_("key"), max_length=255)
    request_hash = models.CharField(_("request hash"), max_length=64)
    completed = models.BooleanField(_("completed"), default=False)
    response_status = models.PositiveSmallIntegerField(_("response status"), null=True, blank=True)
    response_body = models.JSONField(_("response body"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("idempotency record")
        verbose_name_plural = _("idempotency records")
        constraints = [
            models.UniqueConstraint(fields=["scope", "key"], name="idempotency_unique_scope_key"),
        ]

    def __str__(self):
        return f"{self.scope} {self.key}"
