"""Forms for the map pages. They only parse input: what a map must hold, and how long a
note may be, is the action's to say (``save_service_map``)."""

from __future__ import annotations

from django import forms

from osom.network.stages import Evolution, Lifecycle

__all__ = ["MapForm", "PreviewForm", "NetworkMapFilterForm", "HopsForm", "MAX_HOPS"]

MAX_HOPS = 4


class MapForm(forms.Form):
    # not stripped: the text is kept exactly as written (indentation inside a pipeline block)
    text = forms.CharField(
        label="Map text", required=False, strip=False,
        widget=forms.Textarea(attrs={"rows": 24, "spellcheck": "false", "autocapitalize": "off",
                                     "autocomplete": "off", "class": "map-text"}),
        help_text="One statement a line; see the reference beside the preview. "
                  "Lines the map language does not know are kept and listed as warnings.")
    note = forms.CharField(
        label="What changed", required=False,
        widget=forms.TextInput(attrs={"maxlength": "300"}),
        help_text="A few words for the list of versions, e.g. “Hosting is now a utility”.")
    number = forms.IntegerField(min_value=0, required=False, widget=forms.HiddenInput)


class PreviewForm(forms.Form):
    text = forms.CharField(required=False, strip=False)


class NetworkMapFilterForm(forms.Form):
    q = forms.CharField(label="Name contains", required=False, max_length=150,
                        widget=forms.TextInput(attrs={"type": "search"}))
    stage = forms.ChoiceField(label="Lifecycle stage", required=False,
                              choices=[("", "Any stage"), *[c for c in Lifecycle.choices if c[0] != "decommissioned"]])
    evolution = forms.ChoiceField(label="Evolution", required=False,
                                  choices=[("", "Any evolution"), *Evolution.choices])
    around = forms.SlugField(label="What this service depends on", required=False, max_length=160,
                             widget=forms.HiddenInput)

    def filters(self) -> dict:
        """The filters given, each '' when not given or not valid (a bad one is dropped,
        the others kept)."""
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        return {name: (data.get(name) or "").strip() for name in ("around", "stage", "evolution", "q")}


class HopsForm(forms.Form):
    hops = forms.TypedChoiceField(label="How far", required=False, coerce=int, empty_value=2, initial=2,
                                  choices=[(n, f"{n} dependenc{'y' if n == 1 else 'ies'} away")
                                           for n in range(1, MAX_HOPS + 1)])

    def chosen(self) -> int:
        """The number of hops asked for; 2 when none or a bad one was given."""
        if not self.is_valid():
            return 2
        return self.cleaned_data.get("hops") or 2
