"""The fund's agencies that take ID-update visits: the help page's agency finder and the ID-update request."""

from django.utils.translation import gettext_lazy as _

AGENCIES = [
    ("01", _("Casablanca — Agence Zerktouni")),
    ("05", _("Rabat — Agence Hassan")),
    ("08", _("Fès — Agence Atlas")),
    ("09", _("Meknès — Agence Hamria")),
    ("12", _("Tanger — Agence Iberia")),
    ("14", _("Tétouan — Agence Centre")),
    ("16", _("Oujda — Agence Centre")),
    ("20", _("Marrakech — Agence Guéliz")),
    ("30", _("Agadir — Agence Talborjt")),
]
