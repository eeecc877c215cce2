"""E-mails to account owners, rendered in the owner's language."""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.utils import translation

logger = logging.getLogger("accounts.notifications")


def send_notice(*, to: str, template: str, context: dict | None = None, language: str = "") -> None:
    """Send ``templates/accounts/email/<template>_subject.txt`` and ``_body.txt`` to ``to``.

    A mail failure is logged, never shown: the change it reports has happened.
    """
    if not to:
        return
    context = {"site_url": settings.SITE_URL, **(context or {})}
    with translation.override(language or settings.LANGUAGE_CODE):
        subject = render_to_string(f"accounts/email/{template}_subject.txt", context).strip()
        body = render_to_string(f"accounts/email/{template}_body.txt", context)
    try:
        send_mail(" ".join(subject.splitlines()), body, None, [to])
    except Exception:  # any mail transport error: SMTP, DNS, socket
        logger.exception("could not send the %s e-mail", template)
