"""Staff log in at /accounts/login/ and land in their own room."""
# Fixtures are imported from pages_support and then requested by name.
# ruff: noqa: F811

import pytest

from .pages_support import city  # noqa: F401


@pytest.mark.parametrize("who,room", [("cm_handler", "/dept/"), ("grid_worker", "/grid/"),
                                      ("dispatcher", "/console/"), ("admin", "/admin/")])
def test_each_role_lands_in_its_room(client, city, who, room):
    # given a member of staff
    user = getattr(city, who)
    # when they log in
    response = client.post("/accounts/login/", {"username": user.username, "password": "x"})
    # then they are sent to their room
    assert response.status_code == 302 and response["Location"] == room


def test_a_wrong_password_is_refused_and_next_is_kept(client, city):
    page = client.get("/accounts/login/?next=/dept/").content.decode()
    assert 'value="/dept/"' in page
    response = client.post("/accounts/login/", {"username": "cm", "password": "wrong"})
    assert response.status_code == 200 and "请输入一个正确的" in response.content.decode()
    response = client.post("/accounts/login/", {"username": "cm", "password": "x", "next": "/dept/"})
    assert response["Location"] == "/dept/"


def test_logout_is_a_post(client, city):
    client.force_login(city.cm_handler)
    response = client.post("/accounts/logout/")
    assert response.status_code == 302 and client.get("/dept/").status_code == 302
