"""Drop the stored PDFs past their retention (certificates/retention.py)."""

from django.conf import settings
from django.core.management.base import BaseCommand
from django.utils import timezone

from certificates.retention import cutoff, purge_certificate_files


class Command(BaseCommand):
    help = (
        "Drop the signed PDFs issued before the first day of the month DAMANE_PDF_RETENTION_MONTHS ago (on "
        "PostgreSQL: detach and drop each month's partition; elsewhere: delete the rows), and create the months "
        "ahead. Certificates keep verifying by code, API and PDF upload. The beat job runs the same daily."
    )

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="Say what would be dropped, change nothing.")

    def handle(self, *args, dry_run, **options):
        today = timezone.localdate()
        gone = purge_certificate_files(today=today, dry_run=dry_run)
        verb = "Would drop" if dry_run else "Dropped"
        self.stdout.write(
            f"{verb} {len(gone)} (files issued before {cutoff(today)}, retention "
            f"{settings.DAMANE_PDF_RETENTION_MONTHS} months): {', '.join(gone) or 'nothing'}"
        )
