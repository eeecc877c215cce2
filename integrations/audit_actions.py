"""The audit actions of integrators and share codes (audit/actions.py)."""

from django.utils.translation import gettext_lazy as _

from audit.actions import register

register("integrations.organisation.registered", _("Integrator registered"))
register("integrations.organisation.suspended", _("Integrator suspended"))
register("integrations.organisation.reinstated", _("Integrator reinstated"))
register("integrations.api_key.issued", _("API key issued"))
register("integrations.api_key.rotated", _("API key rotated"))
register("integrations.api_key.revoked", _("API key revoked"))
register("integrations.share_code.created", _("Share code created"))
register("integrations.share_code.revoked", _("Share code revoked"))
register("integrations.api_key.restricted", _("API key limited to scopes and networks"))
register("integrations.api_key.sandbox_issued", _("Sandbox API key issued"))
register("integrations.console_account.created", _("Integrator console account created"))
register("integrations.webhook.registered", _("Webhook endpoint registered"))
register("integrations.webhook.enabled", _("Webhook endpoint enabled"))
register("integrations.webhook.disabled", _("Webhook endpoint disabled"))
register("integrations.webhook.replayed", _("Webhook delivery sent again"))
