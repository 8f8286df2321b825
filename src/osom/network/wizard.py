"""Establishing a service in the seven drafting steps of model section 3: name it,
define its users and their needs, define metrics for each outcome, describe it, list its
known dependencies, judge its evolution, assign a manager; then review and establish.

Progress is kept in the session, so a person can go back and forth between steps."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render

from osom.core.errors import DomainError, NotAllowed
from osom.core.models import Person
from osom.core.policy import refusal
from osom.core.views import forbidden

from . import actions
from .contract import DESCRIPTION_LABELS
from .forms import (
    DependencyFormSet,
    DescriptionForm,
    EvolutionForm,
    ManagerForm,
    NameForm,
    UsersForm,
    WizardMetricFormSet,
    WizardNeedFormSet,
)
from .stages import Evolution, Lifecycle, UserType

__all__ = ["establish_step", "STEPS"]

SESSION_KEY = "osom_establish"

STEPS = [
    ("name", "Name the service"),
    ("needs", "Users and their needs"),
    ("metrics", "Metrics for each outcome"),
    ("description", "Describe it"),
    ("dependencies", "Known dependencies"),
    ("evolution", "Evolution stage"),
    ("manager", "Manager"),
    ("review", "Review and establish"),
]
STEP_NAMES = [s for s, _ in STEPS]

# Which step a field named in a refusal belongs to.
FIELD_STEP = {"name": "name", "user_type": "needs", "needs": "needs", "metrics": "metrics",
              "dependencies": "dependencies", "evolution_stage": "evolution", "manager": "manager",
              "lifecycle_stage": "name", **{f: "description" for f in DESCRIPTION_LABELS}}


class StartForm(NameForm):
    adopt = forms.ChoiceField(
        label="Is it new?", initial="new", widget=forms.RadioSelect,
        choices=[("new", "A new service: it starts in discovery"),
                 ("adopt", "A service that already runs: adopt it at the stage it is really at")],
    )
    lifecycle_stage = forms.ChoiceField(
        label="Its real stage, if it already runs", required=False,
        choices=[(v, label) for v, label in Lifecycle.choices if v != Lifecycle.DECOMMISSIONED],
    )


def _state(request) -> dict:
    return request.session.setdefault(SESSION_KEY, {})


def _save(request, **values) -> None:
    state = _state(request)
    state.update(values)
    request.session[SESSION_KEY] = state
    request.session.modified = True


def _rows(formset) -> list[dict]:
    return [
        {k: v for k, v in f.cleaned_data.items() if k != "DELETE"}
        for f in formset.forms
        if f.cleaned_data and not f.cleaned_data.get("DELETE")
    ]


def _need_choices(state) -> list[tuple[str, str]]:
    return [(str(i), f"{i + 1}. As {n['as_a']}, I need {n['i_need']}") for i, n in enumerate(state.get("needs", []))]


def _content(state: dict) -> dict:
    """The contract content the steps have built so far."""
    metrics = []
    needs = [dict(n, metrics=[]) for n in state.get("needs", [])]
    for i, m in enumerate(state.get("metrics", [])):
        key = f"metric-{i + 1}"
        metrics.append({"key": key, **{k: m.get(k) for k in ("name", "unit", "direction", "target", "kind", "how_measured", "is_proxy")}})
        for index in m.get("needs", []):
            if int(index) < len(needs):
                needs[int(index)]["metrics"].append(key)
    return {
        "name": state.get("name", ""),
        "user_type": state.get("user_type", ""),
        "evolution_stage": state.get("evolution_stage", ""),
        **{f: state.get(f, "") for f in DESCRIPTION_LABELS},
        "metrics": metrics,
        "needs": needs,
        "dependencies": [{"provider": d["provider"], "note": d.get("note", "")} for d in state.get("dependencies", [])],
    }


def _forms(step: str, state: dict, data, request):
    """The forms of one step, bound to ``data`` or filled from the session."""
    if step == "name":
        return {"form": StartForm(data, initial={"name": state.get("name", ""), "adopt": state.get("adopt", "new"),
                                                 "lifecycle_stage": state.get("lifecycle_stage", "")})}
    if step == "needs":
        return {"form": UsersForm(data, initial={"user_type": state.get("user_type")}),
                "needs": WizardNeedFormSet(data, prefix="needs", initial=state.get("needs") or [{}])}
    if step == "metrics":
        initial = [dict(m, needs=[str(x) for x in m.get("needs", [])]) for m in state.get("metrics", [])] or [{}]
        return {"metrics": WizardMetricFormSet(data, prefix="metrics", initial=initial,
                                               form_kwargs={"need_choices": _need_choices(state)})}
    if step == "description":
        return {"form": DescriptionForm(data, initial={f: state.get(f, "") for f in DESCRIPTION_LABELS})}
    if step == "dependencies":
        return {"deps": DependencyFormSet(data, prefix="deps", initial=state.get("dependencies", []))}
    if step == "evolution":
        return {"form": EvolutionForm(data, initial={"evolution_stage": state.get("evolution_stage")})}
    if step == "manager":
        from osom.core.context import organisation_for

        return {"form": ManagerForm(data, initial={"manager": state.get("manager")},
                                    manager_label=organisation_for(request).service_manager_name)}
    return {}


def _store(step: str, forms_: dict, request) -> None:
    if step == "name":
        c = forms_["form"].cleaned_data
        _save(request, name=c["name"], adopt=c["adopt"], lifecycle_stage=c.get("lifecycle_stage") or "")
    elif step == "needs":
        _save(request, user_type=forms_["form"].cleaned_data["user_type"], needs=_rows(forms_["needs"]))
    elif step == "metrics":
        rows = []
        for row in _rows(forms_["metrics"]):
            row["target"] = str(row["target"]) if row.get("target") is not None else None
            row["needs"] = [int(x) for x in row.get("needs", [])]
            rows.append(row)
        _save(request, metrics=rows)
    elif step == "description":
        _save(request, **forms_["form"].cleaned_data)
    elif step == "dependencies":
        _save(request, dependencies=_rows(forms_["deps"]))
    elif step == "evolution":
        _save(request, evolution_stage=forms_["form"].cleaned_data["evolution_stage"])
    elif step == "manager":
        manager = forms_["form"].cleaned_data.get("manager")
        _save(request, manager=manager.pk if manager else None)


def _step_errors(exc: DomainError) -> list[dict]:
    out = []
    for path, texts in (exc.errors or {"": [exc.message]}).items():
        root = path.split("[")[0].split(".")[0]
        step = FIELD_STEP.get(root, "review")
        for text in texts:
            out.append({"step": step, "title": dict(STEPS)[step], "path": path, "message": text})
    return out


def establish_step(request, step: str = "name"):
    """One step of the establish-a-service wizard."""
    if step not in STEP_NAMES:
        raise Http404("There is no such step.")
    if refused := refusal(request.user, "establish_service"):
        return forbidden(request, refused)
    if request.GET.get("restart"):
        request.session.pop(SESSION_KEY, None)
        return redirect("network:establish_step", step="name")
    state = _state(request)
    index = STEP_NAMES.index(step)
    errors: list[dict] = []
    if step == "review":
        content = _content(state)
        manager = Person.objects.filter(pk=state.get("manager")).first() if state.get("manager") else None
        if request.method == "POST":
            try:
                if state.get("proposal_id"):
                    # established for proposed needs: the proposal's decision is recorded in the same act
                    from osom.governance.actions import establish_from_proposal
                    from osom.governance.models import Proposal

                    service = establish_from_proposal(actor=request.user, content=content, manager=manager,
                                                      proposal=Proposal.objects.get(pk=state["proposal_id"]))
                elif state.get("adopt") == "adopt":
                    service = actions.adopt_existing_service(actor=request.user, content=content, manager=manager,
                                                             lifecycle_stage=state.get("lifecycle_stage", ""))
                else:
                    service = actions.establish_service(actor=request.user, content=content, manager=manager)
            except NotAllowed as exc:
                return forbidden(request, exc.message)
            except DomainError as exc:
                errors = _step_errors(exc)
            else:
                request.session.pop(SESSION_KEY, None)
                messages.success(request, f"Established {service.name}. Its contract is version 1, published to everyone.")
                return redirect("network:service", slug=service.slug)
        return render(request, "network/wizard.html", {
            "nav": "network", "steps": STEPS, "step": step, "index": index, "content": content, "state": state,
            "manager": manager, "errors": errors,
            "user_type_label": dict(UserType.choices).get(content["user_type"], "—"),
            "evolution_label": dict(Evolution.choices).get(content["evolution_stage"], "—"),
            "stage_label": dict(Lifecycle.choices).get(state.get("lifecycle_stage", ""), ""),
            "metric_names": {m["key"]: m["name"] for m in content["metrics"]},
        })
    forms_ = _forms(step, state, request.POST if request.method == "POST" else None, request)
    if request.method == "POST":
        going_back = "back" in request.POST
        if all(f.is_valid() for f in forms_.values()):
            _store(step, forms_, request)
            return redirect("network:establish_step", step=STEP_NAMES[index - 1 if going_back else index + 1])
        if going_back:
            return redirect("network:establish_step", step=STEP_NAMES[index - 1])
    return render(request, "network/wizard.html", {
        "nav": "network", "steps": STEPS, "step": step, "index": index, "state": state,
        "title": dict(STEPS)[step], **forms_,
    })
