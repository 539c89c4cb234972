"""The one shape every channel adapter turns an incoming record into, before it becomes a case.

Adapters (12345 work orders, 数字城管 cases, sensor alarms, CSV rows) parse and validate their own
wire format into a :class:`NormalizedReport`; a record that cannot be used raises
:class:`RecordError` naming the field, a stable code and a readable message. The single-case path
hands a report to ``civicgrid.cases.actions.report_case`` (``report.as_report_kwargs()``); the bulk
importer validates and persists many at once from the same objects.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


class RecordError(ValueError):
    """One record is unusable: ``field`` (wire name), ``code`` (stable), ``message`` (readable)."""

    def __init__(self, field: str, code: str, message):
        super().__init__(f"{field}: {message}")
        self.field, self.code, self.message = field, code, message

    def as_dict(self) -> dict:
        return {"field": self.field, "code": self.code, "message": str(self.message)}


class RecordErrors(ValueError):
    """Every problem found in one record (adapters report all of them, not just the first)."""

    def __init__(self, errors: list[RecordError]):
        super().__init__("; ".join(str(e) for e in errors))
        self.errors = errors

    def as_validation_error(self):
        """The same problems as a field-level Django ``ValidationError`` (the API's error shape)."""
        from django.core.exceptions import ValidationError

        fields: dict[str, list] = {}
        for error in self.errors:
            fields.setdefault(error.field, []).append(ValidationError(error.message, code=error.code))
        return ValidationError(fields)


@dataclass
class NormalizedReport:
    channel: str
    title: str
    external_id: str = ""
    description: str = ""
    request_type: str = "field_report"
    urgency: str = "normal"
    category_id: int | None = None
    lon: float | None = None
    lat: float | None = None
    address: str = ""
    region_code: str | None = None
    reporter_name: str = ""
    reporter_phone: str = ""
    reported_at: datetime | None = None
    # Anything the source sent that the case does not hold as a column (kept on the report event).
    extra: dict = field(default_factory=dict)

    def as_report_kwargs(self) -> dict:
        from civicgrid.taxonomy.models import Category

        return {
            "channel": self.channel, "title": self.title, "external_id": self.external_id,
            "description": self.description, "request_type": self.request_type, "urgency": self.urgency,
            "category": Category.objects.get(pk=self.category_id) if self.category_id else None,
            "lon": self.lon, "lat": self.lat, "address": self.address, "region_code": self.region_code,
            "reporter_name": self.reporter_name, "reporter_phone": self.reporter_phone,
            "reported_at": self.reported_at,
        }
