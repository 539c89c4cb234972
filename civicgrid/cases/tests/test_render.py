"""The read-side serializers render from fields built once per class: the same output as DRF's
own per-instance rendering, and labels as ``get_FOO_display`` gives them."""

from rest_framework import serializers

from civicgrid.cases import selectors
from civicgrid.cases.serializers import AssignmentSerializer, CaseDetailSerializer, EventSerializer
from civicgrid.cases.tests.builders import case_in_state
from civicgrid.cases.workflow import State


def _drf_rendering(serializer, instance):
    """DRF's Serializer.to_representation (fresh fields per instance), bypassing the prepared plan."""
    return serializers.Serializer.to_representation(serializer, instance)


def test_case_answer_matches_drf_rendering(city):
    # given a dispatched case with its timeline and tasks
    case = case_in_state(city, State.DISPATCHED)
    context = {
        "timeline": list(selectors.timeline(case)), "assignments": list(selectors.assignments_of(case)), "requests": [],
        "supervisions": [], "available_actions": ["supervise"], "rating_token": None,
    }
    # when it is rendered by the prepared serializer and by DRF's own loop
    fast = CaseDetailSerializer(case, context=context).data
    slow = _drf_rendering(CaseDetailSerializer(case, context=context), case)
    # then both say the same, labels included
    assert fast == slow
    assert fast["state"] == State.DISPATCHED and fast["state_label"] == case.get_state_display()
    assert [e["action_label"] for e in fast["timeline"]] == [e.get_action_display() for e in context["timeline"]]
    assert fast["assignments"][0]["state_label"] == context["assignments"][0].get_state_display()


def test_each_instance_keeps_its_own_context(city):
    # given one serializer class rendering two cases with different contexts
    case = case_in_state(city, State.DISPATCHED)
    first = CaseDetailSerializer(case, context={"timeline": [], "assignments": [], "requests": [], "supervisions": [],
                                                "available_actions": ["a"], "rating_token": "t1"}).data
    second = CaseDetailSerializer(case, context={"timeline": [], "assignments": [], "requests": [],
                                                 "supervisions": [], "available_actions": [], "rating_token": None}).data
    # then the method fields answer from each instance's context
    assert (first["available_actions"], first["rating_token"]) == (["a"], "t1")
    assert (second["available_actions"], second["rating_token"]) == ([], None)
    # and nested list serializers render every item
    assert len(EventSerializer(selectors.timeline(case), many=True).data) == len(selectors.timeline(case))
    assert len(AssignmentSerializer(selectors.assignments_of(case), many=True).data) >= 1


def test_nested_lists_render_as_drf_renders_each_item(city):
    # given a dispatched case's timeline and tasks
    case = case_in_state(city, State.DISPATCHED)
    events, tasks = list(selectors.timeline(case)), list(selectors.assignments_of(case))
    # when rendered as nested lists by the prototype of their class
    # then each item reads as DRF's own rendering of it
    assert EventSerializer.render_many(events) == [_drf_rendering(EventSerializer(e), e) for e in events]
    assert AssignmentSerializer.render_many(tasks) == [_drf_rendering(AssignmentSerializer(t), t) for t in tasks]
    assert len(events) >= 2 and len(tasks) >= 1
