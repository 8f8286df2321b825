"""Forms for the doctrine pages: a pattern's meaning, a new self-assessment, and one
respondent's ratings of the forty patterns. They only parse input: the rules, and the
sentences that explain a refusal, live in :mod:`osom.learning.actions`, which names the
field each problem is on, so text the action checks arrives here as optional text."""

from __future__ import annotations

from django import forms

from .models import DoctrinePattern, DoctrineRating, DoctrineRound, Rating

__all__ = ["HeatMapFilterForm", "MeaningForm", "RatingsForm", "RoundFilterForm", "RoundForm"]


class _Text(forms.CharField):
    """Text the action checks itself (emptiness included), naming the field."""

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)


class MeaningForm(forms.Form):
    meaning = _Text(label="What the pattern means to the organisation", widget=forms.Textarea(attrs={"rows": 4}),
                    help_text="In the organisation's own words: one or two sentences anyone can act on.")
    revision = forms.IntegerField(required=False, widget=forms.HiddenInput)


class RoundForm(forms.Form):
    title = _Text(label="Title", max_length=200,
                  help_text="Leave it empty to name it after the month, e.g. “doctrine self-assessment, March 2026”.")


SCOPES = [("", "Services and the organisation"), ("organisation", "The organisation only"), ("services", "Services only")]


class RoundFilterForm(forms.Form):
    scope = forms.ChoiceField(label="Whose", required=False, choices=SCOPES)
    status = forms.ChoiceField(label="Status", required=False,
                               choices=[("", "Open or closed"), *DoctrineRound.Status.choices])


class HeatMapFilterForm(forms.Form):
    stage = forms.ChoiceField(label="Lifecycle stage", required=False)

    def __init__(self, *args, stages, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["stage"].choices = [("", "Every running stage"), *stages]


RATING_CHOICES = [(r.value, r.label) for r in (Rating.GOOD, Rating.PARTLY, Rating.WEAK, Rating.UNKNOWN)]


def rating_field(slug: str) -> str:
    return f"rating_{slug}"


def evidence_field(slug: str) -> str:
    return f"evidence_{slug}"


class RatingsForm(forms.Form):
    """A rating and optional evidence for each of the forty patterns, filled with the
    respondent's earlier answers. Only what is new or changed goes to the action."""

    def __init__(self, *args, patterns: list[DoctrinePattern], earlier: dict[int, DoctrineRating], **kwargs):
        super().__init__(*args, **kwargs)
        self.patterns = patterns
        self.earlier = earlier
        for pattern in patterns:
            before = earlier.get(pattern.pk)
            self.fields[rating_field(pattern.slug)] = forms.ChoiceField(
                label=pattern.name, required=False, choices=RATING_CHOICES, widget=forms.RadioSelect,
                initial=before.rating if before else None)
            self.fields[evidence_field(pattern.slug)] = _Text(
                label=f"Evidence for “{pattern.name}”", widget=forms.Textarea(attrs={"rows": 2}),
                initial=before.evidence if before else "")

    def changed_ratings(self) -> tuple[list[dict], list[str]]:
        """The ratings to send, and for each the slug it is about (to put the action's
        errors back on the right field). A pattern left alone, or answered as before,
        is not sent; evidence without a rating is, so the action can say what is missing."""
        data = self.cleaned_data
        out, slugs = [], []
        for pattern in self.patterns:
            rating = data.get(rating_field(pattern.slug)) or ""
            evidence = (data.get(evidence_field(pattern.slug)) or "").strip()
            before = self.earlier.get(pattern.pk)
            if not rating and not evidence:
                continue
            if before is not None and (before.rating, before.evidence) == (rating, evidence):
                continue
            out.append({"pattern": pattern.slug, "rating": rating, "evidence": evidence})
            slugs.append(pattern.slug)
        return out, slugs

    def rows(self, layout: list[dict]) -> list[dict]:
        """The fields laid out as the rate page shows them: a section per group, each
        pattern with its phase, meaning, rating and evidence."""
        out = []
        for row in layout:
            items = []
            for column in row["phases"]:
                for pattern in column["patterns"]:
                    items.append({"pattern": pattern, "rating": self[rating_field(pattern.slug)],
                                  "evidence": self[evidence_field(pattern.slug)]})
            out.append({"group": row["group"], "items": items})
        return out
