"""Serializer pieces shared by the apps' APIs.

DRF builds a serializer's fields anew for every instance (it introspects the model and deep-copies
every field), and Django's ``get_FOO_display`` hashes the whole choice list on every call. A list
or a case answer renders many objects and several nested serializers, and every report is checked
by the same input serializer, so both are done once per class instead; what is rendered or
accepted is the same.
"""

import copy

from django.utils import timezone
from rest_framework import ISO_8601, serializers
from rest_framework.fields import SkipField
from rest_framework.relations import PKOnlyObject
from rest_framework.settings import api_settings
from rest_framework.utils.serializer_helpers import BindingDict


class ChoiceLabelField(serializers.CharField):
    """The display label of a choice value (what ``get_FOO_display`` answers), translated into
    the request's language: ``ChoiceLabelField(State.choices, source="state")``."""

    def __init__(self, choices, **kwargs):
        self.labels = dict(choices)
        kwargs["read_only"] = True
        super().__init__(**kwargs)

    def to_representation(self, value):
        return str(self.labels.get(value, value))


class RenderSerializer(serializers.ModelSerializer):
    """A read-side model serializer whose fields are built and bound once per class, on a
    prototype instance, and reused for every object it renders. Method fields are called on the
    rendering instance, so what depends on its context (masks, the caller's actions) stays per
    instance. Only for output: a subclass must not change its fields per instance."""

    def get_fields(self):
        built = type(self).__dict__.get("_built_fields")
        if built is None:
            built = super().get_fields()
            type(self)._built_fields = built  # unbound fields; a race only builds them twice
        return copy.deepcopy(built)

    @classmethod
    def _render_plan(cls) -> list:
        plan = cls.__dict__.get("_plan")
        if plan is None:
            prototype = cls(context={})
            plan = [
                (f.field_name, f, f.method_name if isinstance(f, serializers.SerializerMethodField) else None,
                 *_direct(f))
                for f in prototype._readable_fields
            ]
            cls._plan = plan  # read-only from here on; a race only builds it twice
        return plan

    @classmethod
    def render_many(cls, objects) -> list:
        """What ``cls(objects, many=True).data`` renders, by a prototype made once per class:
        for nested lists, whose rendering otherwise builds a list serializer and a child per call.
        Only for serializers whose rendering needs no context."""
        prototype = cls.__dict__.get("_prototype")
        if prototype is None:
            prototype = cls._prototype = cls(context={})
        return [prototype.to_representation(obj) for obj in objects]

    def to_representation(self, instance):
        # DRF's Serializer.to_representation over the prepared fields.
        out = {}
        for name, field, method, attr, convert in self._render_plan():
            if method is not None:
                out[name] = getattr(self, method)(instance)
                continue
            if attr is not None:
                # A plain attribute rendered as its field renders it (see ``_direct``).
                value = getattr(instance, attr)
                if not callable(value):
                    out[name] = None if value is None else convert(value)
                    continue
            try:
                attribute = field.get_attribute(instance)
            except SkipField:
                continue
            check = attribute.pk if isinstance(attribute, PKOnlyObject) else attribute
            out[name] = None if check is None else field.to_representation(attribute)
        return out


class InputSerializer(serializers.Serializer):
    """An input serializer whose fields are built and bound once per class, on the first instance,
    and shared by every instance after it (validation reads its fields, it does not change them;
    ``validate_<field>`` and ``validate`` still run on each instance). Only for plain fields whose
    checks need neither the instance nor its context."""

    @property
    def fields(self):
        cls = type(self)
        bound = cls.__dict__.get("_bound_fields")
        if bound is None:
            bound = BindingDict(self)
            for name, field in self.get_fields().items():
                bound[name] = field
            cls._bound_fields = bound  # a race only binds them twice
        return bound


def _iso_datetime(value):
    """``DateTimeField.to_representation`` with its defaults (ISO 8601, the current time zone)."""
    if not value:
        return None
    if isinstance(value, str):
        return value
    if timezone.is_naive(value):
        return None  # not reached with USE_TZ: the caller falls back to the field
    text = value.astimezone(timezone.get_current_timezone()).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


_SAME = {serializers.CharField: str, serializers.IntegerField: int, serializers.FloatField: float}


def _direct(field) -> tuple:
    """(attribute, converter) when ``field`` renders a plain attribute of the object as one of a
    few DRF field types does it (the attribute read directly, the value converted as that type's
    ``to_representation`` converts it), else (None, None): the field renders itself."""
    from django.conf import settings

    attrs = getattr(field, "source_attrs", None)
    if field.source == "*" or not attrs or len(attrs) != 1:
        return None, None
    kind = type(field)
    if kind in _SAME and getattr(field, "coerce_to_string", False) is False:
        return attrs[0], _SAME[kind]
    if kind in (ChoiceLabelField, serializers.ChoiceField) or isinstance(field, RenderSerializer):
        return attrs[0], field.to_representation
    if kind is serializers.JSONField and not field.binary:
        return attrs[0], _identity
    if (kind is serializers.DateTimeField and settings.USE_TZ and not hasattr(field, "timezone")
            and getattr(field, "format", api_settings.DATETIME_FORMAT) == ISO_8601):
        return attrs[0], _datetime_or_field(field)
    return None, None


def _identity(value):
    return value


def _datetime_or_field(field):
    def convert(value):
        text = _iso_datetime(value)
        return field.to_representation(value) if text is None and value else text

    return convert
