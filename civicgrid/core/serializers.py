"""Serializer pieces shared by the apps' APIs.

DRF builds a serializer's fields anew for every instance (it introspects the model and deep-copies
every field), and Django's ``get_FOO_display`` hashes the whole choice list on every call. A list
or a case answer renders many objects and several nested serializers, and every report is checked
by the same input serializer, so both are done once per class instead; what is rendered or
accepted is the same.
"""

import copy

from rest_framework import serializers
from rest_framework.fields import SkipField
from rest_framework.relations import PKOnlyObject
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
                (f.field_name, f, f.method_name if isinstance(f, serializers.SerializerMethodField) else None)
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
        for name, field, method in self._render_plan():
            if method is not None:
                out[name] = getattr(self, method)(instance)
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
