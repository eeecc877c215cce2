"""Demo accounts: one activated insured account, staff accounts and an integrator's console account, with TOTP.

Development only: refuses to run when DEBUG is off. The passwords are printed
in README.md on purpose; the TOTP secrets are random and written to
VAR_DIR/demo-staff.txt (and `manage.py demo_totp USERNAME` prints the current code).
"""

from django.conf import settings
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import User
from damane.roles import AGENT, SUPERVISOR, TREATY, groups_for
from integrations.console.models import ConsoleAccount
from integrations.console.services import account_create
from integrations.models import Organisation
from integrations.services import organisation_register
from registry.models import Insured

INSURED_DEMO = ("100234561", "amina.bennani@example.ma", "damane demo 2026")
STAFF_DEMO = [
    ("agent.demo", groups_for([AGENT])),
    ("superviseur.demo", groups_for([SUPERVISOR])),
    # Two officers of the International Treaties service: one records, the other approves.
    ("traites.demo", groups_for([TREATY])),
    ("traites2.demo", groups_for([TREATY])),
]
# An integrator (a bank) and its contact, who logs in to the console at /integrators/.
INTEGRATOR_DEMO = ("Banque Démo", "banque.demo", "contact@banque-demo.example.ma")
STAFF_PASSWORD = "damane staff demo 2026"  # noqa: S105 - demo only, refused when DEBUG is off


class Command(BaseCommand):
    help = (
        "Create the demo accounts (development only): Amina BENNANI's insured account, already activated, and "
        "staff accounts (agent.demo, superviseur.demo, traites.demo, traites2.demo) and an integrator's console "
        "account (banque.demo) with TOTP devices. Idempotent."
    )

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="Say what would be created, change nothing.")

    def handle(self, *args, dry_run=False, **options):
        if not settings.DEBUG:
            raise CommandError("Demo accounts are for development only (DEBUG is off).")
        if dry_run:
            self.stdout.write(f"Would create {INSURED_DEMO[0]} and {', '.join(name for name, _ in STAFF_DEMO)}.")
            return
        lines = []
        with transaction.atomic():
            cnss, email, password = INSURED_DEMO
            insured = Insured.objects.filter(cnss_number=cnss).first()
            if insured is None:
                raise CommandError("Seed the registry first: python manage.py seed_demo")
            user, created = User.objects.get_or_create(
                username=cnss, defaults={"insured": insured, "email": email, "activated_at": timezone.now()}
            )
            if created:
                user.set_password(password)
                user.save()
            for username, groups in STAFF_DEMO:
                staff, created = User.objects.get_or_create(username=username, defaults={"is_staff": True})
                if created:
                    staff.set_password(STAFF_PASSWORD)
                    staff.save()
                    staff.groups.add(*[Group.objects.get_or_create(name=name)[0] for name in groups])
                device = TOTPDevice.objects.filter(user=staff).first() or TOTPDevice.objects.create(
                    user=staff, name="demo", confirmed=True
                )
                lines.append(f"{username}: {device.config_url}")
            name, username, contact_email = INTEGRATOR_DEMO
            organisation = Organisation.objects.filter(name=name).first() or organisation_register(
                name=name,
                kind=Organisation.Kind.BANK,
                contact_email=contact_email,
                actor=User.objects.get(username="superviseur.demo"),
            )
            if not ConsoleAccount.objects.filter(user__username=username).exists():
                account_create(
                    organisation=organisation, username=username, email=contact_email, password=STAFF_PASSWORD
                )
            device = TOTPDevice.objects.filter(user__username=username).first()
            lines.append(f"{username}: {device.config_url}")
        path = settings.VAR_DIR / "demo-staff.txt"
        path.write_text("\n".join(lines) + "\n")
        path.chmod(0o600)
        self.stdout.write(f"Insured demo login: {cnss} / {password}")
        names = ", ".join(name for name, _groups in STAFF_DEMO)
        self.stdout.write(f"Staff demo logins: {names} / {STAFF_PASSWORD} (TOTP: {path})")
        self.stdout.write(
            f"Integrator console demo login: {INTEGRATOR_DEMO[1]} / {STAFF_PASSWORD} at /integrators/login/"
        )
        self.stdout.write(
            "Current TOTP code: .venv/bin/python manage.py demo_totp agent.demo (or another staff or console login)"
        )
