"""Forms for demand management (model 5.8), the adaptation register (model 10) and the
acts the executive keeps to itself. They only parse input; the rules live in the actions."""

from __future__ import annotations

import re

from django import forms
from django.forms import formset_factory

from osom.core.models import Person
from osom.core.policy import ACTS, ALWAYS_RESERVED
from osom.network.models import Service
from osom.network.stages import Evolution, Lifecycle, UserType

from .actions import RESERVABLE

__all__ = [
    "DeclineForm",
    "DeviationForm",
    "EstablishForm",
    "FoldForm",
    "ProposalForm",
    "ProposedNeedFormSet",
    "ReservedActsForm",
    "RetireForm",
    "need_rows",
    "reservable_groups",
]


def _textarea(rows: int = 3) -> forms.Textarea:
    return forms.Textarea(attrs={"rows": rows})


class ProposalForm(forms.Form):
    title = forms.CharField(label="What is it about?", max_length=200, required=False,
                            help_text="A short title, e.g. “Report a broken streetlight online”.")
    context = forms.CharField(label="Context", required=False, widget=_textarea(4),
                              help_text="Who asked for it, what happens today, how many people it affects. Markdown is allowed.")


class ProposedNeedForm(forms.Form):
    # Blank fields are allowed here so that the action, which owns the rules, says what is
    # missing on the row it belongs to (“needs[1].so_that”), with its own words.
    as_a = forms.CharField(label="As a", max_length=300, required=False,
                           widget=forms.TextInput(attrs={"placeholder": "resident, business, school…"}))
    i_need = forms.CharField(label="I need", required=False, widget=_textarea(2))
    so_that = forms.CharField(label="so that", required=False, widget=_textarea(2))

    def is_blank(self) -> bool:
        data = getattr(self, "cleaned_data", None) or {}
        return not any((data.get(k) or "").strip() for k in ("as_a", "i_need", "so_that"))


ProposedNeedFormSet = formset_factory(ProposedNeedForm, extra=0, can_delete=True)


def need_rows(formset) -> list[tuple[forms.Form, dict]]:
    """The rows a person filled in (not removed, not left wholly blank), each with its form,
    in order: the index in this list is the index the action's errors use."""
    rows = []
    for f in formset.forms:
        if not f.is_valid() or f.cleaned_data.get("DELETE") or f.is_blank():
            continue
        rows.append((f, {k: f.cleaned_data.get(k, "") for k in ("as_a", "i_need", "so_that")}))
    return rows


class _ServiceChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.name} ({obj.get_lifecycle_stage_display().lower()})"


class FoldForm(forms.Form):
    service = _ServiceChoiceField(queryset=Service.objects.none(), label="The existing service whose scope fits",
                                  empty_label=None)
    note = forms.CharField(label="Note for its manager", required=False, widget=_textarea(2),
                           help_text="Why the needs fit its scope. Its manager refines the draft and submits it for approval.")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["service"].queryset = (Service.objects.exclude(lifecycle_stage=Lifecycle.DECOMMISSIONED)
                                           .only("pk", "name", "lifecycle_stage").order_by("name"))


class DeclineForm(forms.Form):
    reason = forms.CharField(label="Why the organisation will not meet these needs", widget=_textarea(3), required=False)


class _PersonChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.name} ({obj.email})"


class EstablishForm(forms.Form):
    """A new service in discovery for the proposal's needs: the headline of its contract.
    The needs come from the proposal; metrics are defined in discovery."""

    name = forms.CharField(label="Name of the service", max_length=150, required=False,
                           help_text="Name it after what it does for its users.")
    user_type = forms.ChoiceField(label="Who are its users?", choices=UserType.choices, widget=forms.RadioSelect,
                                  required=False)
    evolution_stage = forms.ChoiceField(label="Evolution stage", choices=Evolution.choices, initial=Evolution.GENESIS,
                                        required=False)
    purpose = forms.CharField(label="What the service is", widget=_textarea(3), required=False,
                              help_text="The first sentence is shown in the network list. Markdown is allowed.")
    manager = _PersonChoiceField(queryset=Person.objects.none(), required=False, empty_label="Appoint later")

    def __init__(self, *args, manager_label: str = "Service manager", **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["manager"].queryset = Person.objects.filter(is_active=True).only("pk", "name", "email").order_by("name")
        self.fields["manager"].label = f"{manager_label}: who is accountable for it?"


class DeviationForm(forms.Form):
    title = forms.CharField(label="The deviation", max_length=200, required=False,
                            help_text="A short name, e.g. “Finance approves budgets above £50,000”.")
    compromised = forms.CharField(label="What part of the template is compromised", widget=_textarea(3), required=False)
    positive = forms.CharField(label="Positive consequences", widget=_textarea(3), required=False)
    negative = forms.CharField(label="Negative consequences", widget=_textarea(3), required=False)
    governance = forms.CharField(label="The governance that balances the negative consequences", widget=_textarea(3),
                                 required=False)
    review_on = forms.DateField(label="Review it on", widget=forms.DateInput(attrs={"type": "date"}), required=False,
                                help_text="When to look again at whether the compromise is still worth its cost.")
    revision = forms.IntegerField(required=False, widget=forms.HiddenInput)


class RetireForm(forms.Form):
    reason = forms.CharField(label="Why it no longer applies", widget=_textarea(2), required=False)


def act_label(act: str) -> str:
    """The policy's words for an act, out of the context of one object: “Edit this
    contract draft” becomes “Edit a contract draft”."""
    says = ACTS[act].says
    says = re.sub(r"\bthis (?=[aeiouAEIOU])", "an ", says)
    says = re.sub(r"\bthis\b", "a", says)
    return says[:1].upper() + says[1:]


def reservable_groups() -> list[tuple[str, list[tuple[str, str]]]]:
    """The acts the executive may keep to itself, grouped as the policy table lists them,
    each with the words the policy uses for it."""
    heads = {"establish_service": "The service network", "manage_criteria": "Assessments and lifecycle",
             "allocate_budget": "Budgets", "draft_mandate": "Governance", "edit_terminology": "The organisation"}
    groups: list[tuple[str, list[tuple[str, str]]]] = []
    choosable = set(RESERVABLE) - ALWAYS_RESERVED
    for act, rule in ACTS.items():  # the table's own order: by area
        if act in heads or not groups:
            groups.append((heads.get(act, "Acts"), []))
        if act in choosable:
            groups[-1][1].append((act, act_label(act)))
    return [(head, acts) for head, acts in groups if acts]


class ReservedActsForm(forms.Form):
    acts = forms.MultipleChoiceField(label="Acts the executive keeps to itself", required=False,
                                     widget=forms.CheckboxSelectMultiple)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["acts"].choices = [choice for _, acts in reservable_groups() for choice in acts]
