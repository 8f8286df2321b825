"""Forms for the governance pages: mandates, guidance, disputes. They only parse input:
the rules, and the sentences that explain a refusal, live in ``osom.governance.actions``,
which names the field each problem is on. So text the action checks (titles, dates,
rationales) arrives here as optional text and the action says what is missing."""

from __future__ import annotations

from django import forms

from osom.network.models import ContractVersion, Service
from osom.network.stages import Evolution, Lifecycle

from .models import Dispute, Guidance, GuidanceDecision, Mandate, MandateTarget

__all__ = [
    "MandateFilterForm", "MandateForm", "AcknowledgeForm", "ProgressForm", "CloseMandateForm",
    "GuidanceFilterForm", "GuidanceForm", "WithdrawGuidanceForm", "DecisionForm",
    "DisputeFilterForm", "ServicesDisputeForm", "EvaluationDisputeForm", "ResolveForm", "WithdrawDisputeForm",
    "FILTER_FIELDS", "USERS_CHOICES",
]

# The mandate form's fields that make up a saved filter (actions.SCOPE_FILTERS).
FILTER_FIELDS = ("stage", "evolution", "users", "q", "consumes")

USERS_CHOICES = [("", "Any users"), ("external", "Serves external users"), ("internal", "Serves internal users"),
                 ("both", "Serves both")]


def _textarea(rows: int = 3) -> forms.Textarea:
    return forms.Textarea(attrs={"rows": rows})


class _Text(forms.CharField):
    """Text the action checks itself (emptiness included), naming the field."""

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)


def _running_services():
    return Service.objects.exclude(lifecycle_stage=Lifecycle.DECOMMISSIONED).only("pk", "name", "slug").order_by("name")


class _ServiceChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return obj.name


class _ServicesChoice(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj):
        return obj.name


def _with_blank(choices, blank: str):
    return [("", blank), *choices]


# ---------------------------------------------------------------- mandates

class MandateFilterForm(forms.Form):
    status = forms.ChoiceField(label="Status", required=False, choices=_with_blank(Mandate.Status.choices, "Any status"))


class MandateForm(forms.Form):
    """A mandate: what must change, by when, for which services — a list, or a saved
    filter resolved into services when it is issued."""

    title = _Text(label="Title", max_length=200, help_text="What the mandate asks, in a few words.")
    instruction = _Text(label="What must change", widget=_textarea(7),
                        help_text="Say what the managers must change and why. Markdown is allowed.")
    due_date = _Text(label="Due date", widget=forms.TextInput(attrs={"type": "date", "autocomplete": "off"}))
    scope = forms.ChoiceField(
        label="Which services it applies to", widget=forms.RadioSelect, initial="list",
        choices=[("list", "The services I choose from a list"),
                 ("filter", "Every service a filter chooses when the mandate is issued")],
    )
    services = _ServicesChoice(label="Services", required=False, queryset=Service.objects.none(),
                               widget=forms.SelectMultiple(attrs={"size": 10}),
                               help_text="Hold Ctrl (or ⌘) to choose several.")
    stage = forms.ChoiceField(label="Lifecycle stage", required=False,
                              choices=_with_blank([c for c in Lifecycle.choices if c[0] != Lifecycle.DECOMMISSIONED],
                                                  "Any stage"))
    evolution = forms.ChoiceField(label="Evolution", required=False, choices=_with_blank(Evolution.choices, "Any evolution"))
    users = forms.ChoiceField(label="Users", required=False, choices=USERS_CHOICES)
    q = forms.CharField(label="Name or description contains", required=False, max_length=100,
                        widget=forms.TextInput(attrs={"type": "search"}))
    consumes = forms.ChoiceField(label="Consumes", required=False)
    revision = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        running = list(_running_services())  # one query for both lists
        self.fields["services"].queryset = _running_services()
        self.fields["services"].choices = [(s.pk, s.name) for s in running]
        self.fields["consumes"].choices = [("", "Any service or none"), *[(s.slug, s.name) for s in running]]

    def scope_filter(self) -> dict:
        data = self.cleaned_data
        return {k: data.get(k) for k in FILTER_FIELDS if data.get(k)}

    def action_kwargs(self) -> dict:
        """What the action is given: the list, or the filter — whichever was chosen."""
        data = self.cleaned_data
        by_filter = data.get("scope") == "filter"
        return {
            "title": data.get("title", ""), "instruction": data.get("instruction", ""), "due_date": data.get("due_date", ""),
            "services": [] if by_filter else list(data.get("services") or []),
            "scope_filter": self.scope_filter() if by_filter else None,
            "expected_revision": data.get("revision"),
        }

    @classmethod
    def initial_for(cls, mandate: Mandate) -> dict:
        scope = mandate.scope_filter or {}
        return {
            "title": mandate.title, "instruction": mandate.instruction, "due_date": mandate.due_date.isoformat(),
            "scope": "filter" if scope else "list", "services": [t.service_id for t in mandate.targets.all()],
            "revision": mandate.revision, **{k: scope.get(k, "") for k in FILTER_FIELDS},
        }


class AcknowledgeForm(forms.Form):
    note = forms.CharField(label="Note", required=False, widget=_textarea(2),
                           help_text="Optional: how and when you plan to do it.")


class ProgressForm(forms.Form):
    note = _Text(label="Progress so far", widget=_textarea(2))
    done = forms.BooleanField(label="The service has done what the mandate asks", required=False)

    def __init__(self, *args, target: MandateTarget | None = None, **kwargs):
        if target is not None:
            kwargs.setdefault("prefix", f"t{target.pk}")
            kwargs.setdefault("initial", {"note": target.progress_note})
        super().__init__(*args, **kwargs)


class CloseMandateForm(forms.Form):
    note = forms.CharField(label="Closing note", required=False, widget=_textarea(2),
                           help_text="Optional: why it is closed now, and what happens to the services not done.")


# ---------------------------------------------------------------- guidance

class GuidanceFilterForm(forms.Form):
    category = forms.ChoiceField(label="Category", required=False, choices=_with_blank(Guidance.Category.choices, "Any category"))
    status = forms.ChoiceField(label="Status", required=False, choices=_with_blank(Guidance.Status.choices, "Any status"))
    source = forms.ChoiceField(label="Source", required=False, choices=_with_blank(Guidance.Source.choices, "Any source"))


class GuidanceForm(forms.Form):
    title = _Text(label="Title", max_length=200)
    body = _Text(label="The guidance", widget=_textarea(10),
                 help_text="What to do, when it applies and why. Markdown is allowed.")
    category = forms.ChoiceField(label="Category", required=False, choices=_with_blank(Guidance.Category.choices, "Choose a category"))
    source = forms.ChoiceField(label="Where it comes from", required=False,
                               choices=_with_blank(Guidance.Source.choices, "Choose a source"))
    source_detail = _Text(label="The law, the practice or the CoE it comes from", max_length=300)
    revision = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def action_kwargs(self) -> dict:
        data = self.cleaned_data
        return {k: data.get(k) or "" for k in ("title", "body", "category", "source", "source_detail")} | {
            "expected_revision": data.get("revision")}

    @classmethod
    def initial_for(cls, guidance: Guidance) -> dict:
        return {k: getattr(guidance, k) for k in ("title", "body", "category", "source", "source_detail", "revision")}


class WithdrawGuidanceForm(forms.Form):
    reason = _Text(label="Why it is withdrawn", widget=_textarea(2))


class DecisionForm(forms.Form):
    """A manager's decision on a piece of guidance for one of their services."""

    decision = forms.ChoiceField(label="Decision", required=False, widget=forms.RadioSelect,
                                 choices=[(GuidanceDecision.Decision.ADOPT, "Adopt it"),
                                          (GuidanceDecision.Decision.REJECT, "Reject it: it does not fit this service")])
    rationale = _Text(label="Why", widget=_textarea(3),
                      help_text="Required to reject: the service accounts for it at its next assessment.")

    def __init__(self, *args, service: Service, decided: GuidanceDecision | None = None, **kwargs):
        kwargs.setdefault("prefix", f"s{service.pk}")
        if decided is not None:
            kwargs.setdefault("initial", {"decision": decided.decision, "rationale": decided.rationale})
        super().__init__(*args, **kwargs)
        self.service = service
        self.decided = decided


# ---------------------------------------------------------------- disputes

class DisputeFilterForm(forms.Form):
    status = forms.ChoiceField(label="Status", required=False, choices=_with_blank(Dispute.Status.choices, "Any status"))
    kind = forms.ChoiceField(label="Kind", required=False, choices=_with_blank(Dispute.Kind.choices, "Any kind"))


class ServicesDisputeForm(forms.Form):
    other_service = _ServiceChoice(label="The other service", required=False, queryset=Service.objects.none(),
                                   empty_label="Choose the service")
    subject = _Text(label="Subject", max_length=200)
    description = _Text(label="What the dispute is about", widget=_textarea(6),
                        help_text="What happened, what it costs your users, and what you have tried.")

    def __init__(self, *args, service: Service, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["other_service"].queryset = _running_services().exclude(pk=service.pk)


class EvaluationDisputeForm(forms.Form):
    subject = _Text(label="Subject", max_length=200)
    description = _Text(label="What you dispute about your evaluation", widget=_textarea(6),
                        help_text="Who evaluated you, when, and what your community of practice says about it.")


class _MandateChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.title} (due {obj.due_date:%d %b %Y})"


class _VersionChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.service.name}: version {obj.number}, altered {obj.approved_at or obj.created_at:%d %b %Y}"


class _AssessmentChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.service.name}: {obj.get_kind_display().lower()} on {obj.scheduled_for:%d %b %Y} ({obj.get_status_display().lower()})"


class ResolveForm(forms.Form):
    resolution = _Text(label="How the dispute is resolved", widget=_textarea(4))
    lever = forms.ChoiceField(label="The lever used", required=False, widget=forms.RadioSelect, choices=Dispute.Lever.choices)
    mandate = _MandateChoice(label="The mandate", required=False, queryset=Mandate.objects.none(), empty_label="None")
    contract_version = _VersionChoice(label="The contract alteration", required=False, queryset=None, empty_label="None")
    assessment = _AssessmentChoice(label="The assessment", required=False, queryset=None, empty_label="None")

    def __init__(self, *args, mandates, versions, assessments, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["mandate"].queryset = mandates
        self.fields["contract_version"].queryset = versions
        self.fields["assessment"].queryset = assessments

    @classmethod
    def for_dispute(cls, dispute: Dispute, data=None) -> ResolveForm:
        """The levers the executive may link: issued mandates (those applying to the
        disputing services, when there are services), their alterations, their assessments."""
        from osom.lifecycle.models import Assessment, AssessmentStatus

        services = [pk for pk in (dispute.service_id, dispute.other_service_id) if pk]
        mandates = Mandate.objects.filter(status=Mandate.Status.ISSUED).order_by("-issued_at")
        if services:
            mandates = mandates.filter(pk__in=MandateTarget.objects.filter(service_id__in=services).values("mandate_id"))
        versions = (ContractVersion.objects.filter(service_id__in=services, is_alteration=True)
                    .select_related("service").order_by("-approved_at", "-pk"))
        assessments = (Assessment.objects.filter(service_id__in=services).exclude(status=AssessmentStatus.CANCELLED)
                       .select_related("service").order_by("-scheduled_for", "-pk"))
        return cls(data, mandates=mandates, versions=versions, assessments=assessments)

    def action_kwargs(self) -> dict:
        data = self.cleaned_data
        return {k: data.get(k) or None for k in ("mandate", "contract_version", "assessment")} | {
            "resolution": data.get("resolution", ""), "lever": data.get("lever", "")}


class WithdrawDisputeForm(forms.Form):
    note = forms.CharField(label="Note", required=False, widget=_textarea(2), help_text="Optional: why you withdraw it.")
