"""People the registry has never known, recorded at the agency for a non-affiliation certificate.

An agent records the person on sight of their national ID. Before anything is
issued the registry is searched (``unregistered.matching``); a possible match
waits for a supervisor other than the agent (four eyes, also a database
constraint). When the person is declared later, the record is linked to their
registry record (``unregistered.services.unregistered_link``).
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from casework.models import Decision, four_eyes_constraints
from registry.validators import validate_cin


class UnregisteredPerson(Decision):
    class Status(models.TextChoices):
        REVIEW = "review", _("Possible match: waiting for a supervisor")
        CLEAR = "clear", _("Absent from the registry")
        SAME_PERSON = "same_person", _("Found in the registry")
        LINKED = "linked", _("Declared since: linked to the registry")

    cin = models.CharField(_("national ID (CIN)"), max_length=8, unique=True, validators=[validate_cin])
    last_name = models.CharField(_("last name"), max_length=60)
    first_name = models.CharField(_("first name"), max_length=60)
    last_name_ar = models.CharField(_("last name (Arabic)"), max_length=60)
    first_name_ar = models.CharField(_("first name (Arabic)"), max_length=60)
    birth_date = models.DateField(_("birth date"))
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("recorded by")
    )
    recorded_at = models.DateTimeField(_("recorded at"), auto_now_add=True)
    status = models.CharField(_("status"), max_length=12, choices=Status.choices)
    # Registry records that may be this person, as last searched:
    # [{"insured": id, "why": ["cin", "name_birth_date"]}].
    matches = models.JSONField(_("possible matches"), default=list, blank=True)
    # Registry records a supervisor ruled out: a later search finding only these does not block.
    ruled_out = models.JSONField(_("ruled out"), default=list, blank=True)
    linked_insured = models.ForeignKey(
        "registry.Insured",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="unregistered_records",
        verbose_name=_("registry record"),
    )
    linked_at = models.DateTimeField(_("linked at"), null=True, blank=True)

    class Meta:
        verbose_name = _("person absent from the registry")
        verbose_name_plural = _("people absent from the registry")
        ordering = ["-recorded_at"]
        constraints = [
            # Four eyes: whoever recorded the person never decides about them (casework.four_eyes). A record
            # is clear, or linked, with or without a decision (no possible match needed one).
            *four_eyes_constraints(
                prefix="unregistered",
                proposer="recorded_by",
                pending="review",
                decided=["same_person"],
                either=["clear", "linked"],
            ),
            models.CheckConstraint(
                condition=~Q(status__in=["same_person", "linked"]) | Q(linked_insured__isnull=False),
                name="unregistered_linked_has_record",
            ),
            models.CheckConstraint(
                condition=Q(status__in=["review", "clear", "same_person", "linked"]), name="unregistered_status"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.reference} {self.full_name}"

    @property
    def reference(self) -> str:
        return f"NR-{self.pk:07d}" if self.pk else "NR-"

    @property
    def full_name(self) -> str:
        return " ".join(part for part in (self.last_name, self.first_name) if part)

    @property
    def full_name_ar(self) -> str:
        return " ".join(part for part in (self.last_name_ar, self.first_name_ar) if part)

    @property
    def may_issue(self) -> bool:
        return self.status == self.Status.CLEAR
