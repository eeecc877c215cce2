"""The staff roles in templates, read from damane/roles.py.

``{% load staff_roles %}``, then ``request.user|is_supervisor``,
``request.user|is_agency_staff``, ``request.user|is_treaty_officer``, or
``{% held_roles request.user as roles %}`` for the roles a person holds (each
with its translated ``label``).
"""

from django import template

from damane import roles

register = template.Library()


@register.filter
def is_supervisor(user) -> bool:
    return roles.is_supervisor(user)


@register.filter
def is_agency_staff(user) -> bool:
    return roles.is_agency_staff(user)


@register.filter
def is_treaty_officer(user) -> bool:
    return roles.is_treaty_officer(user)


@register.simple_tag
def held_roles(user) -> list[roles.Role]:
    return roles.held_roles(user)
