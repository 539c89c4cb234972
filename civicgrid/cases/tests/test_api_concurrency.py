"""Concurrent duplicate reports over HTTP on PostgreSQL: never a second case."""

import pytest
from rest_framework.test import APIClient

from civicgrid.cases.models import Case
from civicgrid.core.testing import race

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

URL = "/api/v1/cases/"


def _answers(n, work):
    answers, errors = race(n, work)
    assert not errors, errors
    assert len(answers) == n
    return answers


def _post(user, data, **headers):
    client = APIClient()
    client.force_authenticate(user)
    return client.post(URL, data, format="json", **headers)


def test_fifty_concurrent_posts_with_one_idempotency_key_make_exactly_one_case(city):
    # given 50 retries of the same report with the same key, sent at once
    data = {"channel": "api", "title": "井盖缺失", "address": "厦门市集美区集美街道岑西社区"}
    answers = _answers(50, lambda i: _post(city.dispatcher, data, HTTP_IDEMPOTENCY_KEY="one-key"))
    # then exactly one case exists; every answer is that case (new or replayed) or "in progress"
    assert Case.objects.count() == 1
    number = Case.objects.get().number
    statuses = [a.status_code for a in answers.values()]
    assert set(statuses) <= {201, 409}, statuses
    assert all(a.json()["number"] == number for a in answers.values() if a.status_code == 201)
    assert all(a.json()["error"]["code"] == "idempotency_in_progress"
               for a in answers.values() if a.status_code == 409)
    assert statuses.count(201) >= 1


def test_concurrent_reports_of_one_external_id_make_exactly_one_case(city):
    # given a hotline system that sends the same ticket 20 times at once, without a key
    data = {"channel": "hotline_12345", "external_id": "RX-42", "title": "噪音扰民", "address": "厦门市集美区集美街道岑西社区"}
    answers = _answers(20, lambda i: _post(city.dispatcher, data))
    # then one case exists and every answer names it
    assert Case.objects.count() == 1
    number = Case.objects.get().number
    assert {a.status_code for a in answers.values()} <= {200, 201}
    assert {a.json()["number"] for a in answers.values()} == {number}
