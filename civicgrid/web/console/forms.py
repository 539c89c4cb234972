"""The console's forms: they parse what the dispatcher typed; every rule is checked by the action
each form feeds (``civicgrid.cases.actions``), whose errors are put back on the form's fields."""

from django import forms
from django.utils.translation import gettext_lazy as _

from civicgrid.cases.models import Channel, SlaStatus, SupervisionLevel, Urgency
from civicgrid.org.models import Department


def _reason(label=None, required=True):
    return forms.CharField(label=label or _("Reason"), required=required, widget=forms.Textarea(attrs={"rows": 2}))


class QueueFilterForm(forms.Form):
    """The queue's filters (all optional); ``tab`` is the state group."""

    tab = forms.CharField(required=False, widget=forms.HiddenInput)
    q = forms.CharField(label=_("Search"), required=False, widget=forms.TextInput(attrs={
        "type": "search", "placeholder": _("Number, title, address…"), "autocomplete": "off"}))
    category = forms.ChoiceField(label=_("Category"), required=False)
    channel = forms.ChoiceField(label=_("Channel"), required=False,
                                choices=[("", _("All channels"))] + list(Channel.choices))
    region = forms.ChoiceField(label=_("Region"), required=False)
    sla = forms.ChoiceField(label=_("SLA status"), required=False,
                            choices=[("", _("Any SLA status"))] + list(SlaStatus.choices))

    def __init__(self, *args, categories=(), regions=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["category"].choices = [("", _("All categories"))] + [(str(c.pk), c.name) for c in categories]
        self.fields["region"].choices = [("", _("Whole jurisdiction"))] + [
            (r.code, ("\u00a0\u00a0" if r.level == "street" else "") + r.name) for r in regions]

    def filters(self) -> dict:
        """The cleaned filters as keyword arguments of ``cases.selectors.queue_for``."""
        if not self.is_valid():
            return {}
        d = self.cleaned_data
        return {"category": d["category"] or None, "channel": d["channel"], "region": d["region"],
                "sla": d["sla"], "text": d["q"]}


class FileForm(forms.Form):
    category = forms.ModelChoiceField(label=_("Category"), queryset=None, empty_label=_("Choose a category"))
    urgency = forms.ChoiceField(label=_("Urgency"), choices=Urgency.choices)
    note = forms.CharField(label=_("Note"), required=False)

    def __init__(self, *args, categories=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["category"].queryset = categories


class ReasonForm(forms.Form):
    reason = _reason()


class MergeForm(forms.Form):
    into = forms.CharField(label=_("Merge into case number"), max_length=32)
    note = forms.CharField(label=_("Note"), required=False)


class DepartmentChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj: Department):
        return f"{obj.name}（{obj.get_kind_display()}）"


class DepartmentsChoice(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Department):
        return f"{obj.name}（{obj.get_kind_display()}）"


class DispatchForm(forms.Form):
    lead_department = DepartmentChoice(label=_("Lead department"), queryset=Department.objects.none(),
                                       empty_label=_("Choose the lead department"))
    assisting_departments = DepartmentsChoice(label=_("Assisting departments"), required=False,
                                              queryset=Department.objects.none(),
                                              widget=forms.CheckboxSelectMultiple)
    note = forms.CharField(label=_("Note"), required=False)

    def __init__(self, *args, departments=(), **kwargs):
        super().__init__(*args, **kwargs)
        queryset = Department.objects.filter(pk__in=[d.pk for d in departments])
        self.fields["lead_department"].queryset = queryset
        self.fields["assisting_departments"].queryset = queryset


class SuperviseForm(forms.Form):
    level = forms.TypedChoiceField(label=_("Level"), coerce=int, choices=SupervisionLevel.choices)
    note = _reason(_("Supervision note"))


class ResumeForm(forms.Form):
    note = forms.CharField(label=_("Note"), required=False)


class VerifyForm(forms.Form):
    passed = forms.TypedChoiceField(
        label=_("Verification"), coerce=lambda v: v == "pass", widget=forms.RadioSelect,
        choices=[("pass", _("Passed: close the case")), ("fail", _("Failed: send back for rework"))],
    )
    note = forms.CharField(label=_("Note (required when it failed)"), required=False,
                           widget=forms.Textarea(attrs={"rows": 2}))


class DecisionForm(forms.Form):
    """Approve or refuse one pending extension or suspension request."""

    request = forms.IntegerField(widget=forms.HiddenInput)
    decision = forms.ChoiceField(label=_("Decision"), widget=forms.RadioSelect,
                                 choices=[("approve", _("Approve")), ("refuse", _("Refuse"))])
    reason = forms.CharField(label=_("Note (the reason, when refusing)"), required=False,
                             widget=forms.Textarea(attrs={"rows": 2}))
