"""The staff roles in templates, read from damane/roles.py: ``{% load staff_roles %}``, then
``request.user|is_supervisor`` (the back office's sub-navigation shows the audit trail to supervisors)."""

from django import template

from damane import roles

register = template.Library()


@register.filter
def is_supervisor(user) -> bool:
    return roles.is_supervisor(user)
