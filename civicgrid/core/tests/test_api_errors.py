"""The one error shape every API answers with."""

from django.core.exceptions import ValidationError
from django.http import Http404
from rest_framework.test import APIRequestFactory

from civicgrid.core.api import DomainError, exception_handler


def _answer(exc):
    request = APIRequestFactory().get("/")
    return exception_handler(exc, {"request": request, "view": None})


def test_django_validation_errors_keep_their_field_and_code():
    # given a model-level validation error raised by an action
    exc = ValidationError({"phone": [ValidationError("bad number", code="invalid_format")]})
    # when the API answers it
    response = _answer(exc)
    # then the field and its code survive
    assert response.status_code == 400
    assert response.data["error"]["fields"]["phone"] == [{"code": "invalid_format", "message": "bad number"}]


def test_domain_errors_carry_their_code_and_status():
    response = _answer(DomainError("Case is closed; cannot dispatch.", code="illegal_transition"))
    assert response.status_code == 422
    assert response.data["error"]["code"] == "illegal_transition"
    assert "closed" in response.data["error"]["message"]


def test_not_found_is_404_in_the_same_shape():
    response = _answer(Http404("No such case."))
    assert response.status_code == 404
    assert response.data["error"]["code"] == "not_found"
