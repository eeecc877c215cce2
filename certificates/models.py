"""Issued certificates: legally, snapshots.

A certificate row copies everything printed on it at issue time (``snapshot``)
and keeps the signed PDF exactly as delivered. Nothing here is recomputed from
the registry afterwards; a certificate is never deleted, only revoked.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from certificates import registry as kind_registry


class Channel(models.TextChoices):
    ONLINE = "online", _("online")
    AGENCY = "agency", _("agency")


class CertificateQuerySet(models.QuerySet):
    def for_insured(self, insured):
        return self.filter(insured=insured)

    def valid_on(self, day):
        return self.filter(revoked_at__isnull=True, valid_until__gte=day)


class Certificate(models.Model):
    # One of the kinds of certificates.registry (a folder each); the stored
    # values never change.
    kind = models.CharField(_("type"), max_length=20, choices=kind_registry.choices)
    number = models.CharField(_("number"), max_length=32, unique=True)
    # Opaque id in the QR code URL: 128 random bits or more (docs/security.md §14).
    public_id = models.CharField(_("public id"), max_length=64, unique=True)
    # What a person types on the verify page: >= 100 bits, no 0/O/1/I/L.
    verification_code = models.CharField(_("verification code"), max_length=40, unique=True)
    # The holder: an insured person, or (agency non-affiliation certificate) a
    # person absent from the registry; exactly one of the two.
    insured = models.ForeignKey(
        "registry.Insured", on_delete=models.PROTECT, null=True, blank=True, related_name="certificates"
    )
    unregistered_person = models.ForeignKey(
        "unregistered.UnregisteredPerson",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="certificates",
        verbose_name=_("person absent from the registry"),
    )
    # The scope: the employer concerned, for the types that have one.
    employer = models.ForeignKey(
        "registry.Employer", on_delete=models.PROTECT, null=True, blank=True, related_name="certificates"
    )
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices, default=Channel.ONLINE)
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    locale = models.CharField(_("language"), max_length=8, default="fr")
    issued_at = models.DateTimeField(_("issued at"), default=timezone.now)
    issued_on = models.DateField(_("issued on"))
    valid_until = models.DateField(_("valid until"))
    # Hash of the printed facts and options: an identical request the same day
    # returns the certificate already issued instead of a second one.
    request_fingerprint = models.CharField(max_length=64, db_index=True)
    snapshot = models.JSONField(_("snapshot"))
    pdf_sha256 = models.CharField(_("PDF SHA-256"), max_length=64, unique=True)
    pdf_size = models.PositiveIntegerField(_("PDF size"))
    signing_key_id = models.CharField(_("signing key id"), max_length=64)
    qr_key_id = models.CharField(_("QR key id"), max_length=64, blank=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    revocation_reason = models.TextField(_("revocation reason"), blank=True)
    superseded_by = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="supersedes"
    )

    objects = CertificateQuerySet.as_manager()

    class Meta:
        verbose_name = _("certificate")
        verbose_name_plural = _("certificates")
        ordering = ["-issued_at"]
        constraints = [
            models.CheckConstraint(condition=Q(valid_until__gte=models.F("issued_on")), name="certificate_validity"),
            models.CheckConstraint(
                condition=Q(revoked_at__isnull=True) | ~Q(revocation_reason=""), name="certificate_revocation_reason"
            ),
            models.CheckConstraint(
                condition=Q(insured__isnull=True, unregistered_person__isnull=False)
                | Q(insured__isnull=False, unregistered_person__isnull=True),
                name="certificate_one_holder",
            ),
        ]
        indexes = [models.Index(fields=["insured", "kind", "issued_on"])]

    def __str__(self) -> str:
        return self.number

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None

    def state_on(self, day) -> str:
        if self.revoked_at is not None:
            return "revoked"
        if day > self.valid_until:
            return "expired"
        return "valid"


class CertificateFileQuerySet(models.QuerySet):
    def of(self, certificate: Certificate):
        """The file of ``certificate``, through its month's partition only (certificates/retention.py)."""
        return self.filter(certificate=certificate, issued_on=certificate.issued_on)


class CertificateFile(models.Model):
    """The signed PDF as delivered, in the database so that it commits with its row.

    Kept ``DAMANE_PDF_RETENTION_MONTHS`` after its month of issue: on PostgreSQL
    the table is partitioned by ``issued_on`` (the certificate's) and a month is
    dropped at once (certificates/retention.py). What verifies a certificate
    lives on its row (the PDF's SHA-256 among it), so it still verifies after.
    """

    certificate = models.OneToOneField(Certificate, on_delete=models.PROTECT, related_name="file")
    # The partition key: the certificate's day of issue, copied.
    issued_on = models.DateField(_("issued on"))
    data = models.BinaryField()

    objects = CertificateFileQuerySet.as_manager()

    class Meta:
        verbose_name = _("certificate PDF")
        verbose_name_plural = _("certificate PDFs")

    def __str__(self) -> str:
        return f"PDF of {self.certificate_id}"


class CertificateNumberCounter(models.Model):
    """Certificate numbers on databases without sequences (the SQLite demo).

    PostgreSQL uses the ``certificate_number_seq`` sequence instead, which needs
    no row lock held across the rendering of a certificate.
    """

    name = models.CharField(max_length=20, unique=True)
    value = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.name}={self.value}"
