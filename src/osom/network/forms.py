"""Forms for the network pages. They only parse input; the rules live in the actions."""

from __future__ import annotations

from django import forms
from django.forms import formset_factory
from django.urls import reverse_lazy

from osom.core.models import Person
from osom.core.numbers import plain_number

from .contract import DESCRIPTION_LABELS
from .models import ProfessionalRole, Service
from .stages import LEVELS, Direction, Evolution, Lifecycle, MetricKind, UserType

__all__ = [
    "NetworkFilterForm",
    "NameForm",
    "UsersForm",
    "NeedFormSet",
    "MetricFormSet",
    "WizardMetricFormSet",
    "DescriptionForm",
    "DependencyFormSet",
    "EvolutionForm",
    "ManagerForm",
    "ContractForm",
    "AlterationForm",
    "AppointForm",
    "TeamMemberForm",
    "DependencyForm",
    "ReasonForm",
    "DecommissionFlagForm",
    "ClearFlagForm",
    "content_from_forms",
]

EVOLUTION_HINTS = {
    "genesis": "Novel: nobody has done this before; rare, often facing customers.",
    "custom": "Custom-built: bespoke to us, understood but still changing.",
    "product": "Product (+rental): available from several suppliers, increasingly standard.",
    "commodity": "Commodity (+utility): standard, interchangeable, bought by volume.",
}


def _textarea(rows: int = 3) -> forms.Textarea:
    return forms.Textarea(attrs={"rows": rows})


def _service_name_input() -> forms.TextInput:
    """A text input that suggests service names as the person types (a datalist filled by htmx)."""
    return forms.TextInput(attrs={
        "list": "service-names", "autocomplete": "off", "hx-get": reverse_lazy("network:lookup"),
        "hx-trigger": "input changed delay:200ms", "hx-target": "#service-names",
    })


class NetworkFilterForm(forms.Form):
    q = forms.CharField(label="Search", required=False, widget=forms.TextInput(attrs={"type": "search", "placeholder": "Name or description"}))
    stage = forms.ChoiceField(label="Lifecycle stage", required=False, choices=[("", "Any stage"), *Lifecycle.choices])
    evolution = forms.ChoiceField(label="Evolution", required=False, choices=[("", "Any evolution"), *Evolution.choices])
    users = forms.ChoiceField(
        label="Users", required=False,
        choices=[("", "Any users"), ("external", "Serves external users"), ("internal", "Serves internal users"), ("both", "Serves both")],
    )
    manager = forms.ChoiceField(label="Manager", required=False)
    flagged = forms.BooleanField(label="Flagged for decommissioning", required=False)

    def __init__(self, *args, managers=(), manager_label="Manager", **kwargs):
        """``managers`` fill a list to choose from; None when there are too many to list,
        and the manager is then named by email address instead."""
        super().__init__(*args, **kwargs)
        if managers is None:
            self.fields["manager"] = forms.CharField(
                label=manager_label, required=False, max_length=254,
                help_text="Their email address, or “none” for services without one.",
                widget=forms.TextInput(attrs={"type": "search", "autocomplete": "off"}))
            return
        self.fields["manager"].label = manager_label
        self.fields["manager"].choices = [("", "Anyone"), ("none", "No manager"), *[(str(p.pk), p.name) for p in managers]]


class NameForm(forms.Form):
    name = forms.CharField(label="Name of the service", max_length=150,
                           help_text="Name it after what it does for its users, e.g. “Apply for a parking permit”.")


class UsersForm(forms.Form):
    user_type = forms.ChoiceField(label="Who are its users?", choices=UserType.choices, widget=forms.RadioSelect)


class NeedForm(forms.Form):
    as_a = forms.CharField(label="As a", max_length=300)
    i_need = forms.CharField(label="I need", widget=_textarea(2))
    so_that = forms.CharField(label="So that", widget=_textarea(2))
    metrics = forms.CharField(label="Measured by", required=False)
    key = forms.CharField(required=False, widget=forms.HiddenInput)


class WizardNeedForm(NeedForm):
    metrics = None  # metrics are defined in the next step of the wizard
    key = None


class MetricForm(forms.Form):
    name = forms.CharField(label="Metric", max_length=200)
    unit = forms.CharField(label="Unit", max_length=40, help_text="%, ms, £, count…")
    direction = forms.ChoiceField(label="Direction", choices=Direction.choices)
    target = forms.DecimalField(label="Target", required=False, max_digits=18, decimal_places=4)
    kind = forms.ChoiceField(label="Kind", choices=MetricKind.choices)
    how_measured = forms.CharField(label="How it is measured", required=False, widget=_textarea(2))
    is_proxy = forms.BooleanField(label="Proxy agreed with the executive", required=False)
    key = forms.CharField(required=False, widget=forms.HiddenInput)


class WizardMetricForm(MetricForm):
    needs = forms.MultipleChoiceField(label="Shows the outcome of", required=False, widget=forms.CheckboxSelectMultiple)

    def __init__(self, *args, need_choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["needs"].choices = list(need_choices)


class DependencyRowForm(forms.Form):
    provider = forms.CharField(label="Service consumed", max_length=150, widget=_service_name_input())
    note = forms.CharField(label="What for", max_length=300, required=False)


NeedFormSet = formset_factory(NeedForm, extra=0, can_delete=True)
WizardNeedFormSet = formset_factory(WizardNeedForm, extra=0, can_delete=True)
MetricFormSet = formset_factory(MetricForm, extra=0, can_delete=True)
WizardMetricFormSet = formset_factory(WizardMetricForm, extra=0, can_delete=True)
DependencyFormSet = formset_factory(DependencyRowForm, extra=0, can_delete=True)


class DescriptionForm(forms.Form):
    purpose = forms.CharField(label=DESCRIPTION_LABELS["purpose"], widget=_textarea(4),
                              help_text="The first sentence is shown in the network list. Markdown is allowed.")
    benefit = forms.CharField(label=DESCRIPTION_LABELS["benefit"], widget=_textarea(), required=False)
    usage = forms.CharField(label=DESCRIPTION_LABELS["usage"], widget=_textarea(), required=False)
    onboarding = forms.CharField(label=DESCRIPTION_LABELS["onboarding"], widget=_textarea(), required=False)
    expectations = forms.CharField(label=DESCRIPTION_LABELS["expectations"], widget=_textarea(), required=False)
    support = forms.CharField(label=DESCRIPTION_LABELS["support"], widget=_textarea(), required=False)


class EvolutionForm(forms.Form):
    evolution_stage = forms.ChoiceField(
        label="How evolved is the service as a whole?",
        choices=[(value, f"{label} — {EVOLUTION_HINTS[value]}") for value, label in Evolution.choices],
        widget=forms.RadioSelect,
    )


class PersonChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.name} ({obj.email})"


def _people():
    return Person.objects.filter(is_active=True).order_by("name")


class ManagerForm(forms.Form):
    manager = PersonChoiceField(queryset=_people(), required=False, empty_label="Appoint later",
                                label="Who will manage it?")

    def __init__(self, *args, manager_label="Service manager", **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["manager"].label = f"{manager_label}: who is accountable for it?"
        self.fields["manager"].queryset = _people()


class ContractForm(forms.Form):
    """The single-page editor's headline fields; needs, metrics and dependencies are formsets."""

    name = forms.CharField(label="Name of the service", max_length=150)
    user_type = forms.ChoiceField(label="Users", choices=UserType.choices)
    evolution_stage = forms.ChoiceField(label="Evolution stage", choices=Evolution.choices)
    purpose = DescriptionForm.base_fields["purpose"]
    benefit = DescriptionForm.base_fields["benefit"]
    usage = DescriptionForm.base_fields["usage"]
    onboarding = DescriptionForm.base_fields["onboarding"]
    expectations = DescriptionForm.base_fields["expectations"]
    support = DescriptionForm.base_fields["support"]
    migration_path = forms.CharField(label=DESCRIPTION_LABELS["migration_path"], widget=_textarea(), required=False)
    change_note = forms.CharField(label="What changed and why", widget=_textarea(2), required=False)
    revision = forms.IntegerField(widget=forms.HiddenInput)


class AlterationForm(ContractForm):
    reason = forms.CharField(label="Why the contract is being altered", widget=_textarea(2), required=False)
    risk = forms.CharField(label="The risk this alteration carries", widget=_textarea(2), required=False)
    change_note = None
    revision = None


class AppointForm(forms.Form):
    person = PersonChoiceField(queryset=_people(), label="Person")
    reason = forms.CharField(label="Reason", widget=_textarea(2), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["person"].queryset = _people()


class TeamMemberForm(forms.Form):
    person = PersonChoiceField(queryset=_people(), label="Person")
    role = forms.ModelChoiceField(queryset=ProfessionalRole.objects.all(), label="Role in the professional framework")
    level = forms.ChoiceField(choices=LEVELS, label="Level")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["person"].queryset = _people()
        self.fields["role"].queryset = ProfessionalRole.objects.order_by("job_family", "name")


class DependencyForm(forms.Form):
    provider = forms.CharField(label="Service consumed", max_length=150, widget=_service_name_input())
    note = forms.CharField(label="What for", max_length=300, required=False)


class ReasonForm(forms.Form):
    reason = forms.CharField(label="Reason", widget=_textarea(3), required=False)


class DecommissionFlagForm(forms.Form):
    # not required here: the action says what is missing, as it does for the API
    reason = forms.CharField(
        label="Why should it be considered for decommissioning?", widget=_textarea(4), required=False,
        help_text="For example: the needs it met are now met elsewhere, or nobody consumes it any more. "
                  "The flag decommissions nothing: it asks for an assessment.")


class ClearFlagForm(forms.Form):
    reason = forms.CharField(label="Why is the service kept?", widget=_textarea(4), required=False,
                             help_text="Kept in the audit log, with who flagged it, when and why.")


def _rows(formset) -> list[dict]:
    return [f.cleaned_data for f in formset.forms if f.cleaned_data and not f.cleaned_data.get("DELETE")]


def content_from_forms(form: forms.Form, needs, metrics, deps) -> dict:
    """Turn the editor's validated forms into contract content for the actions."""
    data = {k: form.cleaned_data.get(k, "") for k in ("name", "user_type", "evolution_stage", *DESCRIPTION_LABELS)}
    data["metrics"] = [
        {k: row.get(k) for k in ("key", "name", "unit", "direction", "target", "kind", "how_measured", "is_proxy")}
        for row in _rows(metrics)
    ]
    data["needs"] = [
        {"key": row.get("key", ""), "as_a": row["as_a"], "i_need": row["i_need"], "so_that": row["so_that"],
         "metrics": [m.strip() for m in (row.get("metrics") or "").split(",") if m.strip()]}
        for row in _rows(needs)
    ]
    data["dependencies"] = [{"provider": row["provider"], "note": row.get("note", "")} for row in _rows(deps)]
    return data


def initial_from_content(content: dict) -> dict:
    """Initial data for the editor's forms from a version's content."""
    names = {m["key"]: m["name"] for m in content["metrics"]}
    slugs = [d["provider"] for d in content["dependencies"]]
    provider_names = dict(Service.objects.filter(slug__in=slugs).values_list("slug", "name"))
    return {
        "form": {k: v for k, v in content.items() if not isinstance(v, list)},
        "needs": [
            {"key": n["key"], "as_a": n["as_a"], "i_need": n["i_need"], "so_that": n["so_that"],
             "metrics": ", ".join(names.get(k, k) for k in n["metrics"])}
            for n in content["needs"]
        ],
        "metrics": [dict(m, target=plain_number(m["target"]) if m["target"] is not None else None) for m in content["metrics"]],
        "deps": [{"provider": provider_names.get(d["provider"], d["provider"]), "note": d["note"]}
                 for d in content["dependencies"]],
    }
