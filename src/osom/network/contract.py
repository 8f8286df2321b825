"""The content of a contract version: validating it, writing it, reading it back.

Content is a plain dict, the same shape whether it comes from a page, the API, the CLI
or a YAML file::

    {"name": ..., "user_type": ..., "evolution_stage": ...,
     "purpose": ..., "benefit": ..., "usage": ..., "onboarding": ...,
     "expectations": ..., "support": ..., "migration_path": ...,
     "metrics": [{"key", "name", "unit", "direction", "target", "kind", "how_measured", "is_proxy"}],
     "needs": [{"key", "as_a", "i_need", "so_that", "metrics": [metric key or name, ...]}],
     "dependencies": [{"provider": slug, "note": ...}]}

Errors name the field with its place in a list, e.g. ``needs[2].so_that``.
"""

from __future__ import annotations

import html
from decimal import Decimal, InvalidOperation

import nh3
from django.utils import timezone

from django.utils.text import slugify

from osom.core.errors import Errors
from osom.core.markdown import render_markdown
from osom.core.models import Person

from .models import ContractVersion, Dependency, Metric, Need, Service
from .stages import Lifecycle, VersionStatus
from .stages import Direction, Evolution, MetricKind, UserType

__all__ = ["clean_content", "write_content", "read_content", "blank_content", "apply_approved",
           "write_decommissioned_version", "DESCRIPTION_LABELS"]

DESCRIPTION_LABELS = {
    "purpose": "What the service is",
    "benefit": "Business benefit",
    "usage": "How it is used",
    "onboarding": "How consumers on-board and off-board",
    "expectations": "What success and failure a consumer can expect",
    "support": "How to get help",
    "migration_path": "How users would migrate away",
}

_LIMITS = {"name": 150, "as_a": 300, "metric_name": 200, "unit": 40, "note": 300}


def blank_content() -> dict:
    return {
        "name": "",
        "user_type": "",
        "evolution_stage": "",
        **{f: "" for f in DESCRIPTION_LABELS},
        "metrics": [],
        "needs": [],
        "dependencies": [],
    }


def _text(value) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        value = str(value)
    return value.strip()


def _unique_key(base: str, taken: set[str], fallback: str) -> str:
    key = slugify(base)[:70] or fallback
    candidate, n = key, 2
    while candidate in taken:
        candidate = f"{key}-{n}"
        n += 1
    taken.add(candidate)
    return candidate


def clean_content(data: dict, *, service: Service | None = None, require_needs: bool = True) -> dict:
    """Check content against the rules of model section 3; return a cleaned copy.

    Raises InvalidInput naming every field that is wrong. ``service`` is the service the
    content belongs to (None while establishing), used to refuse self-dependency and a
    name that another service already has.
    """
    errors = Errors()
    out: dict = {}
    if not isinstance(data, dict):
        errors.add("contract", "The contract must be an object of named fields.")
        errors.raise_if_any()

    name = _text(data.get("name"))
    if not name:
        errors.add("name", "Give the service a name.")
    elif len(name) > _LIMITS["name"]:
        errors.add("name", f"The name is {len(name)} characters long; keep it to {_LIMITS['name']}.")
    else:
        clash = Service.objects.filter(name__iexact=name)
        if service is not None:
            clash = clash.exclude(pk=service.pk)
        if clash.exists():
            errors.add("name", f"Another service is already called “{name}”.")
    out["name"] = name

    for field, choices, what in (
        ("user_type", UserType, "who its users are"),
        ("evolution_stage", Evolution, "its evolution stage"),
    ):
        value = _text(data.get(field))
        if value not in choices.values:
            allowed = ", ".join(choices.values)
            errors.add(field, f"Choose {what}: one of {allowed}." if not value else f"“{value}” is not one of {allowed}.")
        out[field] = value

    for field in DESCRIPTION_LABELS:
        out[field] = _text(data.get(field))
    if not out["purpose"]:
        errors.add("purpose", "Say what the service is.")

    # metrics
    metrics_in = data.get("metrics") or []
    if not isinstance(metrics_in, list):
        errors.add("metrics", "Metrics must be a list.")
        metrics_in = []
    metrics: list[dict] = []
    keys: set[str] = set()
    by_ref: dict[str, str] = {}
    for i, m in enumerate(metrics_in):
        p = f"metrics[{i}]"
        if not isinstance(m, dict):
            errors.add(p, "Each metric must be an object with a name and a unit.")
            continue
        mname = _text(m.get("name"))
        unit = _text(m.get("unit"))
        if not mname:
            errors.add(f"{p}.name", "Give the metric a name.")
        elif len(mname) > _LIMITS["metric_name"]:
            errors.add(f"{p}.name", f"Keep the metric name to {_LIMITS['metric_name']} characters.")
        if not unit:
            errors.add(f"{p}.unit", "Give the unit the metric is measured in (%, ms, £, count…).")
        elif len(unit) > _LIMITS["unit"]:
            errors.add(f"{p}.unit", f"Keep the unit to {_LIMITS['unit']} characters.")
        direction = _text(m.get("direction")) or Direction.HIGHER
        if direction not in Direction.values:
            errors.add(f"{p}.direction", f"“{direction}” is not a direction: use higher or lower.")
        kind = _text(m.get("kind")) or MetricKind.OUTCOME
        if kind not in MetricKind.values:
            errors.add(f"{p}.kind", f"“{kind}” is not a kind of metric: use {', '.join(MetricKind.values)}.")
        target = m.get("target")
        if target in (None, ""):
            target = None
        else:
            try:
                target = Decimal(str(target).strip())
                if not target.is_finite() or abs(target) >= Decimal("1e14"):
                    raise InvalidOperation
            except (InvalidOperation, ValueError):
                errors.add(f"{p}.target", f"“{m.get('target')}” is not a number; leave it empty if there is no target.")
                target = None
        raw_key = _text(m.get("key"))
        if raw_key and (slugify(raw_key) != raw_key or raw_key in keys):
            errors.add(f"{p}.key", f"“{raw_key}” must be unique and use only lower-case letters, digits and hyphens.")
        key = raw_key if raw_key and raw_key not in keys else _unique_key(mname, keys, f"metric-{i + 1}")
        keys.add(key)
        by_ref[key] = key
        by_ref.setdefault(mname.lower(), key)
        metrics.append(
            {
                "key": key,
                "name": mname,
                "unit": unit,
                "direction": direction,
                "target": target,
                "kind": kind,
                "how_measured": _text(m.get("how_measured")),
                "is_proxy": bool(m.get("is_proxy")),
            }
        )
    out["metrics"] = metrics

    # needs
    needs_in = data.get("needs") or []
    if not isinstance(needs_in, list):
        errors.add("needs", "Needs must be a list.")
        needs_in = []
    needs: list[dict] = []
    need_keys: set[str] = set()
    for i, n in enumerate(needs_in):
        p = f"needs[{i}]"
        if not isinstance(n, dict):
            errors.add(p, "Each need must be an object with as_a, i_need and so_that.")
            continue
        as_a, i_need, so_that = _text(n.get("as_a")), _text(n.get("i_need")), _text(n.get("so_that"))
        if not as_a:
            errors.add(f"{p}.as_a", "Say who has the need (As a …).")
        elif len(as_a) > _LIMITS["as_a"]:
            errors.add(f"{p}.as_a", f"Keep “As a” to {_LIMITS['as_a']} characters.")
        if not i_need:
            errors.add(f"{p}.i_need", "Say what they need (I need …).")
        if not so_that:
            errors.add(f"{p}.so_that", "Say the outcome they want (so that …).")
        refs = n.get("metrics") or []
        if isinstance(refs, str):
            refs = [r for r in (x.strip() for x in refs.split(",")) if r]
        chosen: list[str] = []
        for ref in refs:
            key = by_ref.get(_text(ref)) or by_ref.get(_text(ref).lower())
            if key is None:
                errors.add(f"{p}.metrics", f"“{ref}” is not one of this contract's metrics.")
            elif key not in chosen:
                chosen.append(key)
        raw_key = _text(n.get("key"))
        if raw_key and (slugify(raw_key) != raw_key or raw_key in need_keys):
            errors.add(f"{p}.key", f"“{raw_key}” must be unique and use only lower-case letters, digits and hyphens.")
        key = raw_key if raw_key and raw_key not in need_keys else _unique_key(i_need[:60], need_keys, f"need-{i + 1}")
        need_keys.add(key)
        needs.append({"key": key, "as_a": as_a, "i_need": i_need, "so_that": so_that, "metrics": chosen})
    if require_needs and not needs:
        errors.add("needs", "A contract needs at least one user need.")
    out["needs"] = needs

    # dependencies
    deps_in = data.get("dependencies") or []
    if not isinstance(deps_in, list):
        errors.add("dependencies", "Dependencies must be a list.")
        deps_in = []
    refs = []
    for i, d in enumerate(deps_in):
        if isinstance(d, (str, int)) or isinstance(d, Service):
            d = {"provider": d}
        if not isinstance(d, dict):
            errors.add(f"dependencies[{i}]", "Each dependency names a provider service.")
            continue
        refs.append((i, d.get("provider"), _text(d.get("note"))))
    providers = _resolve_services([r for _, r, _ in refs])
    # a link the approved contract already has may stay while consumers migrate away
    kept: set[int] = set()
    if service is not None and service.current_version_id:
        kept = set(Dependency.objects.filter(version_id=service.current_version_id).values_list("provider_id", flat=True))
    deps: list[dict] = []
    seen: set[int] = set()
    for i, ref, note in refs:
        p = f"dependencies[{i}]"
        provider = providers.get(_ref_key(ref))
        if provider is None:
            errors.add(f"{p}.provider", f"There is no service “{ref}”." if ref not in (None, "") else "Name the service consumed.")
            continue
        if service is not None and provider.pk == service.pk:
            errors.add(f"{p}.provider", f"{service.name} cannot depend on itself.")
            continue
        if provider.pk in seen:
            errors.add(f"{p}.provider", f"{provider.name} is listed twice.")
            continue
        if provider.lifecycle_stage == Lifecycle.DECOMMISSIONED and provider.pk not in kept:
            errors.add(f"{p}.provider", f"{provider.name} is decommissioned; nothing new may depend on it.")
            continue
        if len(note) > _LIMITS["note"]:
            errors.add(f"{p}.note", f"Keep the note to {_LIMITS['note']} characters.")
        seen.add(provider.pk)
        deps.append({"provider": provider, "note": note})
    out["dependencies"] = deps

    errors.raise_if_any()
    return out


def _ref_key(ref) -> str:
    if isinstance(ref, Service):
        return f"id:{ref.pk}"
    if isinstance(ref, int):
        return f"id:{ref}"
    return f"s:{_text(ref).lower()}"


def _resolve_services(refs: list) -> dict[str, Service]:
    """Find services by instance, id, slug or name, in two queries whatever their number."""
    found: dict[str, Service] = {}
    ids = [r.pk if isinstance(r, Service) else r for r in refs if isinstance(r, (int, Service))]
    texts = [_text(r) for r in refs if isinstance(r, str) and _text(r)]
    if ids:
        for s in Service.objects.filter(pk__in=ids):
            found[f"id:{s.pk}"] = s
    if texts:
        lowered = {t.lower() for t in texts}
        from django.db.models import Q
        from django.db.models.functions import Lower

        qs = Service.objects.annotate(lname=Lower("name")).filter(Q(slug__in=texts) | Q(lname__in=lowered))
        for s in qs:
            found[f"s:{s.slug.lower()}"] = s
            found[f"s:{s.name.lower()}"] = s
    return found


def write_content(version: ContractVersion, content: dict) -> None:
    """Replace a (not yet approved) version's content with cleaned ``content``."""
    for field in ("name", "user_type", "evolution_stage", *DESCRIPTION_LABELS):
        setattr(version, field, content[field])
    version.save()
    # rows of a draft are replaced wholesale: a draft has no history of its own
    Need.objects.filter(version=version).delete()
    Metric.objects.filter(version=version).delete()
    Dependency.objects.filter(version=version).delete()
    metric_rows = Metric.objects.bulk_create(
        [
            Metric(version=version, position=i, **m)
            for i, m in enumerate(content["metrics"])
        ]
    )
    by_key = {m.key: m for m in metric_rows}
    need_rows = Need.objects.bulk_create(
        [
            Need(version=version, position=i, key=n["key"], as_a=n["as_a"], i_need=n["i_need"], so_that=n["so_that"])
            for i, n in enumerate(content["needs"])
        ]
    )
    through = Need.metrics.through
    through.objects.bulk_create(
        [
            through(need_id=row.pk, metric_id=by_key[k].pk)
            for row, n in zip(need_rows, content["needs"])
            for k in n["metrics"]
        ]
    )
    Dependency.objects.bulk_create(
        [Dependency(version=version, provider=d["provider"], note=d["note"]) for d in content["dependencies"]]
    )


def read_content(version: ContractVersion) -> dict:
    """The version's content in the same shape :func:`clean_content` returns, with
    providers given by slug (four queries)."""
    metrics = list(version.metrics.all())
    needs = list(version.needs.prefetch_related("metrics"))
    deps = list(version.dependencies.select_related("provider"))
    content = {
        "name": version.name,
        "user_type": version.user_type,
        "evolution_stage": version.evolution_stage,
        **{f: getattr(version, f) for f in DESCRIPTION_LABELS},
        "metrics": [
            {
                "key": m.key,
                "name": m.name,
                "unit": m.unit,
                "direction": m.direction,
                "target": m.target,
                "kind": m.kind,
                "how_measured": m.how_measured,
                "is_proxy": m.is_proxy,
            }
            for m in metrics
        ],
        "needs": [
            {
                "key": n.key,
                "as_a": n.as_a,
                "i_need": n.i_need,
                "so_that": n.so_that,
                "metrics": [m.key for m in n.metrics.all()],
            }
            for n in needs
        ],
        "dependencies": [{"provider": d.provider.slug, "note": d.note} for d in deps],
    }
    return content


def _first_sentence(text: str) -> str:
    """The first sentence of Markdown prose, as plain text, for the network list."""
    text = " ".join(nh3.clean(render_markdown(text), tags=set()).split())
    text = html.unescape(text)
    for stop in (". ", "\n"):
        if stop in text:
            text = text.split(stop, 1)[0] + ("." if stop == ". " else "")
            break
    return text[:300]


def apply_approved(service: Service, version: ContractVersion) -> None:
    """Copy what the network list filters on from the newly approved version."""
    service.current_version = version
    service.name = version.name
    service.evolution_stage = version.evolution_stage
    service.user_type = version.user_type
    service.summary = _first_sentence(version.purpose)
    service.revision += 1
    service.save()


def write_decommissioned_version(*, actor: Person, service: Service, reasons: str, migration_path: str,
                                 note: str) -> ContractVersion:
    """Part of the act that decommissions a service (it records no audit event of its
    own): a new approved contract version keeping the reasons, so the organisation keeps
    the lesson, and the migration path for consumers (model 5.2)."""
    service = Service.objects.select_for_update(no_key=True).get(pk=service.pk)
    number = (service.versions.order_by("-number").values_list("number", flat=True).first() or 0) + 1
    content = read_content(service.current_version)
    now = timezone.now()
    version = ContractVersion(
        service=service, number=number, status=VersionStatus.DRAFT, lifecycle_stage=Lifecycle.DECOMMISSIONED,
        created_by=actor, change_note=note, decommission_reasons=reasons,
    )
    content["migration_path"] = migration_path
    # the contract is kept exactly as it was, links included, whatever has changed since
    providers = Service.objects.in_bulk([d["provider"] for d in content["dependencies"]], field_name="slug")
    for d in content["dependencies"]:
        d["provider"] = providers[d["provider"]]
    write_content(version, content)
    version.decommission_reasons = reasons
    version.status = VersionStatus.APPROVED
    version.submitted_at = now
    version.approved_by = actor
    version.approved_at = now
    version.save()
    apply_approved(service, version)
    return version
