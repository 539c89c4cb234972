"""How API answers are rendered: DRF's JSON, without doing the same work twice.

Kept apart from ``civicgrid.core.api``: DRF's settings import the classes named here while its
views module loads, which ``civicgrid.core.api`` itself imports.
"""

import json

from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.renderers import JSONRenderer
from rest_framework.utils.encoders import JSONEncoder


def answer_json(data) -> bytes:
    """``data`` as DRF's ``JSONRenderer`` renders it by default (compact, UTF-8, no NaN, U+2028/9
    escaped; no data at all as an empty body): the bytes an answer is sent as, and kept as
    (``Idempotency-Key``)."""
    if data is None:
        return b""
    text = json.dumps(data, cls=JSONEncoder, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    return text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029").encode()


class AnswerJSONRenderer(JSONRenderer):
    """DRF's JSON renderer; an answer already rendered to be kept with its ``Idempotency-Key``
    (``response.rendered_json``: (data, bytes)) is sent as those very bytes, not rendered twice."""

    def render(self, data, accepted_media_type=None, renderer_context=None):
        renderer_context = renderer_context or {}
        done = getattr(renderer_context.get("response"), "rendered_json", None)
        if done is not None and done[0] is data and self.get_indent(accepted_media_type, renderer_context) is None:
            return done[1]
        return super().render(data, accepted_media_type, renderer_context)


class ContentNegotiation(DefaultContentNegotiation):
    """DRF's content negotiation, answering at once the questions almost every API call asks: no
    preference (the view's first renderer, as DRF would choose) or ``application/json``."""

    def select_renderer(self, request, renderers, format_suffix=None):
        accept = request.META.get("HTTP_ACCEPT", "")
        if format_suffix is None and self.settings.URL_FORMAT_OVERRIDE not in request.query_params:
            if accept in ("", "*/*") and renderers:
                return renderers[0], renderers[0].media_type
            if accept == "application/json":
                for renderer in renderers:
                    if renderer.media_type == "application/json":
                        return renderer, renderer.media_type
        return super().select_renderer(request, renderers, format_suffix)
