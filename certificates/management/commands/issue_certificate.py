"""Issue one certificate from the command line, through the same service as the portal."""

from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from certificates import registry as kind_registry
from certificates import rules
from certificates.models import Channel
from certificates.services import CertificateBlocked, CertificateError, certificate_issue
from registry.models import Employer, Insured


class Command(BaseCommand):
    help = (
        "Issue a certificate for an insured person (agency batch use, benchmarks) through the portal's issuing "
        "service: same rules, same transaction, same audit entry. Prints the number and public id; exits 1 when "
        "the rules block it, naming the reason."
    )

    def add_arguments(self, parser):
        parser.add_argument("cnss_number", help="CNSS number of the insured person (9 digits)")
        parser.add_argument("kind", choices=[kind.value for kind in kind_registry.online_kinds()])
        parser.add_argument("--employer", metavar="AFFILIATION", help="affiliation number of the employer concerned")
        parser.add_argument(
            "--last-declared-period", action="store_true", help="state the last declared period (employer one behind)"
        )
        parser.add_argument("--agent", metavar="USERNAME", help="issue as this staff user (agency channel)")
        parser.add_argument("--locale", default="fr", choices=["fr", "ar", "en"])
        parser.add_argument("--output", type=Path, help="also write the signed PDF to this file")

    def handle(self, *args, cnss_number, kind, employer, last_declared_period, agent, locale, output, **options):
        insured = Insured.objects.filter(cnss_number=cnss_number).first()
        if insured is None:
            raise CommandError(f"no insured person with CNSS number {cnss_number}")
        employer_id = None
        if employer:
            found = Employer.objects.filter(affiliation_number=employer).first()
            if found is None:
                raise CommandError(f"no employer with affiliation number {employer}")
            employer_id = found.pk
        actor = None
        if agent:
            actor = get_user_model().objects.filter(username=agent, is_staff=True).first()
            if actor is None:
                raise CommandError(f"no staff user {agent}")
        try:
            certificate = certificate_issue(
                insured=insured,
                kind=kind,
                options=rules.Options(employer_id=employer_id, last_declared_period=last_declared_period),
                actor=actor,
                channel=Channel.AGENCY if actor else Channel.ONLINE,
                locale=locale,
            )
        except CertificateBlocked as blocked:
            self.stderr.write(f"blocked: {blocked.decision.code}: {blocked.decision.message}")
            raise SystemExit(1) from None
        except CertificateError as error:
            raise CommandError(str(error)) from error
        if output:
            output.write_bytes(bytes(certificate.file.data))
        self.stdout.write(f"{certificate.number} {certificate.public_id} valid until {certificate.valid_until}")
