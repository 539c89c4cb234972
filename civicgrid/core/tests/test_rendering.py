"""How API answers are rendered (civicgrid.core.rendering): ``answer_json`` is DRF's JSON byte for
byte, ``AnswerJSONRenderer`` sends an answer already rendered (``response.rendered_json``) as those
very bytes, and ``ContentNegotiation`` answers the common Accept headers at once and otherwise
exactly as DRF does."""

import datetime
import uuid
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.http import Http404
from django.utils.translation import gettext_lazy
from rest_framework.exceptions import NotAcceptable
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.renderers import BaseRenderer, BrowsableAPIRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.test import APIClient, APIRequestFactory
from rest_framework.views import APIView

from civicgrid.core.rendering import AnswerJSONRenderer, ContentNegotiation, answer_json
from civicgrid.org.models import Role, User

factory = APIRequestFactory()
SHANGHAI = ZoneInfo("Asia/Shanghai")


class XMLishRenderer(BaseRenderer):
    """A view's non-JSON first choice (as an XML API would declare it)."""

    media_type = "application/xml"
    format = "xml"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return b"<xml/>"


# --- answer_json ---------------------------------------------------------------------------------

SAMPLES = {
    "chinese": {"title": "井盖缺失", "address": "厦门市集美区集美街道岑西社区", "note": "「紧急」——请尽快处理！"},
    "line and paragraph separators": {"text": "第一行\u2028第二行\u2029第三段", "key\u2028": ["\u2029"]},
    "other control and escape characters": {"s": "tab\there\nnew \"quoted\" back\\slash \x00 \x1f é ☃ 😀"},
    "nested": {"a": [1, 2, {"b": [None, True, False, {"c": {"d": []}}]}], "e": {"f": {"g": {}}}},
    "numbers": {"int": 12345678901234567890, "neg": -1, "float": 0.1, "exp": 1e300, "zero": 0.0},
    "decimal": {"amount": Decimal("12.50"), "tiny": Decimal("0.000001"), "big": Decimal("1E+30")},
    "datetime": {
        "aware": datetime.datetime(2026, 11, 23, 9, 0, 0, 123456, tzinfo=SHANGHAI),
        "utc": datetime.datetime(2026, 11, 23, 1, 0, tzinfo=datetime.UTC),
        "date": datetime.date(2026, 2, 17),
        "time": datetime.time(8, 30, 15, 250000),
        "duration": datetime.timedelta(hours=3, minutes=5),
    },
    "uuid": {"id": uuid.UUID("12345678-1234-5678-1234-567812345678")},
    "nulls inside": {"a": None, "b": [None, None]},
    "empty dict": {},
    "empty list": [],
    "empty string": "",
    "top-level list": [{"number": "JM20260001"}, {"number": "JM20260002"}],
    "tuple and bytes": {"t": (1, "二"), "b": b"bytes"},
    "lazy translation": {"label": gettext_lazy("Cases")},
    "bare string": "只是一个字符串",
    "bare number": 42,
    "bare boolean": False,
}


@pytest.mark.parametrize("data", list(SAMPLES.values()), ids=list(SAMPLES))
def test_answer_json_is_drfs_json_byte_for_byte(data):
    # given data of one kind an API answer may carry
    # when it is rendered both ways
    ours = answer_json(data)
    drfs = JSONRenderer().render(data)
    # then the bytes are identical
    assert ours == drfs
    assert isinstance(ours, bytes)


def test_answer_json_keeps_chinese_as_utf8_and_escapes_only_the_line_separators():
    # given Chinese text with the two separators JavaScript does not allow in a string literal
    data = {"t": "网格\u2028员\u2029"}
    # when rendered
    out = answer_json(data)
    # then the Chinese is raw UTF-8, the separators are escaped, and nothing else is
    assert out == '{"t":"网格\\u2028员\\u2029"}'.encode()


@pytest.mark.parametrize("value", [float("nan"), float("inf"), float("-inf")])
def test_answer_json_refuses_what_drf_refuses(value):
    # given a number JSON cannot carry
    data = {"x": value}
    # when rendered both ways, then both refuse it
    with pytest.raises(ValueError):
        JSONRenderer().render(data)
    with pytest.raises(ValueError):
        answer_json(data)


def test_answer_json_of_no_data_is_drfs_empty_body():
    # given no data at all (a 204 answer's Response(status=204))
    # when rendered both ways
    # then the bytes are identical
    assert answer_json(None) == JSONRenderer().render(None)


# --- AnswerJSONRenderer --------------------------------------------------------------------------


def kept_response(data, kept: bytes) -> Response:
    response = Response(data)
    response.rendered_json = (data, kept)
    return response


def test_the_renderer_sends_the_kept_bytes_for_the_very_same_data():
    # given an answer already rendered and kept (bytes that differ from a fresh rendering, so that
    # re-rendering would show)
    data = {"number": "JM20260001"}
    response = kept_response(data, b'{"kept":"bytes"}')
    # when the renderer renders that very data object
    out = AnswerJSONRenderer().render(data, "application/json", {"response": response})
    # then it sends the kept bytes
    assert out == b'{"kept":"bytes"}'


def test_the_renderer_renders_data_that_is_equal_but_not_the_same_object():
    # given kept bytes for one data object
    data = {"number": "JM20260001"}
    response = kept_response(data, b'{"kept":"bytes"}')
    # when the renderer is given an equal but different object (the data was replaced)
    other = {"number": "JM20260001"}
    out = AnswerJSONRenderer().render(other, "application/json", {"response": response})
    # then it renders it, as DRF does
    assert out == JSONRenderer().render(other) == b'{"number":"JM20260001"}'


@pytest.mark.parametrize("media_type, context", [
    ("application/json; indent=2", {}),
    ("application/json", {"indent": 2}),
], ids=["indent in the Accept header", "indent in the renderer context"])
def test_the_renderer_renders_again_when_an_indent_is_asked(media_type, context):
    # given kept (compact) bytes for the data
    data = {"number": "JM20260001", "tags": ["井盖"]}
    response = kept_response(data, answer_json(data))
    # when the same data is rendered with an indent
    out = AnswerJSONRenderer().render(data, media_type, {"response": response, **context})
    # then it is indented, as DRF renders it
    assert out == JSONRenderer().render(data, media_type, {**context}) != answer_json(data)
    assert b'\n  "number"' in out


def test_the_renderer_renders_normally_without_kept_bytes():
    # given answers without kept bytes: no response in the context, or a response without them
    data = {"title": "井盖缺失"}
    # when rendered, then the bytes are DRF's
    assert AnswerJSONRenderer().render(data, "application/json", {}) == JSONRenderer().render(data)
    assert AnswerJSONRenderer().render(data, "application/json", None) == JSONRenderer().render(data)
    assert AnswerJSONRenderer().render(data, "application/json", {"response": Response(data)}) == \
        JSONRenderer().render(data)


def test_an_api_answer_with_kept_bytes_is_sent_as_them_through_the_configured_renderer():
    # given a view (with the project's renderers and negotiation) whose answer carries kept bytes
    class KeptView(APIView):
        authentication_classes: list = []
        permission_classes: list = []

        def get(self, request):
            data = {"number": "JM20260001"}
            response = Response(data)
            response.rendered_json = (data, b'{"number":"JM20260001","kept":true}')
            return response

    # when it answers a request without an Accept header
    response = KeptView.as_view()(factory.get("/kept/"))
    response.render()
    # then the body is the kept bytes, as JSON
    assert response["Content-Type"] == "application/json"
    assert response.content == b'{"number":"JM20260001","kept":true}'


# --- ContentNegotiation --------------------------------------------------------------------------


def drf_request(path: str = "/things/", accept: str | None = None) -> Request:
    headers = {} if accept is None else {"HTTP_ACCEPT": accept}
    return Request(factory.get(path, **headers))


def renderers():
    return [XMLishRenderer(), AnswerJSONRenderer(), BrowsableAPIRenderer()]


@pytest.mark.parametrize("accept", [None, "", "*/*"], ids=["no header", "empty header", "*/*"])
def test_no_preference_picks_the_views_first_renderer_even_when_it_is_not_json(accept):
    # given a view whose first renderer is XML
    choices = renderers()
    # when a request states no preference
    renderer, media_type = ContentNegotiation().select_renderer(drf_request(accept=accept), choices)
    # then the first renderer answers, with its own media type
    assert renderer is choices[0]
    assert media_type == "application/xml"


def test_no_preference_is_what_drf_chooses_too():
    # given the same view and a request without an Accept header (DRF reads it as */*)
    choices = renderers()
    # when both negotiate
    ours = ContentNegotiation().select_renderer(drf_request(), choices)
    drfs = DefaultContentNegotiation().select_renderer(drf_request(), choices)
    # then they agree
    assert ours == drfs


def test_accept_json_picks_the_json_renderer_even_when_it_is_not_first():
    # given a view whose first renderer is XML
    choices = renderers()
    # when a request accepts only JSON
    renderer, media_type = ContentNegotiation().select_renderer(drf_request(accept="application/json"), choices)
    # then the JSON renderer answers
    assert renderer is choices[1]
    assert media_type == "application/json"


def test_accept_json_without_a_json_renderer_is_refused_as_drf_refuses_it():
    # given a view that renders XML only
    choices = [XMLishRenderer()]
    # when a request accepts only JSON, then it is not acceptable
    with pytest.raises(NotAcceptable):
        ContentNegotiation().select_renderer(drf_request(accept="application/json"), choices)


OTHER_ACCEPTS = [
    "text/html",
    "application/xml",
    "application/json; indent=4",
    "application/json, text/html;q=0.9",
    "text/html, application/json;q=0.5",
    "text/html, */*;q=0.8",
    "*/*;q=0.8",
    "application/*",
    "application/xml;q=0.1, application/json",
]


@pytest.mark.parametrize("accept", OTHER_ACCEPTS)
def test_other_accept_headers_are_negotiated_exactly_as_drf_does(accept):
    # given a view with XML first, JSON, then the browsable API
    choices = renderers()
    # when a request states another preference
    ours = ContentNegotiation().select_renderer(drf_request(accept=accept), choices)
    drfs = DefaultContentNegotiation().select_renderer(drf_request(accept=accept), choices)
    # then the choice (renderer and media type) is DRF's
    assert ours == drfs


def test_the_answers_to_other_accept_headers_are_not_the_first_renderer():
    # given a view with XML first (so that a shortcut to the first renderer would show)
    choices = renderers()
    negotiation = ContentNegotiation()
    # when a browser or a client asking for indented JSON calls
    html = negotiation.select_renderer(drf_request(accept="text/html"), choices)
    indented = negotiation.select_renderer(drf_request(accept="application/json; indent=4"), choices)
    # then the browsable API and the JSON renderer (with the indent kept) answer
    assert html == (choices[2], "text/html")
    assert indented == (choices[1], "application/json; indent=4")


def test_an_unacceptable_accept_header_is_refused_as_drf_refuses_it():
    # given a view with XML, JSON and the browsable API
    # when a request accepts only images, then it is not acceptable
    with pytest.raises(NotAcceptable):
        ContentNegotiation().select_renderer(drf_request(accept="image/png"), renderers())


def negotiated(negotiation, request, choices, suffix=None):
    """What ``select_renderer`` gives: (renderer, media type), or the class of what it raised."""
    try:
        return negotiation.select_renderer(request, choices, suffix)
    except (NotAcceptable, Http404) as exc:
        return type(exc)


# (Accept header, format named, what answers): the index of the renderer, or the refusal
FORMAT_CASES = [
    (None, "json", 1), (None, "api", 2), (None, "xml", 0),
    ("*/*", "json", 1), ("*/*", "api", 2), ("*/*", "xml", 0),
    # the format chooses among the renderers, the Accept header must still fit the one chosen
    ("application/json", "json", 1), ("application/json", "api", NotAcceptable),
    ("application/json", "xml", NotAcceptable),
]


def expected_of(choices, expected):
    return expected if isinstance(expected, type) else choices[expected]


@pytest.mark.parametrize("accept, fmt, expected", FORMAT_CASES)
def test_the_format_query_parameter_overrides_the_shortcuts(accept, fmt, expected):
    # given a view with XML, JSON and the browsable API
    choices = renderers()
    # when a request names a format in the query
    ours = negotiated(ContentNegotiation(), drf_request(f"/things/?format={fmt}", accept=accept), choices)
    # then the renderer of that format answers (or the request is refused), as DRF decides
    want = expected_of(choices, expected)
    assert (ours if isinstance(ours, type) else ours[0]) is want
    assert ours == negotiated(DefaultContentNegotiation(), drf_request(f"/things/?format={fmt}", accept=accept),
                              choices)


@pytest.mark.parametrize("accept, suffix, expected", FORMAT_CASES)
def test_a_format_suffix_overrides_the_shortcuts(accept, suffix, expected):
    # given a view with XML, JSON and the browsable API
    choices = renderers()
    # when the URL's format suffix names a format
    ours = negotiated(ContentNegotiation(), drf_request(accept=accept), choices, suffix)
    # then the renderer of that format answers (or the request is refused), as DRF decides
    want = expected_of(choices, expected)
    assert (ours if isinstance(ours, type) else ours[0]) is want
    assert ours == negotiated(DefaultContentNegotiation(), drf_request(accept=accept), choices, suffix)


def test_an_unknown_format_is_not_found_as_in_drf():
    # given a view with XML, JSON and the browsable API
    # when a request names a format none of them renders, then it is "not found", as in DRF
    with pytest.raises(Http404):
        ContentNegotiation().select_renderer(drf_request("/things/?format=csv"), renderers())


# --- end to end: the project's API ---------------------------------------------------------------


@pytest.fixture
def api_user(db):
    return User.objects.create_user(username="reader", password="x", role=Role.ADMINISTRATOR)


def test_the_api_answers_json_without_an_accept_header_and_html_to_a_browser(api_user):
    # given an authenticated API client (the project's renderers and negotiation, from the settings)
    client = APIClient()
    client.force_authenticate(api_user)
    # when it asks without an Accept header, with */*, and as a browser does
    plain = client.get("/api/v1/org/me/")
    anything = client.get("/api/v1/org/me/", HTTP_ACCEPT="*/*")
    browser = client.get("/api/v1/org/me/", HTTP_ACCEPT="text/html,application/xhtml+xml,*/*;q=0.8")
    # then the first two get compact JSON (DRF's bytes for the data), the browser the browsable API
    for response in (plain, anything):
        assert response.status_code == 200
        assert response["Content-Type"] == "application/json"
        assert response.content == answer_json(response.data)
        assert response.json()["username"] == "reader"
    assert browser.status_code == 200
    assert browser["Content-Type"].startswith("text/html")
