"""Forms for the pages of communities of practice and open roles. They only parse input:
the rules, and the sentences that explain a refusal, live in
:mod:`osom.learning.communities`, which names the field each problem is on, so text the
action checks arrives here as optional text."""

from __future__ import annotations

from django import forms

from osom.core.models import Person
from osom.network.models import ProfessionalRole
from osom.network.stages import LEVELS

from .models import Community, CommunityGuidance

__all__ = [
    "EVERY",
    "MINE",
    "CommunityEditForm",
    "CommunityFilterForm",
    "CommunityForm",
    "EndorseForm",
    "EscalateForm",
    "GuidanceForm",
    "OpenRoleFilterForm",
    "OpenRoleForm",
    "WithdrawEndorsementForm",
    "WithdrawGuidanceForm",
]


class _Text(forms.CharField):
    """Text the action checks itself (emptiness included), naming the field."""

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)


def _textarea(rows: int = 4) -> forms.Textarea:
    return forms.Textarea(attrs={"rows": rows})


class CommunityForm(forms.Form):
    name = _Text(label="Name", max_length=200, help_text="What the community calls itself, e.g. “User research”.")
    profession = forms.ChoiceField(label="Profession", required=False,
                                   help_text="The job family of the professional framework it gathers.")
    purpose = _Text(label="Purpose", widget=_textarea(5), help_text="What the community is for. Markdown is allowed.")

    def __init__(self, *args, professions: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["profession"].choices = [("", "Choose a profession"), *[(p, p) for p in professions]]


class _MemberChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return obj.name


class CommunityEditForm(forms.Form):
    name = _Text(label="Name", max_length=200)
    purpose = _Text(label="Purpose", widget=_textarea(5), help_text="Markdown is allowed.")
    lead = _MemberChoice(label="Lead", queryset=Person.objects.none(), required=False, empty_label=None,
                         help_text="Hand the lead to another member; you stay a member.")
    revision = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, members, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["lead"].queryset = members


class CommunityFilterForm(forms.Form):
    profession = forms.ChoiceField(label="Profession", required=False)
    status = forms.ChoiceField(label="Status", required=False, choices=[("", "Forming or endorsed"), *Community.Status.choices])

    def __init__(self, *args, professions: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["profession"].choices = [("", "Every profession"), *[(p, p) for p in professions]]


class GuidanceForm(forms.Form):
    kind = forms.ChoiceField(label="What it guides", required=False, widget=forms.RadioSelect,
                             choices=CommunityGuidance.Kind.choices)
    title = _Text(label="Title", max_length=200)
    body = _Text(label="The guidance", widget=_textarea(10), help_text="Markdown is allowed.")


class WithdrawGuidanceForm(forms.Form):
    reason = forms.CharField(label="Why it is withdrawn", required=False, widget=_textarea(2))


class EndorseForm(forms.Form):
    on = _Text(label="Endorsed on", widget=forms.TextInput(attrs={"type": "date", "autocomplete": "off"}),
               help_text="Leave it empty for today.")


class WithdrawEndorsementForm(forms.Form):
    reason = _Text(label="Why the endorsement is withdrawn", widget=_textarea(3))


class EscalateForm(forms.Form):
    subject = _Text(label="Subject", max_length=200, help_text="The dispute in a few words.")
    description = _Text(label="What happened", widget=_textarea(8),
                        help_text="Who disagrees about what evaluation, and what the community tried. Markdown is allowed.")


class _RoleChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return obj.name


class OpenRoleForm(forms.Form):
    role = _RoleChoice(label="Role", required=False, queryset=ProfessionalRole.objects.none(),
                       empty_label="Choose a role")
    level = forms.ChoiceField(label="Level", required=False, choices=[("", "Choose a level"), *LEVELS])
    description = _Text(label="What the role involves", widget=_textarea(5))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        roles = list(ProfessionalRole.objects.order_by("job_family", "name"))
        field = self.fields["role"]
        field.queryset = ProfessionalRole.objects.all()
        grouped: dict[str, list] = {}
        for role in roles:
            grouped.setdefault(role.job_family, []).append((role.pk, role.name))
        field.choices = [("", "Choose a role"), *grouped.items()]


MINE = ""  # the viewer's own professions
EVERY = "all"


class OpenRoleFilterForm(forms.Form):
    profession = forms.ChoiceField(label="Profession", required=False)

    def __init__(self, *args, professions: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["profession"].choices = [(MINE, "Your professions"), (EVERY, "Every profession"),
                                             *[(p, p) for p in professions]]
