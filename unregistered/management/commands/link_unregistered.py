from django.core.management.base import BaseCommand

from unregistered.services import unregistered_link_all


class Command(BaseCommand):
    help = (
        "Link the records of people recorded at the agency as absent from the registry to the registry "
        "records that now hold their CIN (current or earlier). Imports do this as they go; this sweep "
        "catches anything registered another way."
    )

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="Count the registry records found; link nothing.")

    def handle(self, *args, dry_run=False, **options):
        count = unregistered_link_all(dry_run=dry_run)
        verb = "would link" if dry_run else "linked"
        self.stdout.write(f"{verb} {count} record(s)")
