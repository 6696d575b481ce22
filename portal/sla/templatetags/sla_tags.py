from datetime import timedelta

from django import template

from portal.sla.forms import format_duration

register = template.Library()


@register.filter
def business_duration(value: timedelta | None) -> str:
    """`42h 30m` for a business-time target (the form's own notation)."""
    return format_duration(value) if value is not None else ""
