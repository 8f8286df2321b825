"""Forms for the lifecycle pages. They only parse input: the rules, and the sentences
that explain a refusal, live in the actions (``osom.lifecycle.actions``), which name the
field each problem is on. So dates, amounts and days arrive here as text and the action
says what is wrong with them."""

from __future__ import annotations

from django import forms
from django.db.models import Q

from osom.core.models import Person
from osom.network.stages import Lifecycle

from .models import AssessmentKind, BudgetAllocation, Criterion, CriterionSource, FundingRequest, Result
from .outcomes import DECOMMISSION_CONDITIONS, outcome_choices, outcome_for
from .queries import SOURCE_ORDER, source_headings

__all__ = [
    "ReportFilterForm", "CriterionForm", "ScheduleForm", "AssessmentEditForm", "CancelForm", "DecisionsForm",
    "PublishReportForm", "AddendumForm", "CadenceForm", "AllocateForm", "SpendForm", "ReinvestForm",
    "FundingRequestForm", "DecideRequestForm", "ASSESSED_STAGE_CHOICES",
]

ASSESSED_STAGE_CHOICES = [(s, label) for s, label in Lifecycle.choices if s != Lifecycle.DECOMMISSIONED]


def _textarea(rows: int = 3) -> forms.Textarea:
    return forms.Textarea(attrs={"rows": rows})


def _date_input() -> forms.TextInput:
    return forms.TextInput(attrs={"type": "date", "autocomplete": "off"})


def _money_input() -> forms.TextInput:
    return forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off", "class": "input--money"})


class _Text(forms.CharField):
    """Text the action checks itself (emptiness included), naming the field."""

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)


class PersonChoices(forms.ModelMultipleChoiceField):
    def label_from_instance(self, person: Person) -> str:
        return f"{person.name} ({person.email})"


def _people():
    return Person.objects.filter(is_active=True).only("pk", "name", "email").order_by("name")


# ---------------------------------------------------------------- lists

class ReportFilterForm(forms.Form):
    service = forms.CharField(label="Service", required=False,
                              widget=forms.TextInput(attrs={"type": "search", "placeholder": "Name of a service"}))
    since = forms.DateField(label="Published from", required=False, widget=_date_input())
    until = forms.DateField(label="Published until", required=False, widget=_date_input())
    result = forms.ChoiceField(label="Result", required=False, choices=[("", "Any result"), *Result.choices])
    stage = forms.ChoiceField(label="Stage assessed", required=False, choices=[("", "Any stage"), *ASSESSED_STAGE_CHOICES])


# ---------------------------------------------------------------- criteria

class CriterionForm(forms.Form):
    """Adding (with its source) or changing (with its revision and whether it is still
    in use) a criterion of the library."""

    name = _Text(label="Name", max_length=300)
    meaning = _Text(label="What it means", widget=_textarea(5),
                    help_text="What an assessor looks for and why. Markdown: **bold**, lists, [links](https://…).")
    link = _Text(label="Link to more", help_text="A page that explains it in full, e.g. the guidance or the mandate.",
                 widget=forms.TextInput(attrs={"inputmode": "url", "spellcheck": "false"}))
    stages = forms.MultipleChoiceField(label="Stages it suits by default", required=False,
                                       choices=ASSESSED_STAGE_CHOICES, widget=forms.CheckboxSelectMultiple,
                                       help_text="It is ticked on new agendas for these stages.")
    source = forms.ChoiceField(label="Where it comes from", required=False, widget=forms.RadioSelect, choices=[
        (CriterionSource.EXECUTIVE, CriterionSource.EXECUTIVE.label),
        (CriterionSource.GUIDANCE, CriterionSource.GUIDANCE.label),
        (CriterionSource.MANDATE, CriterionSource.MANDATE.label),
    ], initial=CriterionSource.EXECUTIVE)
    active = forms.BooleanField(label="In use: it may go on new agendas", required=False, initial=True)
    revision = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, editing: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if editing:
            del self.fields["source"]
        else:
            del self.fields["active"]
            del self.fields["revision"]


# ---------------------------------------------------------------- scheduling

class _AgendaForm(forms.Form):
    scheduled_for = _Text(label="Date of the assessment", widget=_date_input())
    assessors = PersonChoices(queryset=Person.objects.none(), required=False, label="Assessors",
                              widget=forms.SelectMultiple(attrs={"size": 8}),
                              help_text="The executive, members of its team, or a panel. Hold Ctrl (⌘ on a Mac) to choose several.")
    criteria = forms.ModelMultipleChoiceField(queryset=Criterion.objects.none(), required=False, label="Criteria on the agenda",
                                              widget=forms.CheckboxSelectMultiple)
    agenda_note = _Text(label="Note for the agenda", widget=_textarea(3),
                        help_text="What the assessors want to see or discuss; sent to the manager with the agenda.")

    def __init__(self, *args, service, headings: dict | None = None, keep: list[int] | tuple = (), **kwargs):
        """``keep``: criteria already on the agenda, offered even if retired since."""
        super().__init__(*args, **kwargs)
        self.service = service
        self.headings = headings or source_headings()
        self.fields["assessors"].queryset = _people()
        offered = Criterion.objects.filter(Q(active=True) | Q(pk__in=list(keep))).order_by("position", "name")
        self._criteria = list(offered)
        self.fields["criteria"].queryset = offered
        # the checkboxes are drawn from this list, so the page does not read the criteria twice
        self.fields["criteria"].choices = [(c.pk, c.name) for c in self._criteria]

    def suited(self) -> list[int]:
        """The criteria that suit the service's stage: ticked on a new agenda."""
        return [c.pk for c in self._criteria if self.service.lifecycle_stage in c.stages]

    def criteria_groups(self) -> list[dict]:
        """The criteria checkboxes grouped by source, in the library's order."""
        by_pk = {c.pk: c for c in self._criteria}
        groups: dict[str, list] = {s: [] for s in SOURCE_ORDER}
        for widget in self["criteria"]:
            criterion = by_pk.get(int(str(widget.data["value"])))
            if criterion is not None:
                groups.setdefault(criterion.source, []).append((widget, criterion))
        labels = self.headings
        chosen = {str(v) for v in (self["criteria"].value() or [])}
        return [
            {"source": s, "label": labels.get(s, s), "rows": rows,
             "ticked": sum(1 for _, c in rows if str(c.pk) in chosen)}
            for s, rows in groups.items() if rows
        ]


class ScheduleForm(_AgendaForm):
    kind = forms.ChoiceField(label="Kind of assessment", widget=forms.RadioSelect, required=False)

    field_order = ["kind", "scheduled_for", "assessors", "criteria", "agenda_note"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        live = self.service.lifecycle_stage == Lifecycle.LIVE
        kinds = [AssessmentKind.PERIODIC if live else AssessmentKind.TRANSITION, AssessmentKind.REASSESSMENT]
        self.fields["kind"].choices = [(k.value, k.label) for k in kinds]
        self.fields["kind"].initial = kinds[0].value
        if not self.is_bound:
            self.initial.setdefault("criteria", self.suited())


class AssessmentEditForm(_AgendaForm):
    revision = forms.IntegerField(required=False, widget=forms.HiddenInput)


class CancelForm(forms.Form):
    reason = _Text(label="Why it is cancelled", widget=_textarea(2))


# ---------------------------------------------------------------- decisions and the report

class DecisionsForm(forms.Form):
    """Per criterion on the agenda: Met or Not met, what the team did well, what it
    needs to improve; then the overall result, the outcome and a summary."""

    result = forms.ChoiceField(label="Overall result", required=False, widget=forms.RadioSelect, choices=Result.choices)
    outcome = forms.ChoiceField(label="Outcome", required=False)
    summary = _Text(label="Summary of the assessment", widget=_textarea(4),
                    help_text="What the assessors concluded, for everyone who reads the report. Markdown.")
    revision = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, assessment, items, **kwargs):
        super().__init__(*args, **kwargs)
        self.assessment = assessment
        self.items = list(items)
        chosen = outcome_for(assessment.stage, assessment.outcome) if assessment.outcome else None
        self.fields["outcome"].choices = [("", "Not chosen yet"), *outcome_choices(assessment.stage)]
        self.fields["outcome"].help_text = "Progressing to the next stage needs a Met result."
        for item in self.items:
            name = item.criterion.name
            self.fields[f"c{item.criterion_id}_decision"] = forms.ChoiceField(
                label=f"Decision on {name}", required=False, widget=forms.RadioSelect, choices=Result.choices,
                initial=item.decision or None)
            self.fields[f"c{item.criterion_id}_did_well"] = _Text(
                label="What the team did well", widget=_textarea(2), initial=item.did_well)
            self.fields[f"c{item.criterion_id}_to_improve"] = _Text(
                label="What the team needs to improve", widget=_textarea(2), initial=item.to_improve)
        if not self.is_bound:
            self.initial.update(result=assessment.result or None, outcome=chosen.key if chosen else "",
                                summary=assessment.summary, revision=assessment.revision)

    def rows(self) -> list[dict]:
        return [
            {"item": item, "criterion": item.criterion,
             "decision": self[f"c{item.criterion_id}_decision"],
             "did_well": self[f"c{item.criterion_id}_did_well"],
             "to_improve": self[f"c{item.criterion_id}_to_improve"]}
            for item in self.items
        ]

    def decisions(self) -> dict[int, dict]:
        data = self.cleaned_data
        return {
            item.criterion_id: {
                "decision": data.get(f"c{item.criterion_id}_decision") or "",
                "did_well": data.get(f"c{item.criterion_id}_did_well") or "",
                "to_improve": data.get(f"c{item.criterion_id}_to_improve") or "",
            }
            for item in self.items
        }

    @staticmethod
    def field_for(path: str) -> str:
        """``decisions[12].decision`` (the action's name for a problem) → ``c12_decision``."""
        if path.startswith("decisions[") and "]." in path:
            ref, _, part = path[len("decisions["):].partition("].")
            return f"c{ref}_{part}"
        return path


class PublishReportForm(forms.Form):
    """What publishing needs besides the decisions: the next stage's budget when the
    outcome allocates one, and the reasons and migration path when it decommissions."""

    budget_amount = _Text(label="Amount", widget=_money_input())
    budget_period = _Text(label="Period", help_text="e.g. 2026-27")
    decommission_condition = forms.ChoiceField(
        label="Which condition for decommissioning is met", required=False, widget=forms.RadioSelect,
        choices=[(k, f"({k}) {text}") for k, text in DECOMMISSION_CONDITIONS.items()])
    decommission_reasons = _Text(label="Why the service is decommissioned", widget=_textarea(3),
                                 help_text="Kept in the contract, so the organisation keeps the lesson.")
    migration_path = _Text(label="How its consumers migrate away", widget=_textarea(3))
    revision = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, assessment, **kwargs):
        super().__init__(*args, **kwargs)
        self.chosen = outcome_for(assessment.stage, assessment.outcome) if assessment.outcome else None
        if not (self.chosen and self.chosen.budget_for):
            del self.fields["budget_amount"], self.fields["budget_period"]
        else:
            stage = dict(Lifecycle.choices)[self.chosen.budget_for].lower()
            self.fields["budget_amount"].label = f"Budget for {stage}"
            self.fields["budget_period"].label = f"Period of the {stage} budget"
        if not (self.chosen and self.chosen.decommissions):
            del self.fields["decommission_condition"], self.fields["decommission_reasons"], self.fields["migration_path"]
        if not self.is_bound:
            self.initial["revision"] = assessment.revision

    @property
    def allocates(self) -> bool:
        return "budget_amount" in self.fields

    @property
    def decommissions(self) -> bool:
        return "decommission_reasons" in self.fields

    def action_kwargs(self) -> dict:
        data = self.cleaned_data
        return {
            "budget_amount": data.get("budget_amount"), "budget_period": data.get("budget_period", ""),
            "decommission_condition": data.get("decommission_condition", ""),
            "decommission_reasons": data.get("decommission_reasons", ""),
            "migration_path": data.get("migration_path", ""),
            "expected_revision": data.get("revision"),
        }


class AddendumForm(forms.Form):
    text = _Text(label="Addendum", widget=_textarea(3),
                 help_text="A correction or a later note. The report itself never changes. Markdown.")


# ---------------------------------------------------------------- cadence and budgets

class CadenceForm(forms.Form):
    days = _Text(label="Days between live assessments", max_length=10,
                 widget=forms.TextInput(attrs={"inputmode": "numeric", "class": "input--short"}))


class AllocateForm(forms.Form):
    period = _Text(label="Period", max_length=60, help_text="e.g. 2026-27")
    amount = _Text(label="Amount", widget=_money_input())
    stage = forms.ChoiceField(label="For the stage", choices=ASSESSED_STAGE_CHOICES)
    note = _Text(label="Note", widget=_textarea(2))


class _AllocationChoice(forms.ModelChoiceField):
    def label_from_instance(self, allocation) -> str:
        return f"{allocation.period}, {allocation.get_stage_display().lower()}"


class _AgainstAllocation(forms.Form):
    allocation = _AllocationChoice(queryset=None, label="Against the allocation", empty_label=None,
                                   error_messages={"required": "Choose the allocation the money comes from.",
                                                   "invalid_choice": "Choose one of this service's allocations."})

    def __init__(self, *args, service, allocations: list, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["allocation"]
        field.queryset = BudgetAllocation.objects.filter(service=service)
        # drawn from the rows the page already read, so the select costs no query of its own
        field.choices = [(a.pk, field.label_from_instance(a)) for a in allocations]


class SpendForm(_AgainstAllocation):
    amount = _Text(label="Amount", widget=_money_input())
    spent_on = _Text(label="Spent on (date)", widget=_date_input())
    description = _Text(label="What it was spent on", max_length=400)


class ReinvestForm(_AgainstAllocation):
    amount = _Text(label="Amount of savings re-invested", widget=_money_input())
    purpose = _Text(label="Re-invested in", max_length=300)


class FundingRequestForm(forms.Form):
    kind = forms.ChoiceField(label="What you ask for", widget=forms.RadioSelect, choices=FundingRequest.Kind.choices,
                             initial=FundingRequest.Kind.EXPAND, required=False)
    period = _Text(label="Period", max_length=60, help_text="e.g. 2026-27")
    amount = _Text(label="Extra amount needed", widget=_money_input(),
                   help_text="Needed to expand the budget; leave it empty to narrow the scope.")
    rationale = _Text(label="Why the contract cannot be met on the budget", widget=_textarea(4))


class DecideRequestForm(forms.Form):
    decision = forms.ChoiceField(label="Decision", widget=forms.RadioSelect,
                                 choices=[("grant", "Grant"), ("decline", "Decline")],
                                 error_messages={"required": "Choose to grant or to decline the request."})
    amount = _Text(label="Amount to allocate", widget=_money_input(),
                   help_text="Granting an expansion allocates the amount asked unless you give another.")
    note = _Text(label="Why", widget=_textarea(2))
