"""Forms for the Correction of Error pages: the library's filters, the whole CoE in one
form (its account, timeline, "5 whys" chains, doctrine patterns and corrective actions,
each a repeating group of rows), the acts on a corrective action, guidance drawn from a
CoE, and the executive's reviews.

They only parse input: the rules and the sentences that explain a refusal live in
:mod:`osom.learning.actions`, which names the field each problem is on (``title``,
``timeline[2].at``, ``actions[0].owner``). :func:`place_errors` puts each sentence next
to the field it names, in the row it names."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.forms import formset_factory
from django.utils import timezone

from osom.core.models import Person
from osom.governance.models import Guidance
from osom.network.models import Service

from .doctrine import GROUPS
from .models import CorrectionOfError, DoctrinePattern

__all__ = [
    "ROW_GROUPS",
    "WHYS_SHOWN",
    "ActionRowForm",
    "AddActionForm",
    "CoEForm",
    "CoEFormSets",
    "CoEGuidanceForm",
    "DropActionForm",
    "HoldReviewForm",
    "LibraryFilterForm",
    "PatternRowForm",
    "ReviewForm",
    "TimelineRowForm",
    "VerifyActionForm",
    "WhyChainRowForm",
    "owner_choices",
    "pattern_choices",
    "place_errors",
]

PHASE_NUMERALS = {1: "I", 2: "II", 3: "III", 4: "IV"}
WHYS_SHOWN = 5  # answers given a field of their own; any further ones go one a line in "more"


def _textarea(rows: int = 3, **attrs) -> forms.Textarea:
    return forms.Textarea(attrs={"rows": rows, **attrs})


class _Text(forms.CharField):
    """Text the action checks itself (emptiness included), naming the field."""

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)


def pattern_choices(blank: str = "Choose a pattern") -> list:
    """The forty patterns as a select's options, grouped as the doctrine table groups them (one query)."""
    by_group: dict[str, list] = {g: [] for g in GROUPS}
    for p in DoctrinePattern.objects.only("slug", "name", "group", "phase", "position"):
        by_group.setdefault(p.group, []).append((p.slug, f"{p.name} (phase {PHASE_NUMERALS.get(p.phase, p.phase)})"))
    return [("", blank), *[(group.capitalize(), options) for group, options in by_group.items() if options]]


def owner_choices(service: Service) -> list:
    """The people who may own a corrective action, by email: the service's own people
    first (its manager and team), then everyone else (two queries)."""
    people = list(Person.objects.filter(is_active=True).only("pk", "name", "email").order_by("name", "pk"))
    own = set(service.team.filter(ended_at__isnull=True).values_list("person_id", flat=True))
    if service.manager_id:
        own.add(service.manager_id)

    def option(p):
        return (p.email, f"{p.name} ({p.email})")

    theirs = [option(p) for p in people if p.pk in own]
    others = [option(p) for p in people if p.pk not in own]
    groups = [("", "Choose the person who owns it")]
    if theirs:
        groups.append((f"People of {service.name}", theirs))
    if others:
        groups.append(("Everyone else", others))
    return groups


# ---------------------------------------------------------------- the library

STATUS_CHOICES = [("", "Any status"), *CorrectionOfError.Status.choices]
EFFECT_CHOICES = [("", "Helped or hurt"), ("helped", "It helped"), ("hurt", "It hurt")]


class LibraryFilterForm(forms.Form):
    q = forms.CharField(label="Words in the text", required=False, max_length=200,
                        widget=forms.TextInput(attrs={"type": "search", "placeholder": "e.g. certificate"}))
    service = forms.ChoiceField(label="Service", required=False)
    pattern = forms.ChoiceField(label="Doctrine pattern", required=False)
    effect = forms.ChoiceField(label="The pattern", required=False, choices=EFFECT_CHOICES)
    status = forms.ChoiceField(label="Status", required=False, choices=STATUS_CHOICES)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        services = Service.objects.filter(corrections__status__in=["published", "reviewed"]).distinct().order_by("name").values_list("slug", "name")
        self.fields["service"].choices = [("", "Every service"), *services]
        self.fields["pattern"].choices = pattern_choices("Any pattern")


# ---------------------------------------------------------------- the CoE itself

class CoEForm(forms.Form):
    """The account a CoE gives (model 7). Only the title and the date are needed for a
    draft; the rest is asked for when it is published."""

    title = _Text(label="Title", max_length=200, help_text="The problem in a few words, e.g. “Renewals failed overnight”.")
    occurred_on = _Text(label="When it happened", widget=forms.TextInput(attrs={"type": "date", "autocomplete": "off"}))
    users_affected = forms.BooleanField(label="Users felt the problem", required=False)
    problem = _Text(label="The problem", widget=_textarea(4), help_text="What went wrong, as plainly as you can say it.")
    impact = _Text(label="Its impact", widget=_textarea(3), help_text="On users and on the organisation: how many, how long, what it cost.")
    root_cause = _Text(label="The root cause", widget=_textarea(3), help_text="Where the “5 whys” below lead.")
    root_cause_data = _Text(label="Data supporting the root cause", widget=_textarea(3),
                            help_text="Logs, figures and measurements that show the root cause is the right one.")
    trade_offs_that_led = _Text(label="The trade-offs that led to it", widget=_textarea(3),
                                help_text="The value judgements made earlier that let the problem happen.")
    trade_offs_to_avoid = _Text(label="Trade-offs to avoid in future", widget=_textarea(3))
    lessons = _Text(label="Lessons learned", widget=_textarea(4), help_text="What every service can take from this.")
    revision = forms.IntegerField(required=False, widget=forms.HiddenInput)

    TEXTS = ("problem", "impact", "root_cause", "root_cause_data", "trade_offs_that_led", "trade_offs_to_avoid", "lessons")

    def content(self) -> dict:
        data = self.cleaned_data
        return {"title": data.get("title", ""), "occurred_on": data.get("occurred_on", ""),
                "users_affected": bool(data.get("users_affected")), **{f: data.get(f, "") for f in self.TEXTS}}


class _RowForm(forms.Form):
    """One row of a repeating group; a row left empty is ignored."""

    def is_blank(self) -> bool:
        data = getattr(self, "cleaned_data", {})
        return not any(str(v or "").strip() for k, v in data.items() if k != "DELETE")

    def has_content(self) -> bool:
        """Whether the row shows anything (as given, or as posted): only such a row offers "remove"."""
        return any(str(self[name].value() or "").strip() for name in self.fields if name != "DELETE")

    def is_removed(self) -> bool:
        return bool(getattr(self, "cleaned_data", {}).get("DELETE"))


class TimelineRowForm(_RowForm):
    at = _Text(label="Time", widget=forms.TextInput(attrs={"type": "datetime-local", "autocomplete": "off"}))
    description = _Text(label="What happened", max_length=4000)

    def item(self) -> dict:
        return {"at": self.cleaned_data.get("at", ""), "description": self.cleaned_data.get("description", "")}


class WhyChainRowForm(_RowForm):
    question = _Text(label="The question", help_text="e.g. “Why did renewals fail?”")
    more = _Text(label="Further answers", widget=_textarea(2), help_text="One a line, if the chain goes on.")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for n in range(1, WHYS_SHOWN + 1):
            self.fields[f"why_{n}"] = _Text(label=f"Why? ({n})", max_length=2000)
        self.order_fields(["question", *[f"why_{n}" for n in range(1, WHYS_SHOWN + 1)], "more"])

    def whys(self) -> list[str]:
        data = self.cleaned_data
        answers = [data.get(f"why_{n}", "") for n in range(1, WHYS_SHOWN + 1)]
        answers += (data.get("more") or "").splitlines()
        return [a.strip() for a in answers if a and a.strip()]

    def why_fields(self):
        return [self[f"why_{n}"] for n in range(1, WHYS_SHOWN + 1)]

    def item(self) -> dict:
        return {"question": self.cleaned_data.get("question", ""), "whys": self.whys()}

    @staticmethod
    def initial_for(chain: dict) -> dict:
        whys = list(chain.get("whys") or [])
        row = {"question": chain.get("question", "")}
        for n, answer in enumerate(whys[:WHYS_SHOWN], start=1):
            row[f"why_{n}"] = answer
        row["more"] = "\n".join(whys[WHYS_SHOWN:])
        return row


class PatternRowForm(_RowForm):
    pattern = forms.ChoiceField(label="Doctrine pattern", required=False)
    effect = forms.ChoiceField(label="Did it help or hurt?", required=False, widget=forms.RadioSelect,
                               choices=[("helped", "Helped"), ("hurt", "Hurt")])
    note = _Text(label="How", max_length=2000)

    def __init__(self, *args, patterns=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["pattern"].choices = patterns or [("", "Choose a pattern")]

    def item(self) -> dict:
        data = self.cleaned_data
        return {"pattern": data.get("pattern", ""), "effect": data.get("effect", ""), "note": data.get("note", "")}


class ActionRowForm(_RowForm):
    description = _Text(label="Corrective action", widget=_textarea(2), max_length=4000)
    owner = forms.ChoiceField(label="Owner", required=False)
    due_date = _Text(label="Due date", widget=forms.TextInput(attrs={"type": "date", "autocomplete": "off"}))

    def __init__(self, *args, owners=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].choices = owners or [("", "Choose the person who owns it")]

    def item(self) -> dict:
        data = self.cleaned_data
        return {"description": data.get("description", ""), "owner": data.get("owner", ""),
                "due_date": data.get("due_date", "")}


# Each repeating group: its form prefix, the content key the action reads, its row form,
# the blank rows a new CoE starts with, and what a row is called on the page.
ROW_GROUPS = [
    ("timeline", "timeline", TimelineRowForm, 3, "Event"),
    ("whys", "why_chains", WhyChainRowForm, 1, "Chain"),
    ("patterns", "pattern_effects", PatternRowForm, 2, "Pattern"),
    ("actions", "actions", ActionRowForm, 2, "Action"),
]
ROWS_ADDED = 2  # the rows an "add more rows" button adds, without script
MAX_ROWS = 100  # rows of one group a form takes, however many a post claims


def _local_minute(value: str) -> str:
    """An ISO time as a ``datetime-local`` input shows it: local time, to the minute."""
    try:
        moment = dt.datetime.fromisoformat(value)
    except (TypeError, ValueError):
        return value or ""
    if timezone.is_aware(moment):
        moment = timezone.localtime(moment)
    return moment.strftime("%Y-%m-%dT%H:%M")


class CoEFormSets:
    """The whole CoE form: the account and its four repeating groups, bound together.

    ``data`` is the POST (or None); ``content`` the CoE as :func:`actions.coe_content`
    gives it, to start from when editing; ``more`` the prefix of a group that asked for
    more rows (the POST is then shown again with two more blank rows, nothing saved)."""

    def __init__(self, service: Service, data=None, *, content: dict | None = None, more: str = ""):
        self.service = service
        patterns, owners = pattern_choices(), owner_choices(service)
        if data is not None:
            data = data.copy()
            for prefix, *_ in ROW_GROUPS:  # a post without a group's rows (a script, say) sends none of them
                data.setdefault(f"{prefix}-TOTAL_FORMS", "0")
                data.setdefault(f"{prefix}-INITIAL_FORMS", "0")
        if data is not None and more:
            key = f"{more}-TOTAL_FORMS"
            if key in data:
                try:
                    data[key] = str(min(int(data[key]) + ROWS_ADDED, MAX_ROWS))
                except ValueError:
                    pass
        initial = self._main_initial(content) if content else {"occurred_on": timezone.localdate().isoformat()}
        self.main = CoEForm(data, initial=initial)
        self.groups = []
        for prefix, key, row_form, blank, noun in ROW_GROUPS:
            form_kwargs = {"patterns": patterns} if prefix == "patterns" else {"owners": owners} if prefix == "actions" else {}
            rows = self._rows(key, content) if content and data is None else []
            extra = 0 if data is not None else (1 if content else blank)
            formset_class = formset_factory(row_form, extra=extra, can_delete=True, max_num=MAX_ROWS,
                                            absolute_max=MAX_ROWS, validate_max=True)
            formset = formset_class(data, initial=rows or None, prefix=prefix, form_kwargs=form_kwargs)
            self.groups.append({"prefix": prefix, "key": key, "formset": formset, "noun": noun})

    @staticmethod
    def _main_initial(content: dict) -> dict:
        return {k: content.get(k) for k in ("title", "occurred_on", "users_affected", *CoEForm.TEXTS)}

    @staticmethod
    def _rows(key: str, content: dict) -> list[dict]:
        items = content.get(key) or []
        if key == "timeline":
            return [{"at": _local_minute(e["at"]), "description": e["description"]} for e in items]
        if key == "why_chains":
            return [WhyChainRowForm.initial_for(c) for c in items]
        return [dict(i) for i in items]

    def group(self, prefix: str) -> dict:
        return next(g for g in self.groups if g["prefix"] == prefix)

    def is_valid(self) -> bool:
        ok = self.main.is_valid()
        for g in self.groups:
            ok = g["formset"].is_valid() and ok
        return ok

    def content(self) -> dict:
        """What :func:`actions.write_coe` takes; each group's rows, the empty and removed
        ones left out, remembering which row each entry came from."""
        content = self.main.content()
        self.row_of: dict[str, list] = {}
        for g in self.groups:
            kept = [f for f in g["formset"].forms if not f.is_removed() and not f.is_blank()]
            self.row_of[g["key"]] = kept
            content[g["key"]] = [f.item() for f in kept]
        return content

    def place(self, errors: dict[str, list[str]]) -> None:
        """Each refusal's sentences next to the field they name, in the row they name."""
        rows_named = {"why_chains": {"whys": "why_1"}}
        for name, texts in errors.items():
            target, field = self.main, name
            if "[" in name:
                key, _, rest = name.partition("[")
                index, _, field = rest.partition("].")
                rows = getattr(self, "row_of", {}).get(key, [])
                try:
                    target = rows[int(index.rstrip("]"))]
                except (ValueError, IndexError):
                    target, field = self.main, ""
                field = rows_named.get(key, {}).get(field, field)
            elif name in ("timeline", "why_chains", "pattern_effects", "actions"):
                target, field = self.main, ""
            place_errors(target, {field: texts})


    def summary(self) -> list[dict]:
        """Every problem on the form, each with a link to its field, for the summary at the top."""
        out = []
        forms = [(self.main, "")] + [(f, f"{g['noun']} {i + 1}") for g in self.groups for i, f in enumerate(g["formset"].forms)]
        for g in self.groups:
            for error in g["formset"].non_form_errors():
                out.append({"label": g["noun"], "message": error, "anchor": f"{g['prefix']}-h"})
        for form, where in forms:
            if not form.is_bound:
                continue
            for name, texts in form.errors.items():
                if name == "__all__":
                    label, anchor = where, (form.prefix or "")
                else:
                    label = str(form.fields[name].label).rstrip("?")
                    label = f"{where}, {label[:1].lower()}{label[1:]}" if where else label
                    anchor = form[name].auto_id
                for text in texts:
                    out.append({"label": label, "message": text, "anchor": anchor})
        return out


def place_errors(form: forms.Form, errors: dict[str, list[str]]) -> None:
    """Put each sentence on the field it names when the form shows that field, or at
    the top of the form (a hidden revision, the CoE as a whole)."""
    for field, texts in errors.items():
        visible = field in form.fields and not form.fields[field].widget.is_hidden
        for text in texts:
            form.add_error(field if visible else None, text)


# ---------------------------------------------------------------- acts on a CoE

class AddActionForm(forms.Form):
    description = _Text(label="Corrective action", widget=_textarea(2), max_length=4000)
    owner = forms.ChoiceField(label="Owner", required=False)
    due_date = _Text(label="Due date", widget=forms.TextInput(attrs={"type": "date", "autocomplete": "off"}))

    def __init__(self, *args, service: Service, **kwargs):
        kwargs.setdefault("prefix", "new")
        super().__init__(*args, **kwargs)
        self.fields["owner"].choices = owner_choices(service)


class DropActionForm(forms.Form):
    """Drop a corrective action: it needs a reason."""

    note = _Text(label="Why it is dropped", widget=_textarea(2), max_length=4000)


class VerifyActionForm(forms.Form):
    note = _Text(label="How it had its effect", widget=_textarea(2), max_length=4000)


class CoEGuidanceForm(forms.Form):
    """Start a draft of guidance from a CoE's lessons: only its category is asked; the
    title and body start from the lessons and the trade-offs to avoid, to be rewritten."""

    category = forms.ChoiceField(label="Category of the guidance", required=False,
                                 choices=[("", "Choose a category"), *Guidance.Category.choices])


# ---------------------------------------------------------------- reviews

class ReviewForm(forms.Form):
    scheduled_for = _Text(label="Date of the review", widget=forms.TextInput(attrs={"type": "date", "autocomplete": "off"}))
    title = _Text(label="Title", max_length=200, help_text="Leave it empty for “Review of Corrections of Error, <date>”.")


class HoldReviewForm(forms.Form):
    """The record of a review: its notes, the CoEs gone through (all of the agenda by
    default) and a note on each."""

    notes = _Text(label="Notes of the review", widget=_textarea(5),
                  help_text="What was said and agreed, for every manager to read. Markdown is allowed.")
    reviewed = forms.MultipleChoiceField(label="Corrections of Error gone through", required=False,
                                         widget=forms.CheckboxSelectMultiple)

    def __init__(self, *args, agenda: list[CorrectionOfError], **kwargs):
        super().__init__(*args, **kwargs)
        self.agenda = agenda
        self.fields["reviewed"].choices = [(str(c.pk), c.title) for c in agenda]
        if not self.is_bound:
            self.initial["reviewed"] = [str(c.pk) for c in agenda]
        for c in agenda:
            self.fields[f"note_{c.pk}"] = _Text(label=f"Note on “{c.title}”", widget=_textarea(2), max_length=4000)

    def rows(self):
        """Each CoE of the agenda with its checkbox state and its note field."""
        chosen = set(self["reviewed"].value() or [])
        return [{"coe": c, "checked": str(c.pk) in chosen, "note": self[f"note_{c.pk}"]} for c in self.agenda]

    def action_kwargs(self) -> dict:
        data = self.cleaned_data
        notes = {c.pk: data.get(f"note_{c.pk}", "") for c in self.agenda if (data.get(f"note_{c.pk}") or "").strip()}
        return {"notes": data.get("notes", ""), "coe_notes": notes, "reviewed": [int(pk) for pk in data.get("reviewed") or []]}

