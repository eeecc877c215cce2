from django import template

from damane.roles import is_supervisor as _is_supervisor

register = template.Library()


@register.filter
def is_supervisor(user) -> bool:
    return bool(getattr(user, "is_authenticated", False)) and _is_supervisor(user)
