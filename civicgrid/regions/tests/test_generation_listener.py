"""The generation listener (civicgrid.regions.generation, PostgreSQL): a per-process thread that
LISTENs for new generation tokens, so that ``current_token`` outside a transaction answers without a
query; inside a transaction (which may hold its own uncommitted change) or with the listener turned
off, it reads the table.

Real commits are needed (NOTIFY is delivered at commit), hence ``transaction=True``; the root
conftest stops the listener after every test.
"""

import threading
import time

import pytest
from django.db import connection, connections, transaction
from django.test.utils import CaptureQueriesContext

from civicgrid.org.authentication import AUTH_KEY
from civicgrid.regions import generation
from civicgrid.regions.models import Region, RegionGeneration

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

WAIT_SECONDS = 5.0


def eventually(check, timeout: float = WAIT_SECONDS) -> bool:
    """Poll ``check()`` until it is true or ``timeout`` seconds have passed."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.01)
    return bool(check())


def heard(key: str) -> str | None:
    """The token of ``key`` as the listener holds it (None while it is not listening)."""
    tokens = generation.listener().tokens
    return None if tokens is None else tokens.get(key, "")


def in_another_thread(work):
    """``work()`` on a thread of its own (its own connection, outside any transaction); its result."""
    outcome: dict = {}

    def run():
        try:
            outcome["result"] = work()
        except BaseException as exc:  # given back to the test
            outcome["error"] = exc
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(WAIT_SECONDS * 2)
    assert not thread.is_alive(), "the other thread did not finish"
    if "error" in outcome:
        raise outcome["error"]
    return outcome["result"]


def table_token(key: str) -> str:
    return RegionGeneration.objects.filter(key=key).values_list("token", flat=True).first() or ""


def reads_of_the_table(queries) -> int:
    return sum(RegionGeneration._meta.db_table in q["sql"] for q in queries.captured_queries)


def answer_without_query(key: str) -> str:
    """``current_token(key)``, asserting it ran no query (the listener answered)."""
    with CaptureQueriesContext(connection) as queries:
        token = generation.current_token(key)
    assert not queries.captured_queries, [q["sql"] for q in queries.captured_queries]
    return token


def test_a_committed_bump_reaches_the_listener_and_is_answered_without_a_query():
    # given a listening process
    assert generation.wait_listening()
    before = generation.current_token()
    # when bump() commits (autocommit: its own transaction), twice in a row
    generation.bump()
    latest = generation.bump()
    # then the listener hears the last token within the bound, in commit order
    assert eventually(lambda: heard(generation.KEY) == latest), (heard(generation.KEY), latest)
    assert latest != before
    # and current_token outside a transaction answers it from the listener, without reading
    assert answer_without_query(generation.KEY) == latest == table_token(generation.KEY)


def test_a_write_that_fires_a_trigger_reaches_the_listener():
    # given a listening process and the auth generation as it stands
    assert generation.wait_listening()
    before = generation.current_token(AUTH_KEY)
    # when a region is created (a table the auth triggers watch), committed
    Region.objects.create(code="350299000000", level=Region.Level.DISTRICT, name="测试区")
    committed = table_token(AUTH_KEY)
    assert committed and committed != before
    # then the listener hears the trigger's new token and current_token answers it without a read
    assert eventually(lambda: heard(AUTH_KEY) == committed), (heard(AUTH_KEY), committed)
    assert answer_without_query(AUTH_KEY) == committed


def test_a_key_never_written_is_empty_from_the_listener_too():
    # given a listening process
    assert generation.wait_listening()
    # when asked for a key no write ever gave a token
    # then it answers "" as the table read does, without a query
    assert answer_without_query("no-such-generation") == ""


def test_an_uncommitted_bump_is_seen_inside_its_transaction_and_not_outside_until_commit():
    # given a committed token that the listener holds
    assert generation.wait_listening()
    old = generation.bump()
    assert eventually(lambda: heard(generation.KEY) == old)
    with transaction.atomic():
        # when a transaction bumps and has not committed yet
        pending = generation.bump()
        # then inside it current_token reads the table and shows the pending token
        with CaptureQueriesContext(connection) as queries:
            inside = generation.current_token()
        assert inside == pending != old
        assert reads_of_the_table(queries) == 1, "inside a transaction the token is read, not heard"
        # and another thread, outside the transaction, still sees the old token (from the
        # listener, and from the table too)
        outside = in_another_thread(
            lambda: (generation.current_token(), generation._listened([generation.KEY]), table_token(generation.KEY))
        )
        assert outside == (old, {generation.KEY: old}, old)
    # when it commits
    # then the other threads see the new token within the bound
    assert eventually(lambda: in_another_thread(generation.current_token) == pending)
    assert answer_without_query(generation.KEY) == pending


def test_with_the_listener_turned_off_current_token_reads_the_table(settings):
    # given the listener turned off in the settings, and no listener running (a live server's
    # late request may have started one after the previous test)
    settings.CIVICGRID_GENERATION_LISTENER = False
    generation.stop_listener()
    # when a bump commits and current_token is asked at once, outside a transaction
    bumped = generation.bump()
    with CaptureQueriesContext(connection) as queries:
        token = generation.current_token()
    # then it read the table and has the committed token
    assert token == bumped
    assert reads_of_the_table(queries) == 1
    assert generation._listened([generation.KEY]) is None
    # and no listener was started for it
    assert generation._listeners.current() is None
