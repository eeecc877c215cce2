import os
import secrets

import segno
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import User
from damane.roles import AGENT, SUPERVISOR, TREATY_ROLE

# Every staff role of the portal and the groups that make it, from where each group is
# defined (damane/roles.py). A role gives only its own pages:
# a treaty officer is not an agent, so does not browse the insured records
# (docs/backoffice.md, "Staff roles"). A new role is one entry here.
ROLES = {
    "agent": ((AGENT,), "agency counter: insured records, requests, certificates, identity changes"),
    "supervisor": ((AGENT, SUPERVISOR), "an agent who also decides (four eyes), reads and exports the audit trail"),
    "treaty": ((TREATY_ROLE,), "International Treaties service: treaty requests, foreign periods, their certificate"),
}


def groups_for(roles) -> list[str]:
    """The groups of ``roles``, each once, in the order of ``ROLES``."""
    return list(dict.fromkeys(group for role in ROLES if role in roles for group in ROLES[role][0]))


class Command(BaseCommand):
    help = (
        "Create an agency staff account with the given role(s) and a TOTP device, and print the otpauth:// URI and "
        "its QR code for the authenticator app. Roles: "
        + "; ".join(f"{name} ({what})" for name, (_groups, what) in ROLES.items())
        + ". The password comes from DAMANE_STAFF_PASSWORD, or is generated and printed once."
    )

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument(
            "--role",
            action="append",
            choices=list(ROLES),
            dest="roles",
            default=[],
            help="The account's role; repeat it for a person holding two (e.g. --role agent --role treaty).",
        )
        parser.add_argument("--supervisor", action="store_true", help="Same as --role supervisor.")
        parser.add_argument("--email", default="")
        parser.add_argument("--first-name", default="")
        parser.add_argument("--last-name", default="")
        parser.add_argument("--no-qr", action="store_true", help="Do not draw the QR code in the terminal.")

    def handle(self, *args, username, roles, supervisor, email, first_name, last_name, no_qr, **options):
        roles = list(dict.fromkeys([*roles, *(["supervisor"] if supervisor else [])]))
        if not roles:
            raise CommandError(f"Give the account's role: --role {' | '.join(ROLES)} (repeat it for several).")
        if User.objects.filter(username=username).exists():
            raise CommandError(f"A user named {username!r} already exists.")
        if username.isdigit():
            raise CommandError("Staff usernames must not look like a CNSS number.")
        names = groups_for(roles)
        password = os.environ.get("DAMANE_STAFF_PASSWORD") or secrets.token_urlsafe(18)
        with transaction.atomic():
            user = User.objects.create_user(
                username=username,
                password=password,
                email=email,
                first_name=first_name,
                last_name=last_name,
                is_staff=True,
            )
            user.groups.add(*[Group.objects.get_or_create(name=name)[0] for name in names])
            device = TOTPDevice.objects.create(user=user, name="default", confirmed=True)
        self.stdout.write(
            self.style.SUCCESS(f"Created staff user {username}: {', '.join(roles)} (groups {', '.join(names)}).")
        )
        if not os.environ.get("DAMANE_STAFF_PASSWORD"):
            self.stdout.write(f"Password (shown once): {password}")
        self.stdout.write(f"TOTP URI: {device.config_url}")
        if not no_qr:
            segno.make(device.config_url, error="m").terminal(out=self.stdout, compact=True)
