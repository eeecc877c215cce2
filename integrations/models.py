"""Integrator organisations and their API keys; share codes an insured person gives
a named recipient; and the record of every use of both (docs/integrators.md).

Secrets are never stored: an API key is kept as its SHA-256 (it carries 256 random
bits, so a slow hash adds nothing), a share code as an HMAC keyed with the server's
secret (integrations/tokens.py); each is shown once.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Organisation(models.Model):
    """A bank, embassy, employer or other body that verifies certificates through the API."""

    class Kind(models.TextChoices):
        BANK = "bank", _("Bank")
        EMBASSY = "embassy", _("Embassy or consulate")
        EMPLOYER = "employer", _("Employer")
        OTHER = "other", _("Other")

    # Unique whatever the case: the constraint organisation_name_unique_any_case below.
    name = models.CharField(_("name"), max_length=120)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    contact_email = models.EmailField(_("contact e-mail"))
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("registered at"), default=timezone.now)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = _("integrator organisation")
        verbose_name_plural = _("integrator organisations")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(Lower("name"), name="organisation_name_unique_any_case"),
        ]

    def __str__(self) -> str:
        return self.name


# What a key may call (docs/integrators.md, "Scopes and networks"); a key issued
# before scopes existed may call all three.
SCOPES = ("verify", "share", "batch")


def all_scopes() -> list[str]:
    return list(SCOPES)


class ApiKeyQuerySet(models.QuerySet):
    def usable(self, now=None):
        now = now or timezone.now()
        return self.filter(revoked_at__isnull=True, expires_at__gt=now, organisation__is_active=True)


class ApiKey(models.Model):
    """One API key of an organisation: ``dmn_<prefix>_<secret>``, found by its prefix, checked by its hash."""

    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="keys")
    label = models.CharField(_("label"), max_length=80)
    prefix = models.CharField(_("key prefix"), max_length=16, unique=True)
    secret_sha256 = models.CharField(max_length=64)
    quota_per_minute = models.PositiveIntegerField(_("look-ups a minute"))
    quota_per_day = models.PositiveIntegerField(_("look-ups a day"))
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    expires_at = models.DateTimeField(_("expires at"))
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    revocation_reason = models.CharField(_("reason for revocation"), max_length=200, blank=True)
    replaced_by = models.OneToOneField(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="replaces", verbose_name=_("replaced by")
    )
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True)
    # Which of SCOPES the key may call, and the source networks (CIDR, IPv4 or IPv6) it may
    # call from; an empty list of networks allows any address.
    scopes = models.JSONField(_("scopes"), default=all_scopes)
    allowed_networks = models.JSONField(_("source networks"), default=list, blank=True)

    objects = ApiKeyQuerySet.as_manager()

    class Meta:
        verbose_name = _("API key")
        verbose_name_plural = _("API keys")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=Q(quota_per_minute__gte=1), name="api_key_quota_minute_positive"),
            models.CheckConstraint(condition=Q(quota_per_day__gte=1), name="api_key_quota_day_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.organisation} · {self.prefix}"

    def state(self, now=None) -> str:
        now = now or timezone.now()
        if self.revoked_at:
            return "revoked"
        if self.expires_at <= now:
            return "expired"
        return "active"


class IntegratorVerification(models.Model):
    """A genuine certificate looked up by an integrator with its key: shown to the holder.

    ``insured`` is the holder when they are in the registry (their dashboard lists
    it). A non-affiliation certificate of a person absent from the registry has no
    registered holder: the look-up is still recorded against the certificate (and so
    its unregistered person) and counted for the organisation, with ``insured`` empty
    (docs/integrators.md).
    """

    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="verifications")
    api_key = models.ForeignKey(ApiKey, on_delete=models.PROTECT, related_name="verifications")
    certificate = models.ForeignKey(
        "certificates.Certificate", on_delete=models.PROTECT, related_name="integrator_verifications"
    )
    insured = models.ForeignKey(
        "registry.Insured",
        on_delete=models.PROTECT,
        related_name="integrator_verifications",
        null=True,
        blank=True,
    )
    at = models.DateTimeField(_("checked at"), default=timezone.now)

    class Meta:
        verbose_name = _("integrator verification")
        verbose_name_plural = _("integrator verifications")
        ordering = ["-at"]
        indexes = [models.Index(fields=["insured", "-at"])]

    def __str__(self) -> str:
        return f"{self.organisation} · {self.certificate_id} · {self.at:%Y-%m-%d %H:%M}"


class ShareCodeQuerySet(models.QuerySet):
    def usable(self, now=None):
        return self.filter(revoked_at__isnull=True, expires_at__gt=now or timezone.now())


class ShareCode(models.Model):
    """A code an insured person gives a named recipient, showing only the facts they chose, as of the moment of use."""

    insured = models.ForeignKey("registry.Insured", on_delete=models.PROTECT, related_name="share_codes")
    employer = models.ForeignKey("registry.Employer", on_delete=models.PROTECT, related_name="+")
    recipient = models.CharField(_("recipient"), max_length=120)
    code_digest = models.CharField(max_length=64, unique=True)
    # The last symbols, so the holder can tell codes apart; not enough to use one.
    hint = models.CharField(max_length=4)
    show_employment = models.BooleanField(_("employment still active, and with whom"), default=False)
    show_employer_status = models.BooleanField(_("the employer's declaration status"), default=False)
    show_last_period = models.BooleanField(_("the last declared period"), default=False)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    expires_at = models.DateTimeField(_("expires at"))
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)

    objects = ShareCodeQuerySet.as_manager()

    class Meta:
        verbose_name = _("share code")
        verbose_name_plural = _("share codes")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(show_employment=True) | Q(show_employer_status=True) | Q(show_last_period=True),
                name="share_code_shows_something",
            ),
            models.CheckConstraint(condition=Q(expires_at__gt=models.F("created_at")), name="share_code_expires"),
        ]

    def __str__(self) -> str:
        return f"…{self.hint} → {self.recipient}"

    def state(self, now=None) -> str:
        now = now or timezone.now()
        if self.revoked_at:
            return "revoked"
        if self.expires_at <= now:
            return "expired"
        return "active"


class ShareCodeUse(models.Model):
    """One time a share code was entered successfully: on the public page or through the API with a key."""

    class Channel(models.TextChoices):
        PAGE = "page", _("public page")
        API = "api", _("API")

    share_code = models.ForeignKey(ShareCode, on_delete=models.PROTECT, related_name="uses")
    channel = models.CharField(_("channel"), max_length=4, choices=Channel.choices)
    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, null=True, blank=True, related_name="share_code_uses"
    )
    at = models.DateTimeField(_("used at"), default=timezone.now)

    class Meta:
        verbose_name = _("share code use")
        verbose_name_plural = _("share code uses")
        ordering = ["-at"]

    def __str__(self) -> str:
        return f"{self.share_code} · {self.channel} · {self.at:%Y-%m-%d %H:%M}"


# Webhooks (issue 26 item 1) and the organisation's console (item 6) live in their own modules.
from integrations.console.models import ConsoleAccount  # noqa: E402, F401
from integrations.webhooks.models import EventType, WebhookDelivery, WebhookEndpoint  # noqa: E402, F401
