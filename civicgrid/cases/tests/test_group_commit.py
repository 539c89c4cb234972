"""Group commit (civicgrid.cases.group_commit): reports stored together keep every guarantee they
have alone — each its own case and answer, its own Idempotency-Key, and a bad report failing alone."""

import threading

import pytest
from django.db import connection
from rest_framework.exceptions import APIException
from rest_framework.test import APIClient

from civicgrid.cases import actions, group_commit
from civicgrid.cases.api import _report_answer
from civicgrid.cases.models import Case, CaseEvent
from civicgrid.cases.tests.conftest import GRID
from civicgrid.core.idempotency import canonical_hash
from civicgrid.core.models import IdempotencyRecord
from civicgrid.core.testing import race

SCOPE = "test:cases"


def _job(user, title, *, key=None, external_id="", answer=None):
    fields = {"channel": "api", "title": title, "region_code": GRID, "external_id": external_id}

    def prepare():
        return actions.prepare_report(actor=user, **fields)

    claim = None if key is None else (SCOPE, key, canonical_hash(fields))
    return group_commit.Job(prepare=prepare, report=prepare(),
                            answer=answer or (lambda report: _report_answer(user, report)), claim=claim)


def _outcome(job):
    assert job.future.done()
    return job.future.exception() or job.future.result()


@pytest.mark.django_db
def test_a_batch_stores_each_report_as_its_own_case_with_its_own_answer(city):
    # given three reports arriving together
    jobs = [_job(city.dispatcher, f"井盖缺失 {i}") for i in range(3)]
    # when the committer stores them as one batch
    group_commit.commit(jobs)
    # then each request is answered 201 with its own case, numbered in sequence, with its timeline
    answers = [_outcome(job) for job in jobs]
    assert [a.status_code for a in answers] == [201, 201, 201]
    numbers = [a.data["number"] for a in answers]
    assert len(set(numbers)) == 3
    assert sorted(int(n.rsplit("-", 1)[1]) for n in numbers) == [1, 2, 3]
    assert [a.data["title"] for a in answers] == ["井盖缺失 0", "井盖缺失 1", "井盖缺失 2"]
    assert Case.objects.count() == 3
    assert CaseEvent.objects.filter(action="report").count() == 3


@pytest.mark.django_db
def test_a_report_refused_while_stored_fails_alone_and_the_rest_of_its_batch_is_kept(city):
    # given a batch whose second report cannot be answered (the batch must not commit a case
    # without its answer)
    def broken(report):
        raise APIException("answer failed")

    jobs = [_job(city.dispatcher, "路灯不亮"), _job(city.dispatcher, "垃圾满溢", answer=broken),
            _job(city.dispatcher, "占道经营")]
    # when the batch is stored
    group_commit.commit(jobs)
    # then the batch was rolled back and each report stored alone: the bad one failed, alone
    assert isinstance(_outcome(jobs[1]), APIException)
    assert _outcome(jobs[0]).status_code == 201
    assert _outcome(jobs[2]).status_code == 201
    assert sorted(Case.objects.values_list("title", flat=True)) == sorted(["路灯不亮", "占道经营"])
    assert CaseEvent.objects.filter(action="report").count() == 2


@pytest.mark.django_db
def test_the_same_idempotency_key_twice_in_one_batch_makes_one_case_and_answers_the_second_409(city):
    # given two requests with one key (a client's retry) arriving in the same batch
    jobs = [_job(city.dispatcher, "噪音扰民", key="k-1"), _job(city.dispatcher, "噪音扰民", key="k-1")]
    # when stored together
    group_commit.commit(jobs)
    # then one case; the first is answered 201, the second "in progress" (409)
    first, second = _outcome(jobs[0]), _outcome(jobs[1])
    assert first.status_code == 201
    assert isinstance(second, APIException)
    assert second.status_code == 409
    assert second.get_codes() == "idempotency_in_progress"
    assert Case.objects.count() == 1
    # and the key keeps the first answer for later retries
    record = IdempotencyRecord.objects.get(scope=SCOPE, key="k-1")
    assert record.completed and record.response_body["number"] == first.data["number"]


@pytest.mark.django_db
def test_a_retry_in_a_later_batch_replays_the_first_answer_beside_new_reports(city):
    # given a report stored with a key
    original = _job(city.dispatcher, "井盖缺失", key="k-2")
    group_commit.commit([original])
    number = _outcome(original).data["number"]
    # when its retry arrives in a batch with a new report
    retry, other = _job(city.dispatcher, "井盖缺失", key="k-2"), _job(city.dispatcher, "路面塌陷")
    group_commit.commit([retry, other])
    # then the retry gets the first answer (replayed), the new report its own case
    replayed = _outcome(retry)
    assert replayed.status_code == 201
    assert replayed.data["number"] == number
    assert replayed.headers["Idempotent-Replayed"] == "true"
    assert _outcome(other).status_code == 201 and _outcome(other).data["number"] != number
    assert Case.objects.count() == 2


@pytest.mark.django_db
def test_a_key_reused_with_another_body_in_a_batch_is_refused_for_that_report_alone(city):
    # given a key used for one report
    group_commit.commit([_job(city.dispatcher, "井盖缺失", key="k-3")])
    # when the same key comes with another report, beside a good one
    reused, good = _job(city.dispatcher, "另一件事", key="k-3"), _job(city.dispatcher, "树木倒伏")
    group_commit.commit([reused, good])
    # then only the reuse is refused (422), the other stored
    refused = _outcome(reused)
    assert isinstance(refused, APIException) and refused.status_code == 422
    assert _outcome(good).status_code == 201
    assert Case.objects.count() == 2


@pytest.mark.django_db
def test_a_channel_retry_of_an_external_id_in_a_batch_answers_the_existing_case(city):
    # given a hotline ticket stored once
    first = _job(city.dispatcher, "噪音扰民", external_id="RX-7")
    group_commit.commit([first])
    # when the ticket is sent again in a batch with another ticket
    again, other = _job(city.dispatcher, "噪音扰民", external_id="RX-7"), _job(city.dispatcher, "积水", external_id="RX-8")
    group_commit.commit([again, other])
    # then the repeat is answered 200 with the existing case; one new case for the other
    assert _outcome(again).status_code == 200
    assert _outcome(again).data["number"] == _outcome(first).data["number"]
    assert _outcome(other).status_code == 201
    assert Case.objects.count() == 2


@pytest.mark.django_db
def test_inside_a_transaction_a_report_is_stored_inline_without_the_committer(city, monkeypatch):
    # given a caller that holds a transaction (a test, ATOMIC_REQUESTS), and no committer running
    group_commit.stop()
    started = []
    monkeypatch.setattr(group_commit, "_Committer", lambda: started.append(1))
    # when it submits a report
    answer = group_commit.submit(_job(city.dispatcher, "井盖缺失"))
    # then it is answered from this thread, in this transaction
    assert connection.in_atomic_block
    assert answer.status_code == 201
    assert started == []
    assert Case.objects.filter(number=answer.data["number"]).exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_api_reports_through_the_committer_each_make_one_case(city):
    # given 16 clients posting different reports at once, half with keys (PostgreSQL: the
    # committer thread takes numbers on its own connection)
    group_commit.STATS.update(batches=0, reports=0)

    def post(i):
        client = APIClient()
        client.force_authenticate(city.dispatcher)
        headers = {"HTTP_IDEMPOTENCY_KEY": f"key-{i}"} if i % 2 else {}
        return client.post("/api/v1/cases/", {"channel": "api", "title": f"报告 {i}", "address": "厦门市集美区集美街道岑西社区"},
                           format="json", **headers)

    answers, errors = race(16, post)
    # then every one is a new case with a number of its own, and the keyed answers are kept
    assert not errors, errors
    assert [answers[i].status_code for i in range(16)] == [201] * 16
    assert len({a.json()["number"] for a in answers.values()}) == 16
    assert Case.objects.count() == 16
    assert IdempotencyRecord.objects.filter(completed=True).count() == 8
    assert group_commit.STATS["reports"] == 16
    # and they went through the committer's thread, not the requests'
    committer = group_commit._committers.current()
    assert committer is not None and committer.thread is not threading.current_thread()
