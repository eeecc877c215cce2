"""Portal accounts: insured persons (linked to the registry) and agency staff."""

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models import Q
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
