"""Send the arrears alerts due today, as the daily scheduled job does."""

from datetime import date

from django.core.management.base import BaseCommand, CommandError

from alerts.services import arrears_alerts_run


class Command(BaseCommand):
    help = (
        "Send the arrears alerts due today to the insured who opted in: one e-mail per account, employer and "
        "missed period, never twice (the scheduler runs this every day)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="list the alerts due, send and write nothing")
        parser.add_argument("--date", help="the day to compute for, YYYY-MM-DD (default: today)")

    def handle(self, *args, dry_run=False, date=None, **options):
        today = None
        if date:
            try:
                today = _parse(date)
            except ValueError as error:
                raise CommandError(f"--date: {error}") from None
        result = arrears_alerts_run(today=today, dry_run=dry_run)
        self.stdout.write(f"period {result.period}: {len(result.candidates)} alert(s) due")
        if dry_run:
            for candidate in result.candidates:
                self.stdout.write(f"  account {candidate.user_id}: employer {candidate.employer_id}")
        else:
            self.stdout.write(f"{len(result.sent)} sent")


def _parse(text: str) -> date:
    return date.fromisoformat(text)
