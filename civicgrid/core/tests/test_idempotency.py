"""The Idempotency-Key facility, on a small view that writes a real row per run (a calendar
override for the next free day), so a second effect would be visible."""

import datetime
import json

import pytest
from django.utils import timezone
from rest_framework import status
from rest_framework.response import Response
from rest_framework.test import APIRequestFactory, force_authenticate
from rest_framework.views import APIView

from civicgrid.core import idempotency
from civicgrid.core.api import DomainError
from civicgrid.core.models import CalendarOverride, IdempotencyRecord
from civicgrid.core.testing import race
from civicgrid.org.models import Role, User

factory = APIRequestFactory()


class DayOffView(APIView):
    """Declares ``name`` a day off on the first date without an override; ``fail`` makes it raise
    after writing, ``refuse`` answers 422 without writing."""

    @idempotency.idempotent
    def post(self, request):
        if request.data.get("refuse"):
            return Response({"error": "no"}, status=status.HTTP_422_UNPROCESSABLE_ENTITY)
        day = datetime.date(2030, 1, 1) + datetime.timedelta(days=CalendarOverride.objects.count())
        row = CalendarOverride.objects.create(date=day, is_working_day=False, name=request.data["name"])
        if request.data.get("fail"):
            raise DomainError("failed on purpose", code="boom")
        return Response({"id": row.pk, "date": row.date}, status=status.HTTP_201_CREATED)


@pytest.fixture
def user(db):
    return User.objects.create_user(username="system", password="x", role=Role.DISPATCHER)


def call(user, data, key=None, path="/days/"):
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key is not None else {}
    request = factory.post(path, data, format="json", **headers)
    force_authenticate(request, user=user)
    response = DayOffView.as_view()(request)
    response.render()
    return response


def test_without_a_key_every_request_runs(user):
    call(user, {"name": "a"})
    call(user, {"name": "a"})
    assert CalendarOverride.objects.count() == 2


def test_a_retry_replays_the_first_answer_without_running_again(user):
    # given a request with a key
    first = call(user, {"name": "a", "n": [1, 2]}, key="abc")
    # when it is retried with the same body written in another key order
    second = call(user, {"n": [1, 2], "name": "a"}, key="abc")
    # then the answer is the first one, replayed, and the work ran once
    assert first.status_code == second.status_code == 201
    assert json.loads(second.content) == json.loads(first.content)
    assert second["Idempotent-Replayed"] == "true"
    assert CalendarOverride.objects.count() == 1
    record = IdempotencyRecord.objects.get()
    assert record.completed and record.response_status == 201 and record.scope == f"user:{user.pk} POST /days/"


def test_the_same_key_with_another_body_is_refused(user):
    call(user, {"name": "a"}, key="abc")
    r = call(user, {"name": "b"}, key="abc")
    assert r.status_code == 422
    assert r.data["error"]["code"] == "idempotency_key_reused"
    assert CalendarOverride.objects.count() == 1


def test_keys_are_scoped_to_caller_and_path(user):
    other = User.objects.create_user(username="other", password="x", role=Role.DISPATCHER)
    call(user, {"name": "a"}, key="abc")
    call(other, {"name": "a"}, key="abc")
    call(user, {"name": "a"}, key="abc", path="/elsewhere/")
    assert CalendarOverride.objects.count() == 3


def test_an_exception_rolls_back_the_work_and_releases_the_key(user):
    # when the work fails after writing
    r = call(user, {"name": "a", "fail": True}, key="abc")
    # then its write is undone, nothing is kept for the key, and a retry runs
    assert r.status_code == 422 and r.data["error"]["code"] == "boom"
    assert not CalendarOverride.objects.exists()
    assert not IdempotencyRecord.objects.exists()
    assert call(user, {"name": "a"}, key="abc").status_code == 201


def test_an_error_answer_is_not_kept(user):
    assert call(user, {"refuse": True}, key="abc").status_code == 422
    assert not IdempotencyRecord.objects.exists()


def test_a_running_request_makes_a_retry_wait_with_409(user):
    # given a claim whose request is still running
    IdempotencyRecord.objects.create(
        scope=f"user:{user.pk} POST /days/", key="abc", request_hash=idempotency.canonical_hash({"name": "a"}),
    )
    # when the retry arrives
    r = call(user, {"name": "a"}, key="abc")
    # then it is told to come back, and nothing ran
    assert r.status_code == 409 and r.data["error"]["code"] == "idempotency_in_progress"
    assert not CalendarOverride.objects.exists()


def test_an_abandoned_claim_is_taken_over_after_the_lease(user):
    # given a claim left incomplete by a process that died long ago
    record = IdempotencyRecord.objects.create(
        scope=f"user:{user.pk} POST /days/", key="abc", request_hash=idempotency.canonical_hash({"name": "a"}),
    )
    IdempotencyRecord.objects.filter(pk=record.pk).update(
        created_at=timezone.now() - idempotency.LEASE - datetime.timedelta(seconds=1),
    )
    # when the client retries
    r = call(user, {"name": "a"}, key="abc")
    # then the retry runs and completes the record
    assert r.status_code == 201
    assert IdempotencyRecord.objects.get(pk=record.pk).completed


def test_expired_records_count_as_absent_and_are_purged(user):
    # given a completed record from two days ago
    call(user, {"name": "a"}, key="old")
    IdempotencyRecord.objects.update(created_at=timezone.now() - datetime.timedelta(days=2))
    # when the key comes again with another body, it is a new request
    assert call(user, {"name": "b"}, key="old").status_code == 201
    assert CalendarOverride.objects.count() == 2
    # and purging removes only what is older than a day
    call(user, {"name": "c"}, key="new")
    IdempotencyRecord.objects.filter(key="new").update(created_at=timezone.now() - datetime.timedelta(days=2))
    assert idempotency.purge_expired() == 1
    assert list(IdempotencyRecord.objects.values_list("key", flat=True)) == ["old"]


@pytest.mark.parametrize(("key", "code"), [("", "invalid_length"), ("x" * 256, "invalid_length"),
                                           ("密钥", "invalid_format"), ("a b", "invalid_format")])
def test_a_malformed_key_is_a_field_error(user, key, code):
    r = call(user, {"name": "a"}, key=key)
    assert r.status_code == 400
    assert [e["code"] for e in r.data["error"]["fields"]["Idempotency-Key"]] == [code]
    assert not CalendarOverride.objects.exists()


def test_the_hash_ignores_key_order_and_sees_values():
    assert idempotency.canonical_hash({"a": 1, "b": [1, 2]}) == idempotency.canonical_hash({"b": [1, 2], "a": 1})
    assert idempotency.canonical_hash({"a": 1}) != idempotency.canonical_hash({"a": "1"})


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_requests_with_one_key_run_the_work_once():
    # given 20 threads sending the same request with the same key at once
    user = User.objects.create_user(username="system", password="x", role=Role.DISPATCHER)
    n = 20
    answers, errors = race(n, lambda i: call(user, {"name": "a"}, key="race"))
    assert not errors, errors
    # then the work ran once; every other thread got the first answer or "in progress"
    assert CalendarOverride.objects.count() == 1
    assert len(answers) == n
    winners = [a for a in answers.values() if a.status_code == 201]
    assert winners and all(json.loads(a.content) == json.loads(winners[0].content) for a in winners)
    assert all(a.status_code == 409 and a.data["error"]["code"] == "idempotency_in_progress"
               for a in answers.values() if a.status_code != 201)


def test_the_hourly_purge_task_drops_only_expired_records(db):
    # given one record past its lifetime and one fresh
    from datetime import timedelta

    from django.utils import timezone

    from civicgrid.core.models import IdempotencyRecord
    from civicgrid.core.tasks import purge_idempotency_records_task

    old = IdempotencyRecord.objects.create(scope="u1 POST /x", key="old", request_hash="h")
    IdempotencyRecord.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=2))
    IdempotencyRecord.objects.create(scope="u1 POST /x", key="new", request_hash="h")
    # when the periodic task runs
    deleted = purge_idempotency_records_task()
    # then only the expired one is gone
    assert deleted == 1
    assert list(IdempotencyRecord.objects.values_list("key", flat=True)) == ["new"]
