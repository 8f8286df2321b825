"""Forms for the fitness and capital flow pages. They only parse input: the rules, and the
sentences that explain a refusal, live in :mod:`osom.fitness.actions`, which names the
field each problem is on, so what the action checks arrives here as optional text."""

from __future__ import annotations

from django import forms

from osom.network.stages import Lifecycle

from .models import Aggregation
from .standard import STANDARD_MEASURES

__all__ = [
    "MeasurementForm", "UploadForm", "CadenceForm", "StandardMeasureForm", "TokenForm", "OverviewFilterForm",
    "AggregationForm", "PeriodForm", "SharesForm", "TransactionsForm", "STATUS_CHOICES", "share_field",
]


class _Text(forms.CharField):
    """Text the action checks itself (emptiness included), naming the field."""

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)


class _Needed(_Text):
    """A field the person must fill in, shown as such; the action says when it is missing."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.required = True

    def validate(self, value):
        pass


class _DateInput(forms.TextInput):
    input_type = "date"


class MeasurementForm(forms.Form):
    """A value of one of the service's contract metrics, entered by hand (``record_measurement``)."""

    metric_key = forms.ChoiceField(label="Metric", required=False)
    value = _Needed(label="Value", widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
                    help_text="A number, up to four decimal places, in the metric's unit.")
    period_start = _Needed(label="Period start", widget=_DateInput())
    period_end = _Text(label="Period end", widget=_DateInput(),
                       help_text="The last day the value covers. Leave it empty for a single day.")
    measured_at = _Text(label="Taken at", widget=forms.TextInput(attrs={"type": "datetime-local"}),
                        help_text="When the value was taken. Leave it empty for now.")
    note = _Text(label="Note", max_length=300, widget=forms.TextInput(attrs={"autocomplete": "off"}),
                 help_text="Anything a reader needs to know about this value, in a sentence.")
    replace = forms.BooleanField(label="Replace the existing value for this period", required=False)

    def __init__(self, *args, metrics, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["metric_key"].choices = [("", "Choose a metric")] + [
            (m.key, f"{m.name} ({m.unit})" if m.unit else m.name) for m in metrics]

    def action_kwargs(self) -> dict:
        data = self.cleaned_data
        return {"metric_key": data.get("metric_key") or "", "value": data.get("value") or "",
                "period_start": data.get("period_start") or "", "period_end": data.get("period_end") or None,
                "measured_at": data.get("measured_at") or None, "note": data.get("note") or "",
                "replace": bool(data.get("replace"))}


class UploadForm(forms.Form):
    file = forms.FileField(label="CSV file", required=False,
                           help_text="UTF-8 text with a header row, at most 5 MB.",
                           widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"}))


class CadenceForm(forms.Form):
    days = _Needed(label="Reported every", widget=forms.TextInput(attrs={"inputmode": "numeric", "size": 5}),
                   help_text="Days between reports, from 1 to 400: 7 for weekly, 31 for monthly, 92 for quarterly. "
                             "A series is stale when its next value is later than this.")


class StandardMeasureForm(forms.Form):
    measure = forms.ChoiceField(label="Standard measure", required=False, widget=forms.RadioSelect)
    target = _Text(label="Target", widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
                   help_text="Leave it empty if the service sets no target for it.")

    def __init__(self, *args, taken: set[str] = frozenset(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["measure"].choices = [(m.key, m.name) for m in STANDARD_MEASURES if m.key not in taken]


class TokenForm(forms.Form):
    label = _Text(label="What it is for", max_length=100,
                  help_text="A label to recognise it by later, e.g. “Payments gateway, production”.")


STATUS_CHOICES = [("", "Any status"), ("met", "Met"), ("missed", "Missed"), ("no target", "No target"),
                  ("no data", "No data"), ("stale", "Stale")]


class OverviewFilterForm(forms.Form):
    q = forms.CharField(label="Search", required=False, max_length=100,
                        widget=forms.TextInput(attrs={"type": "search", "placeholder": "Service or metric",
                                                      "autocomplete": "off"}))
    status = forms.ChoiceField(label="Status", required=False, choices=STATUS_CHOICES)
    stage = forms.ChoiceField(label="Lifecycle stage", required=False,
                              choices=[("", "Every running stage")] + [c for c in Lifecycle.choices
                                                                       if c[0] != Lifecycle.DECOMMISSIONED])


class AggregationForm(forms.Form):
    """A figure across services (``define_aggregation``)."""

    name = _Needed(label="Name", max_length=150, widget=forms.TextInput(attrs={"autocomplete": "off"}))
    expression = _Needed(label="Expression", widget=forms.Textarea(attrs={"rows": 3, "spellcheck": "false",
                                                                          "autocomplete": "off"}),
                         help_text="Checked as you type. See the reference beside the form.")
    unit = _Text(label="Unit", max_length=40, help_text="How to read the figure, e.g. GBP, %, transactions.")
    grain = forms.ChoiceField(label="Computed for each", choices=Aggregation.Grain.choices, initial="month")
    within = forms.ChoiceField(label="A service's values within a period", choices=Aggregation.Within.choices,
                               initial="latest")
    description = _Text(label="What it shows", widget=forms.Textarea(attrs={"rows": 3}),
                        help_text="Why the figure matters and how to read it.")
    revision = forms.IntegerField(required=False, widget=forms.HiddenInput)


class PeriodForm(forms.Form):
    period = forms.ChoiceField(label="Budget period", required=False)

    def __init__(self, *args, periods: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["period"].choices = [(p, p) for p in periods]


def share_field(slug: str) -> str:
    return f"share_{slug}"


class SharesForm(forms.Form):
    """How a provider's consumption was shared out in a budget period, one percentage for
    each service consuming it under its current contract (``record_consumption_shares``)."""

    period = _Needed(label="Budget period", max_length=40,
                     widget=forms.TextInput(attrs={"list": "known-periods", "autocomplete": "off"}),
                     help_text="e.g. 2026-27")

    def __init__(self, *args, consumers, initial_shares: dict[str, str] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.consumers = list(consumers)
        for consumer in self.consumers:
            self.fields[share_field(consumer.slug)] = _Text(
                label=consumer.name, initial=(initial_shares or {}).get(consumer.slug, ""),
                widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off", "size": 8,
                                              "data-share": "", "class": "fx-share"}))

    def shares(self) -> dict[str, str]:
        """The shares to send, by consumer slug, as percentages: an empty box sends nothing."""
        out = {}
        for consumer in self.consumers:
            text = (self.cleaned_data.get(share_field(consumer.slug)) or "").strip()
            if text:
                out[consumer.slug] = text if text.endswith("%") else f"{text}%"
        return out

    def rows(self):
        return [(consumer, self[share_field(consumer.slug)]) for consumer in self.consumers]


class TransactionsForm(forms.Form):
    period = _Needed(label="Budget period", max_length=40,
                     widget=forms.TextInput(attrs={"list": "known-periods", "autocomplete": "off"}),
                     help_text="e.g. 2026-27")
    transactions = _Needed(label="Completed transactions", widget=forms.TextInput(attrs={"inputmode": "numeric"}),
                           help_text="A whole number: the divisor of the service's cost per transaction.")
