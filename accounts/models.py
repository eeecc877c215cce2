"""Portal accounts: insured persons (linked to the registry) and agency staff.

Besides the user itself: registrations waiting for their SMS code, the one-time
codes (stored as HMACs only), failure counters with their locks, and the outbox
of every SMS sent. The rules are in docs/accounts.md.
"""

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class User(AbstractUser):
    """An insured person's account (``insured`` set) or a staff account (``is_staff``).

    Insured accounts log in with their CNSS number (the username) or e-mail.
    """

    email = models.EmailField(_("e-mail address"), blank=True)
    insured = models.OneToOneField(
        "registry.Insured",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="account",
        verbose_name=_("insured person"),
    )
    # Language of the e-mails and SMS the account receives outside a request.
    language = models.CharField(_("language"), max_length=8, blank=True)
    # Set once the SMS code proved the phone. An inactive account with this set
    # was disabled by the agency, and registering again must not revive it.
    activated_at = models.DateTimeField(_("activated at"), null=True, blank=True)

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        constraints = [
            models.UniqueConstraint(
                models.functions.Lower("email"), condition=~Q(email=""), name="user_email_unique_ci"
            ),
            models.CheckConstraint(
                condition=Q(insured__isnull=True) | Q(is_staff=False), name="user_insured_is_not_staff"
            ),
        ]

    @property
    def is_insured(self) -> bool:
        return self.insured_id is not None


class Registration(models.Model):
    """One attempt to open an account, kept apart from the account until the SMS code proves the phone.

    The e-mail and password typed at registration only reach the account when
    *this* registration's code is entered, so a second registration for the same
    CNSS number (by someone who knows the CNSS number and CIN but not the phone)
    can never hand its password to the account.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="registrations", verbose_name=_("account")
    )
    email = models.EmailField(_("e-mail address"))
    # A password hash, as in User.password: never the clear password.
    password = models.CharField(_("password"), max_length=128)
    language = models.CharField(_("language"), max_length=8, blank=True)
    ip_address = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    created_at = models.DateTimeField(_("started at"), auto_now_add=True)
    expires_at = models.DateTimeField(_("expires at"))
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)
    # What a stranger can see, kept alike for every registration of a matching pair
    # (docs/accounts.md): a decoy (the account is active or disabled, or the e-mail
    # is taken) is never sent a code and can never be activated, but walks the same
    # states: when its code "went", how many wrong tries it has had.
    decoy = models.BooleanField(_("decoy"), default=False)
    sent_at = models.DateTimeField(_("code sent at"), null=True, blank=True)
    tries = models.PositiveSmallIntegerField(_("wrong tries on this code"), default=0)

    class Meta:
        verbose_name = _("registration")
        verbose_name_plural = _("registrations")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.user} {self.created_at:%Y-%m-%d %H:%M}"


class SmsMessage(models.Model):
    """The outbox: one row per SMS the portal sends, and the idempotency key of its task.

    ``body`` is stored with the one-time code replaced by bullets: the clear code
    exists only in the message itself (docs/security.md §2). A message is ``queued``
    when the request commits, ``sending`` while a worker has handed it to the
    provider and not yet heard back, then ``sent`` or ``failed``; a task finding
    it in any state but ``queued`` sends nothing (docs/operations.md).
    """

    class Status(models.TextChoices):
        QUEUED = "queued", _("queued")
        SENDING = "sending", _("sending")
        SENT = "sent", _("sent")
        FAILED = "failed", _("failed")

    to = models.CharField(_("to"), max_length=16, db_index=True)
    body = models.TextField(_("text (codes hidden)"))
    purpose = models.CharField(_("purpose"), max_length=20)
    backend = models.CharField(_("backend"), max_length=20)
    status = models.CharField(_("status"), max_length=8, choices=Status.choices, default=Status.QUEUED)
    provider_id = models.CharField(_("provider id"), max_length=64, blank=True)
    error = models.TextField(_("error"), blank=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="sms_messages"
    )
    # The text is written by the worker, in the language of the request that asked for it.
    language = models.CharField(_("language"), max_length=8, blank=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    # When the last attempt handed the message to the provider.
    claimed_at = models.DateTimeField(_("last attempt at"), null=True, blank=True)
    # A failed attempt the provider may take later: the outbox sweep sends it again from then.
    next_attempt_at = models.DateTimeField(_("next attempt at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)

    class Meta:
        verbose_name = _("SMS message")
        verbose_name_plural = _("SMS outbox")
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["to", "status", "created_at"]),
            # The outbox sweep reads the few unfinished rows of a large table.
            models.Index(
                fields=["status", "created_at"],
                condition=models.Q(status__in=["queued", "sending"]),
                name="accounts_sms_unfinished",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.to} {self.purpose} {self.status}"


class OutboundEmail(models.Model):
    """The e-mail outbox: one row per notice, and the idempotency key of its task.

    The worker renders ``template`` with ``context`` in ``language`` when it sends,
    so no rendered text (nor a password-reset token) is stored. States as for
    ``SmsMessage``.
    """

    Status = SmsMessage.Status

    to = models.EmailField(_("to"))
    template = models.CharField(_("template"), max_length=60)
    context = models.JSONField(_("context"), default=dict, blank=True)
    language = models.CharField(_("language"), max_length=8, blank=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="outbound_emails"
    )
    status = models.CharField(_("status"), max_length=8, choices=Status.choices, default=Status.QUEUED)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    claimed_at = models.DateTimeField(_("last attempt at"), null=True, blank=True)
    next_attempt_at = models.DateTimeField(_("next attempt at"), null=True, blank=True)
    error = models.TextField(_("error"), blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)

    class Meta:
        verbose_name = _("e-mail")
        verbose_name_plural = _("e-mail outbox")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status", "created_at"])]

    def __str__(self) -> str:
        return f"{self.template} {self.status}"


class OneTimeCode(models.Model):
    """A code sent by SMS, bound to one account and one purpose, stored as an HMAC."""

    class Purpose(models.TextChoices):
        ACTIVATION = "activation", _("account activation")
        LOGIN = "login", _("login")
        PHONE_CHANGE = "phone_change", _("phone change")
        RECOVERY = "recovery", _("account recovery")

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="one_time_codes")
    purpose = models.CharField(_("purpose"), max_length=20, choices=Purpose.choices)
    # Activation codes also belong to one registration (see Registration).
    registration = models.ForeignKey(
        Registration, on_delete=models.CASCADE, null=True, blank=True, related_name="codes"
    )
    code_hmac = models.CharField(max_length=64)
    sms = models.ForeignKey(SmsMessage, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    expires_at = models.DateTimeField(_("expires at"))
    tries = models.PositiveSmallIntegerField(_("wrong tries"), default=0)
    used_at = models.DateTimeField(_("used at"), null=True, blank=True)
    # A newer code for the same purpose replaces this one.
    invalidated_at = models.DateTimeField(_("invalidated at"), null=True, blank=True)

    class Meta:
        verbose_name = _("one-time code")
        verbose_name_plural = _("one-time codes")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["user", "purpose", "used_at", "invalidated_at"])]

    def __str__(self) -> str:
        return f"{self.user} {self.purpose} {self.created_at:%Y-%m-%d %H:%M}"


class Throttle(models.Model):
    """A failure counter over a window, with a lock once it reaches its limit.

    Rows are locked (SELECT ... FOR UPDATE) while counting, so concurrent failures
    all count (docs/security.md §3, 8, 18). ``key`` names what is counted, e.g.
    ``login:user:42`` or ``otp:user:42``.
    """

    key = models.CharField(max_length=100, unique=True)
    failures = models.PositiveIntegerField(default=0)
    window_started_at = models.DateTimeField(null=True, blank=True)
    locked_until = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("failure counter")
        verbose_name_plural = _("failure counters")

    def __str__(self) -> str:
        return f"{self.key}: {self.failures}"


class RecoveryRequest(models.Model):
    """What a stranger can see of SMS recovery for one CNSS number / CIN pair (docs/accounts.md).

    One row per pair that was ever typed on the recovery form, whether or not it
    names an account: ``key`` is an HMAC of the pair, never the numbers. Every
    answer that does not take the right code (the 60-second spacing, "not valid",
    "too many wrong tries for this code", "expired") comes from this row alone, so
    a made-up pair walks exactly the states of a real one. ``user`` is the
    account the pair names (None for a made-up pair); only the worker that sends
    the SMS and the check of a right code read it.
    """

    key = models.CharField(_("pair key"), max_length=64, unique=True)
    user = models.ForeignKey(
        "accounts.User", on_delete=models.CASCADE, null=True, blank=True, related_name="recovery_requests"
    )
    sent_at = models.DateTimeField(_("code sent at"), null=True, blank=True)
    tries = models.PositiveSmallIntegerField(_("wrong tries on this code"), default=0)
    used_at = models.DateTimeField(_("code used at"), null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("recovery request")
        verbose_name_plural = _("recovery requests")

    def __str__(self) -> str:
        return f"recovery {self.key[:8]}…"
