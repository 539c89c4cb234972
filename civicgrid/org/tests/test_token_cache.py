"""``CachedTokenAuthentication`` (civicgrid.org.authentication): a token's user is kept per process
for one auth generation, which database triggers replace on every write to tokens, users, grid
assignments, regions, departments and command centres. Every test first makes a request that fills
the cache, then changes the database the way the platform (or a bulk ``update()``) does, and proves
the very next request over HTTP sees the change.

The root conftest empties the cache before every test (``authentication.forget()``), so the first
request of each test is the one that fills it.
"""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from civicgrid.cases import actions as case_actions
from civicgrid.cases.models import Channel
from civicgrid.org import actions
from civicgrid.org.models import GridAssignment, Role, User
from civicgrid.regions.models import Region

CASES = "/api/v1/cases/"
ME = "/api/v1/org/me/"

CENXI_GRID = "350211001001001"  # 岑西一网格, 集美区
ZHONGSHAN_GRID = "350203001001001"  # 中山一网格, 思明区


def token_client(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def seen_regions(response) -> set[str]:
    """The region codes of the cases a list answer shows."""
    assert response.status_code == 200, response.content
    return {case["region_code"] for case in response.json()["results"]}


def assert_refused(response) -> None:
    """The token was refused: 401 with the scheme to use, and the error code that tells a refused
    token from a missing one."""
    assert response.status_code == 401, response.content
    assert response["WWW-Authenticate"] == 'Token'
    assert response.json()["error"]["code"] == "authentication_failed"


@pytest.fixture
def cases(org):
    """One reported case in 岑西一网格 (集美区) and one in 中山一网格 (思明区)."""
    return {
        code: case_actions.report_case(channel=Channel.WEB, title="井盖缺失", region_code=code)
        for code in (CENXI_GRID, ZHONGSHAN_GRID)
    }


@pytest.fixture
def siming_centre(org):
    """A district centre for 思明区 (the org fixture has none), made before any request."""
    return actions.create_centre(name="思明区综治中心", region=org["regions"]["350203000000"])


@pytest.fixture
def dispatcher(org, make_staff, cases, siming_centre) -> User:
    """A dispatcher of 集美区's centre, with the cases and the 思明区 centre already in place."""
    return make_staff(Role.DISPATCHER, centre=org["centres"]["350211000000"])


@pytest.fixture
def dispatcher_key(dispatcher) -> str:
    return Token.objects.create(user=dispatcher).key


# --- the cache is used at all --------------------------------------------------------------------


def test_a_second_request_with_the_same_token_reads_no_token_row(dispatcher_key):
    # given a first request that authenticated the token
    client = token_client(dispatcher_key)
    assert seen_regions(client.get(CASES)) == {CENXI_GRID}
    # when the same token calls again, nothing having changed
    with CaptureQueriesContext(connection) as queries:
        again = client.get(CASES)
    # then it is still let in, and the token (with its user) was not read again
    assert seen_regions(again) == {CENXI_GRID}
    token_table = Token._meta.db_table
    assert not [q["sql"] for q in queries.captured_queries if token_table in q["sql"]]


def test_each_request_gets_its_own_copy_of_the_cached_user(dispatcher, dispatcher_key):
    # given a first request whose user a view marked with an attribute of its own
    client = token_client(dispatcher_key)
    first = client.get(CASES)
    assert first.status_code == 200
    first_user = first.wsgi_request.user
    first_user.marked_by_the_first_request = True
    # when the same token calls again
    second = client.get(CASES)
    # then the second request has the same person, but as another object, without the mark
    assert second.status_code == 200
    second_user = second.wsgi_request.user
    assert second_user.pk == first_user.pk == dispatcher.pk
    assert second_user is not first_user
    assert not hasattr(second_user, "marked_by_the_first_request")


# --- revoked tokens and inactive users ---------------------------------------------------------------


def test_a_deleted_token_is_refused_at_the_next_request(dispatcher_key):
    # given a token that authenticated once (and is now cached)
    client = token_client(dispatcher_key)
    assert client.get(CASES).status_code == 200
    # when the token is revoked
    Token.objects.filter(key=dispatcher_key).delete()
    # then the next request with it is refused
    assert_refused(client.get(CASES))


def test_a_user_deactivated_through_save_is_refused_at_the_next_request(dispatcher, dispatcher_key):
    # given a cached token
    client = token_client(dispatcher_key)
    assert client.get(CASES).status_code == 200
    # when its user is deactivated through the ORM's save
    user = User.objects.get(pk=dispatcher.pk)
    user.is_active = False
    user.save()
    # then the next request is refused
    assert_refused(client.get(CASES))


def test_a_user_deactivated_through_a_bulk_update_is_refused_at_the_next_request(dispatcher, dispatcher_key):
    # given a cached token
    client = token_client(dispatcher_key)
    assert client.get(CASES).status_code == 200
    # when its user is deactivated with QuerySet.update (no save(), no signal)
    User.objects.filter(pk=dispatcher.pk).update(is_active=False)
    # then the next request is refused
    assert_refused(client.get(CASES))


def test_a_replaced_key_works_and_the_old_key_is_refused(dispatcher, dispatcher_key):
    # given a cached token
    old = token_client(dispatcher_key)
    assert old.get(CASES).status_code == 200
    # when the user's token is replaced (deleted and made anew, as DRF's tokens are rotated)
    Token.objects.filter(key=dispatcher_key).delete()
    new_key = Token.objects.create(user=dispatcher).key
    assert new_key != dispatcher_key
    # then the new key is let in and the old one is refused
    assert seen_regions(token_client(new_key).get(CASES)) == {CENXI_GRID}
    assert_refused(old.get(CASES))


def test_a_key_rewritten_in_place_by_update_moves_the_access_to_the_new_key(dispatcher_key):
    # given a cached token
    old = token_client(dispatcher_key)
    assert old.get(CASES).status_code == 200
    # when its key is rewritten with QuerySet.update (the key is the token's primary key)
    new_key = "f" * 40
    Token.objects.filter(key=dispatcher_key).update(key=new_key)
    # then the new key is let in and the old one is refused
    assert token_client(new_key).get(CASES).status_code == 200
    assert_refused(old.get(CASES))


def test_an_unknown_key_is_refused(dispatcher_key):
    # given a cached token of someone else
    assert token_client(dispatcher_key).get(CASES).status_code == 200
    # when a key no token has calls
    answer = token_client("0" * 40).get(CASES)
    # then it is refused
    assert_refused(answer)


# --- changed jurisdiction, role and placement -------------------------------------------------------


def test_a_dispatcher_moved_to_another_centre_sees_the_other_centres_cases_at_once(
    dispatcher, dispatcher_key, siming_centre,
):
    # given a cached dispatcher of 集美区, who sees 集美区's case only
    client = token_client(dispatcher_key)
    assert seen_regions(client.get(CASES)) == {CENXI_GRID}
    # when they are moved to 思明区's centre
    actions.set_role(dispatcher, Role.DISPATCHER, centre=siming_centre)
    # then the next request lists 思明区's case instead
    assert seen_regions(client.get(CASES)) == {ZHONGSHAN_GRID}


def test_a_changed_role_takes_effect_at_the_next_request(org, dispatcher, dispatcher_key):
    # given a cached dispatcher, whose role lets them dispatch
    client = token_client(dispatcher_key)
    assert client.get(ME).json()["role"] == Role.DISPATCHER
    assert seen_regions(client.get(CASES)) == {CENXI_GRID}
    # when they become a handler of 集美派出所 (a department without assignments on these cases)
    actions.set_role(dispatcher, Role.DEPARTMENT_HANDLER, department=org["departments"]["jm-police-jimei"])
    # then the next requests know the new role: no dispatching, and no case of theirs to list
    me = client.get(ME).json()
    assert me["role"] == Role.DEPARTMENT_HANDLER
    assert "case.dispatch" not in {a["name"] for a in me["allowed_actions"]}
    assert seen_regions(client.get(CASES)) == set()


def test_a_centre_moved_to_another_region_moves_its_dispatchers_jurisdiction(
    org, dispatcher, dispatcher_key,
):
    # given a cached dispatcher of 集美区's centre
    client = token_client(dispatcher_key)
    assert seen_regions(client.get(CASES)) == {CENXI_GRID}
    # when the centre itself (not the user) is moved to 中华街道 (思明区), taking that street's level
    centre = org["centres"]["350211000000"]
    centre.region, centre.level = org["regions"]["350203001000"], ""
    actions.save_centre(centre)
    # then the dispatcher's next request lists 思明区's case
    assert seen_regions(client.get(CASES)) == {ZHONGSHAN_GRID}


def test_a_department_moved_to_another_region_moves_its_staffs_jurisdiction(org, make_staff, cases):
    # given a cached mediator of 集美派出所 (集美街道), who sees the 集美 case
    department = org["departments"]["jm-police-jimei"]
    mediator = make_staff(Role.MEDIATOR, department=department)
    client = token_client(Token.objects.create(user=mediator).key)
    assert seen_regions(client.get(CASES)) == {CENXI_GRID}
    # when the department is moved to 中华街道 (思明区)
    department.region = org["regions"]["350203001000"]
    actions.save_department(department)
    # then the mediator's next request lists the 思明 case
    assert seen_regions(client.get(CASES)) == {ZHONGSHAN_GRID}


def test_a_corrected_region_changes_the_jurisdiction_it_gives(org, make_staff, cases):
    # given 集美街道 recorded at the wrong level (community), so its mediator's prefix matches no
    # case, and a cached token of that mediator
    Region.objects.filter(code="350211001000").update(level=Region.Level.COMMUNITY)
    mediator = make_staff(Role.MEDIATOR, department=org["departments"]["jm-police-jimei"])
    client = token_client(Token.objects.create(user=mediator).key)
    assert seen_regions(client.get(CASES)) == set()
    # when the region's level is corrected with a bulk update of the regions table
    Region.objects.filter(code="350211001000").update(level=Region.Level.STREET)
    # then the next request lists the case in that street
    assert seen_regions(client.get(CASES)) == {CENXI_GRID}


def test_a_grid_taken_from_or_given_to_a_grid_worker_shows_at_the_next_request(org, grid_worker, cases):
    # given a cached grid worker of 岑西一网格
    client = token_client(Token.objects.create(user=grid_worker).key)
    assert seen_regions(client.get(CASES)) == {CENXI_GRID}
    # when their grid is taken from them
    GridAssignment.objects.filter(worker=grid_worker).delete()
    # then the next request lists nothing
    assert seen_regions(client.get(CASES)) == set()
    # and when a grid is given again
    actions.assign_grid_worker(org["regions"][CENXI_GRID], grid_worker)
    # then the next request lists its case again
    assert seen_regions(client.get(CASES)) == {CENXI_GRID}


@pytest.mark.django_db
def test_a_request_without_credentials_is_told_to_authenticate_with_a_token():
    # given a system that forgot its token
    client = APIClient()
    # when it calls the API
    response = client.get("/api/v1/cases/")
    # then it is asked to authenticate (401 with the scheme), not forbidden
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"
    assert response.json()["error"]["code"] == "not_authenticated"
