from django.urls import reverse
from rest_framework.test import APIClient


def test_org_api_is_mounted_in_the_project(jimei_dispatcher):
    # given the project's own URLconf (the other org tests use a trimmed copy)
    assert reverse("org-api:me") == "/api/v1/org/me/"
    client = APIClient()
    client.force_authenticate(jimei_dispatcher)
    # when / then
    assert client.get("/api/v1/org/me/").json()["username"] == jimei_dispatcher.username
