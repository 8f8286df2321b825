"""Template helpers available in every template (registered as builtins)."""

from django import template
from django.utils.safestring import mark_safe

from osom.core.addresses import service_address as _service_address
from osom.core.markdown import render_markdown
from osom.core.numbers import plain_number
from osom.core.policy import can as _can

register = template.Library()


@register.filter
def markdown(text):
    return mark_safe(render_markdown(text))  # sanitised by nh3 in render_markdown


@register.simple_tag(takes_context=True)
def can(context, act, service=None, obj=None):
    request = context.get("request")
    return _can(getattr(request, "user", None), act, service=service, obj=obj)


@register.simple_tag(takes_context=True)
def url_with(context, **kwargs):
    """The current query string with some parameters replaced (for filters and pages)."""
    params = context["request"].GET.copy()
    for key, value in kwargs.items():
        if value in (None, ""):
            params.pop(key, None)
        else:
            params[key] = value
    encoded = params.urlencode()
    return f"?{encoded}" if encoded else "?"


@register.filter(name="number")
def number_filter(value):
    """A Decimal as people write it: 100, not 1E+2 or 100.0000."""
    return "" if value is None else plain_number(value)


@register.filter
def service_address(service):
    """``{{ service|service_address }}``: its page's address, as ``{% url 'network:service'
    service.slug %}`` gives it, for lists that link many services (made once, not
    reversed for each)."""
    return _service_address(service)
