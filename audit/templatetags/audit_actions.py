"""``{% load audit_actions %}``, then ``entry.action|action_label``: the translated label of an audit action."""

from django import template

from audit.actions import actions

register = template.Library()


@register.filter
def action_label(name: str) -> str:
    return actions.label(name)
