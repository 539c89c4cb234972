"""Forms of the dispute pages: they check the shape of the input only; the rules are in actions."""

from django import forms
from django.utils.translation import gettext_lazy as _

from civicgrid.disputes.models import (
    FailureRoute,
    MediationMethod,
    Performance,
    ReviewDecision,
    RiskLevel,
    SessionResult,
)

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
WHEN = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
TEXT = forms.Textarea(attrs={"rows": 3})


class OpenForm(forms.Form):
    name = forms.CharField(label=_("Dispute name"), max_length=200)
    dispute_type = forms.ModelChoiceField(label=_("Type"), queryset=None, empty_label=None)
    occurred_on = forms.DateField(label=_("Date"), widget=DATE)
    place = forms.CharField(label=_("Place"), max_length=300)
    region_code = forms.CharField(label=_("Region code (grid or community)"), max_length=15)
    people_involved = forms.IntegerField(label=_("People involved"), min_value=1, initial=2)
    brief = forms.CharField(label=_("Brief"), widget=TEXT)
    organisations_involved = forms.CharField(label=_("Organisations involved"), required=False)
    method = forms.ChoiceField(label=_("Resolution method"), choices=MediationMethod.choices)
    applicant_name = forms.CharField(label=_("Applicant"), max_length=100)
    applicant_id_number = forms.CharField(label=_("Applicant's ID number"), max_length=32, required=False)
    applicant_phone = forms.CharField(label=_("Applicant's phone"), max_length=32, required=False)
    respondent_name = forms.CharField(label=_("Respondent"), max_length=100, required=False)
    respondent_id_number = forms.CharField(label=_("Respondent's ID number"), max_length=32, required=False)
    respondent_phone = forms.CharField(label=_("Respondent's phone"), max_length=32, required=False)

    def __init__(self, *args, types=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["dispute_type"].queryset = types

    def fields_for_action(self) -> dict:
        d = self.cleaned_data
        parties = [{"role": "applicant", "name": d["applicant_name"], "id_number": d["applicant_id_number"],
                    "phone": d["applicant_phone"]}]
        if d["respondent_name"]:
            parties.append({"role": "respondent", "name": d["respondent_name"],
                            "id_number": d["respondent_id_number"], "phone": d["respondent_phone"]})
        return {
            "name": d["name"], "dispute_type": d["dispute_type"], "occurred_on": d["occurred_on"],
            "place": d["place"], "region_code": d["region_code"].strip(), "people_involved": d["people_involved"],
            "brief": d["brief"], "organisations_involved": d["organisations_involved"], "method": d["method"],
            "parties": parties,
        }


class SessionForm(forms.Form):
    held_at = forms.DateTimeField(label=_("Held at"), widget=WHEN, input_formats=["%Y-%m-%dT%H:%M"])
    place = forms.CharField(label=_("Place"), required=False)
    online = forms.BooleanField(label=_("Online"), required=False)
    mediators = forms.CharField(label=_("Mediators"), max_length=300)
    participants = forms.CharField(label=_("Participants"), widget=TEXT)
    minutes = forms.CharField(label=_("Minutes"), widget=TEXT)
    next_step = forms.CharField(label=_("Next step"), required=False)
    result = forms.ChoiceField(label=_("Result"), choices=SessionResult.choices)


class AgreementForm(forms.Form):
    committee = forms.CharField(label=_("Mediation committee"), max_length=200)
    facts = forms.CharField(label=_("Facts and issues"), widget=TEXT)
    terms = forms.CharField(label=_("Terms"), widget=TEXT)
    performance = forms.CharField(label=_("Manner and time of performance"), required=False)
    signed_parties = forms.MultipleChoiceField(label=_("Parties who signed"), widget=forms.CheckboxSelectMultiple)
    mediator_name = forms.CharField(label=_("Mediator's signature"), max_length=100)
    sealed = forms.BooleanField(label=_("Committee seal affixed"), required=False, initial=True)
    effective_on = forms.DateField(label=_("Effective date"), widget=DATE)

    def __init__(self, *args, parties=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["signed_parties"].choices = [(str(p.pk), label) for p, label in parties]


class FailureForm(forms.Form):
    route = forms.ChoiceField(label=_("Route advised"), choices=FailureRoute.choices)
    guidance = forms.CharField(label=_("Guidance given"), widget=TEXT)


class ApplyForm(forms.Form):
    applied_on = forms.DateField(label=_("Applied on"), widget=DATE)
    court = forms.CharField(label=_("Court"), max_length=200)


class ConfirmationForm(forms.Form):
    confirmed = forms.TypedChoiceField(label=_("Ruling"), coerce=lambda v: v == "yes",
                                       choices=[("yes", _("confirmed")), ("no", _("not confirmed"))])
    decided_on = forms.DateField(label=_("Decided on"), widget=DATE)
    note = forms.CharField(label=_("Note"), required=False)


class VisitForm(forms.Form):
    visit = forms.IntegerField(widget=forms.HiddenInput)
    performance = forms.ChoiceField(label=_("Performance"), choices=Performance.choices)
    note = forms.CharField(label=_("Note"), required=False)
    reopen = forms.BooleanField(label=_("Reopen the case"), required=False)
    reason = forms.CharField(label=_("Reason for reopening"), required=False)


class JointForm(forms.Form):
    note = forms.CharField(label=_("Note"), required=False)


class EvaluationForm(forms.Form):
    evaluation = forms.CharField(label=_("Evaluation"), widget=TEXT)


class ReviewForm(forms.Form):
    decision = forms.ChoiceField(label=_("Decision"), choices=ReviewDecision.choices)
    level = forms.ChoiceField(label=_("Level after a downgrade"), required=False,
                              choices=[("", "—"), (RiskLevel.MEDIUM, RiskLevel.MEDIUM.label),
                                       (RiskLevel.LOW, RiskLevel.LOW.label)])
    reason = forms.CharField(label=_("Reason"), widget=TEXT)


class FiguresForm(forms.Form):
    start = forms.DateField(label=_("From"), widget=DATE)
    end = forms.DateField(label=_("To"), widget=DATE)
    group_by = forms.ChoiceField(label=_("Group by"), required=False, choices=[
        ("type", _("type")), ("region", _("region")), ("month", _("month"))])
