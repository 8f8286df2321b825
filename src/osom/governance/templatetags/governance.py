"""Governance on pages of other apps and in the site's frame, as template tags, so
those apps need know nothing of guidance or notifications: the guidance a service
rejected (on its page), the count of a person's unread notifications (in the
masthead), and the burn-up chart of a mandate, drawn as SVG on the server."""

from __future__ import annotations

import datetime as dt
import math

from django import template

from osom.core.models import Notification
from osom.core.orgcache import current_organisation

from .. import queries

register = template.Library()

__all__ = ["guidance_rejections", "unread_notifications", "burn_up_chart", "chart_geometry"]


@register.inclusion_tag("governance/_rejections.html", takes_context=True)
def guidance_rejections(context, service):
    """The published guidance ``service`` rejected, with its rationale: what it accounts
    for at its next assessment (one query)."""
    return {
        "service": service,
        "rejections": [{**r, "decided_on": dt.date.fromisoformat(r["decided_at"])}
                       for r in queries.rejected_guidance_for(service)],
        "terms": context.get("terms") or current_organisation().terms(),
    }


@register.simple_tag(takes_context=True)
def unread_notifications(context) -> int:
    """How many of the signed-in person's notifications are unread: one COUNT query,
    made at most once per request."""
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return 0
    count = getattr(request, "_osom_unread", None)
    if count is None:
        count = Notification.objects.filter(person=user, read_at__isnull=True).count()
        request._osom_unread = count
    return count


# ---------------------------------------------------------------- the burn-up chart

WIDTH, HEIGHT = 640, 280
LEFT, RIGHT, TOP, BOTTOM = 52, 20, 18, 52


def _steps(xs: list[float], ys: list[float], zero: float) -> str:
    """An SVG path from zero at the issue date, holding each value until the next day
    with a change."""
    if not xs:
        return ""
    parts = [f"M{xs[0]:.1f},{zero:.1f}", f"L{xs[0]:.1f},{ys[0]:.1f}"]
    for i in range(1, len(xs)):
        parts.append(f"L{xs[i]:.1f},{ys[i - 1]:.1f}")
        parts.append(f"L{xs[i]:.1f},{ys[i]:.1f}")
    return " ".join(parts)


def chart_geometry(points: list[dict], due_date: dt.date | None) -> dict | None:
    """Coordinates of the burn-up chart: the done and acknowledged step lines, the total
    line, the axes' ticks and the due date, from :func:`osom.governance.queries.burn_up`."""
    if not points:
        return None
    days = [dt.date.fromisoformat(p["date"]) for p in points]
    start = days[0]
    end = max(days[-1], due_date or days[-1])
    span = max((end - start).days, 1)
    total = max(points[-1]["total"], 1)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x(day: dt.date) -> float:
        return LEFT + (day - start).days / span * plot_w

    def y(n: int) -> float:
        return TOP + plot_h - n / total * plot_h

    xs = [x(d) for d in days]
    done = [y(p["done"]) for p in points]
    acknowledged = [y(p["acknowledged"]) for p in points]
    step = max(1, math.ceil(total / 5))
    y_ticks = [{"value": n, "y": round(y(n), 1)} for n in range(0, total + 1, step)]
    if y_ticks[-1]["value"] != total:
        y_ticks.append({"value": total, "y": round(y(total), 1)})
    count = min(span, 4)
    tick_days = sorted({start + dt.timedelta(days=round(i * span / count)) for i in range(count + 1)})
    x_ticks = [{"label": f"{d.day} {d:%b}", "x": round(x(d), 1), "iso": d.isoformat()} for d in tick_days]
    last = points[-1]
    return {
        "width": WIDTH, "height": HEIGHT, "left": LEFT, "right": WIDTH - RIGHT, "top": TOP, "bottom": HEIGHT - BOTTOM,
        "mid_x": LEFT + plot_w / 2, "mid_y": TOP + plot_h / 2, "axis_label_y": HEIGHT - 8, "tick_label_y": HEIGHT - BOTTOM + 18,
        "done_path": _steps(xs, done, y(0)), "acknowledged_path": _steps(xs, acknowledged, y(0)),
        "done_end": {"x": round(xs[-1], 1), "y": round(done[-1], 1)},
        "acknowledged_end": {"x": round(xs[-1], 1), "y": round(acknowledged[-1], 1)},
        "total_y": round(y(points[-1]["total"]), 1), "y_ticks": y_ticks, "x_ticks": x_ticks,
        "due": {"x": round(x(due_date), 1), "label": f"Due {due_date.day} {due_date:%b}"} if due_date and start <= due_date <= end else None,
        "last": last, "last_day": days[-1], "start": start,
    }


@register.inclusion_tag("governance/_burn_up.html")
def burn_up_chart(points, mandate):
    """The burn-up of a mandate as inline SVG with a title and description, and the same
    figures as a table for screen readers."""
    rows = [{**p, "day": dt.date.fromisoformat(p["date"])} for p in points]
    return {"chart": chart_geometry(points, mandate.due_date), "points": rows, "mandate": mandate}
