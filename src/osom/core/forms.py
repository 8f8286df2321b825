"""Forms for the organisation pages. They only parse input: the rules, and the sentences
that explain a refusal, live in the actions (``osom.core.actions``), so the forms do not
check emptiness or length themselves: the action reports it, naming the field."""

from __future__ import annotations

from django import forms
from django.urls import reverse_lazy

from .actions import TERM_FIELDS
from .models import Role

__all__ = [
    "PeopleFilterForm", "PersonForm", "TerminologyForm", "TokenForm", "AuditFilterForm", "role_labels", "verb_label",
]


class _NeededField(forms.CharField):
    """A field the person must fill in, shown as such, whose emptiness the action itself
    refuses in its own words (naming the field), so the form does not check it first."""

    def __init__(self, **kwargs):
        super().__init__(required=True, **kwargs)

    def validate(self, value):
        pass  # the action says what is missing; forms only parse


def role_labels(terms: dict) -> dict[str, str]:
    """The organisation-wide roles in the organisation's own words (model 10)."""
    return {
        Role.EXECUTIVE: terms["executive"],
        Role.EXECUTIVE_TEAM: f"{terms['executive_team']} member",
        Role.MEMBER: "Member of the organisation",
    }


class PeopleFilterForm(forms.Form):
    q = forms.CharField(
        label="Search", required=False,
        widget=forms.TextInput(attrs={"type": "search", "placeholder": "Name or email", "autocomplete": "off"}),
    )
    role = forms.ChoiceField(label="Role", required=False)

    def __init__(self, *args, terms: dict, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["role"].choices = [
            ("", "Everyone"),
            ("executive", terms["executive"]),
            ("executive_team", terms["executive_team"]),
            ("service_manager", f"{terms['service_manager']}s"),
            ("team_member", "Service team members"),
        ]


class PersonForm(forms.Form):
    """Adding someone to the organisation (``create_person``)."""

    name = _NeededField(label="Full name", widget=forms.TextInput(attrs={"autocomplete": "off"}))
    email = _NeededField(
        label="Email address",
        widget=forms.EmailInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    role = forms.ChoiceField(label="Role", initial=Role.MEMBER)
    areas_of_interest = forms.CharField(
        label="Areas of interest", required=False,
    )
    password = forms.CharField(
        label="First password", required=False, strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text="At least 10 characters; give it to them privately. Leave it blank and they cannot sign in yet.",
    )

    def __init__(self, *args, terms: dict, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["role"].choices = list(role_labels(terms).items())
        self.fields["areas_of_interest"].help_text = (
            f"For members of the {terms['executive_team'].lower()}: finance, security, risk… separated by commas."
        )

    def action_kwargs(self) -> dict:
        data = self.cleaned_data
        return {
            "email": data["email"],
            "name": data["name"],
            "role": data["role"],
            "areas_of_interest": data["areas_of_interest"],
            "password": data["password"] or None,
        }


class TerminologyForm(forms.Form):
    """The organisation's own names (model 10). ``revision`` is the one the person read,
    so an edit made meanwhile by someone else is refused rather than overwritten."""

    name = _NeededField(label=TERM_FIELDS["name"], strip=False)
    model_name = _NeededField(
        label=TERM_FIELDS["model_name"], strip=False,
        help_text="What the organisation calls its operating model, e.g. “OSOM” or “Our service model”.",
    )
    executive_name = _NeededField(
        label=TERM_FIELDS["executive_name"], strip=False,
        help_text="The one accountable person, e.g. “Executive” or “Chief digital officer”.",
    )
    executive_team_name = _NeededField(
        label=TERM_FIELDS["executive_team_name"], strip=False,
        help_text="The people who act in the executive's name, e.g. “Executive team” or “Portfolio board”.",
    )
    service_manager_name = _NeededField(
        label=TERM_FIELDS["service_manager_name"], strip=False,
        help_text="Whoever runs one service, e.g. “Service manager” or “Product owner”.",
    )
    revision = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def values(self) -> dict:
        return {f: self.cleaned_data.get(f) or "" for f in TERM_FIELDS}


class TokenForm(forms.Form):
    """Issuing a personal API token (``issue_api_token``)."""

    label = forms.CharField(
        label="What it is for", required=False,
        help_text="A label to recognise it by later, e.g. “Reporting script”.",
    )
    days = forms.TypedChoiceField(
        label="Lasts for", coerce=int, initial="90",
        choices=[("7", "7 days"), ("30", "30 days"), ("90", "90 days"), ("365", "1 year")],
    )


class AuditFilterForm(forms.Form):
    service = forms.CharField(
        label="Service", required=False,
        # suggestions come from the network's service lookup, as the person types
        widget=forms.TextInput(attrs={
            "type": "search", "list": "service-names", "autocomplete": "off", "placeholder": "Name or address",
            "hx-get": reverse_lazy("network:lookup"), "hx-trigger": "input changed delay:200ms",
            "hx-target": "#service-names",
        }),
    )
    person = forms.CharField(
        label="Who acted", required=False,
        widget=forms.TextInput(attrs={"type": "search", "autocomplete": "off", "placeholder": "Name or email"}),
    )
    verb = forms.ChoiceField(label="Action", required=False)
    since = forms.DateField(label="From", required=False, widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(label="To", required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, verbs=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["verb"].choices = [("", "Any action"), *[(v, verb_label(v)) for v in verbs]]

    def clean(self):
        data = super().clean()
        since, until = data.get("since"), data.get("until")
        if since and until and since > until:
            self.add_error("until", "The end of the range must be on or after its start.")
        return data


def verb_label(verb: str) -> str:
    """``approve_contract_version`` → “Approve contract version”."""
    words = verb.replace("_", " ").capitalize().split(" ")
    return " ".join("API" if w.lower() == "api" else ("CoE" if w.lower() == "coe" else w) for w in words)
