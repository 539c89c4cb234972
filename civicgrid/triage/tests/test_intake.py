"""The intake hook in ``report_case``: the best three kept for the dispatcher; the category set
only above the threshold."""

from civicgrid.cases.workflow import State
from civicgrid.triage.models import CasePrediction


def test_a_confident_prediction_becomes_the_category_and_routing_follows(taxonomy, report, at_intake, city):
    # given classification at intake with a threshold of 0.5
    # when a citizen reports a missing manhole cover without a category
    case = report(title="井盖没了", description="小区门口的井盖缺失了，下水道盖子也没有，很危险")
    # then the best three are stored, the best applied, and the matrix's answer recorded
    prediction = CasePrediction.objects.get(case=case)
    assert len(prediction.top) == 3 and prediction.applied and prediction.threshold == 0.5
    assert prediction.top[0]["confidence"] >= 0.5
    case.refresh_from_db()
    assert case.category == taxonomy[("component", "01001")]
    assert case.routing_suggestion["lead_department"] == city.city_management.pk
    assert case.state == State.REPORTED  # the category is not set to auto-dispatch


def test_below_the_threshold_the_case_waits_for_a_person(taxonomy, report, at_intake):
    # given a threshold no prediction reaches
    at_intake.CIVICGRID_CLASSIFIER_THRESHOLD = 1.01
    # when a report arrives without a category
    case = report(title="井盖没了", description="小区门口的井盖缺失了")
    # then the proposals are kept, but the case has no category and no routing yet
    prediction = CasePrediction.objects.get(case=case)
    assert not prediction.applied and prediction.top[0]["code"] == "01001"
    case.refresh_from_db()
    assert case.category_id is None and case.routing_suggestion == {}


def test_a_report_with_a_category_or_with_intake_classification_off_is_not_classified(taxonomy, report, at_intake,
                                                                                     settings):
    # when a report comes with its category
    chosen = taxonomy[("matter", "06010")]
    with_category = report(title="井盖没了", category=chosen)
    # then the reporter's choice stands and nothing is predicted
    assert with_category.category == chosen and not CasePrediction.objects.filter(case=with_category).exists()
    # and with classification at intake switched off nothing is predicted either
    settings.CIVICGRID_CLASSIFY_AT_INTAKE = False
    off = report(title="井盖没了")
    assert off.category_id is None and not CasePrediction.objects.filter(case=off).exists()



def test_the_classifiers_category_sets_the_filing_deadline(taxonomy, report, at_intake):
    # given a filing limit of 2 working hours for manhole covers, and none by default
    from civicgrid.taxonomy.models import SlaRule

    SlaRule.objects.create(category=taxonomy[("component", "01001")], file_amount=2, file_unit="hours")
    # when a report without a category is classified as a manhole cover at intake
    case = report(title="井盖没了", description="小区门口的井盖缺失了，下水道盖子也没有，很危险")
    case.refresh_from_db()
    # then its filing clock runs on that category's limit, as if the reporter had chosen it
    assert case.category == taxonomy[("component", "01001")]
    chosen = report(title="井盖没了", category=taxonomy[("component", "01001")], reported_at=case.reported_at)
    assert case.stage_deadline is not None and case.stage_deadline == chosen.stage_deadline
