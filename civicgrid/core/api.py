"""API plumbing shared by every app: one stable error shape.

Every error answer is ``{"error": {"code": ..., "message": ..., "fields": {field: [{"code", "message"}]}}}``
so client systems can branch on codes and pages can show the (translated) messages.
"""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.fields import get_error_detail
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler


class DomainError(exceptions.APIException):
    """A business rule refused the request (illegal transition, conflict …)."""

    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_code = "rule_violation"

    def __init__(self, message, code=None, status_code=None, fields=None):
        super().__init__(detail=message, code=code or self.default_code)
        if status_code is not None:
            self.status_code = status_code
        self.fields = fields or {}


def _field_errors(detail) -> dict:
    out = {}
    if isinstance(detail, dict):
        for field, errors in detail.items():
            if isinstance(errors, dict):
                for sub, sub_errors in _field_errors(errors).items():
                    out[f"{field}.{sub}"] = sub_errors
                continue
            errors = errors if isinstance(errors, list) else [errors]
            out[field] = [
                {"code": getattr(e, "code", "invalid"), "message": str(e)} for e in errors
            ]
    elif isinstance(detail, list):
        out["non_field_errors"] = [{"code": getattr(e, "code", "invalid"), "message": str(e)} for e in detail]
    return out


def exception_handler(exc, context):
    if isinstance(exc, DjangoValidationError):
        # get_error_detail keeps each message's code (message_dict would flatten them to "invalid")
        exc = exceptions.ValidationError(detail=get_error_detail(exc))
    if isinstance(exc, Http404):
        exc = exceptions.NotFound(str(exc) or None)
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        body = {"code": "invalid", "message": "Validation failed.", "fields": _field_errors(exc.detail)}
    elif isinstance(exc, DomainError):
        body = {"code": exc.get_codes(), "message": str(exc.detail), "fields": _field_errors(exc.fields)}
    else:
        detail = exc.detail if isinstance(exc, exceptions.APIException) else str(exc)
        code = exc.get_codes() if isinstance(exc, exceptions.APIException) else "error"
        body = {"code": code if isinstance(code, str) else "error", "message": str(detail), "fields": {}}
    return Response({"error": body}, status=response.status_code, headers=response.headers)
