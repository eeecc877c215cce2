import secrets

from django.core.management.base import BaseCommand, CommandError

from accounts.models import User
from integrations.console.services import account_create
from integrations.models import Organisation


class Command(BaseCommand):
    help = (
        "Create the console account (/integrators/) of an integrator organisation's contact, with a TOTP device; "
        "print its password once and the otpauth:// URI for the authenticator app. The organisation is named by "
        "its id or its exact name. Audited (integrations.console_account.created)."
    )

    def add_arguments(self, parser):
        parser.add_argument("organisation", help="The organisation's id or exact name.")
        parser.add_argument("username")
        parser.add_argument("--email", default="", help="The contact's e-mail (default: the organisation's).")

    def handle(self, *args, organisation, username, email, **options):
        found = Organisation.objects.filter(pk=int(organisation)) if organisation.isdigit() else None
        found = (found or Organisation.objects.filter(name__iexact=organisation)).first()
        if found is None:
            raise CommandError(f"No organisation {organisation!r}.")
        if User.objects.filter(username=username).exists():
            raise CommandError(f"A user named {username!r} already exists.")
        if username.isdigit() or "@" in username:
            raise CommandError("Console usernames must not look like a CNSS number or an e-mail address.")
        password = secrets.token_urlsafe(18)
        _user, device = account_create(
            organisation=found, username=username, email=email or found.contact_email, password=password
        )
        self.stdout.write(self.style.SUCCESS(f"Created console user {username} for {found.name}."))
        self.stdout.write(f"Password (shown once): {password}")
        self.stdout.write(f"TOTP URI: {device.config_url}")
