"""Partition the declaration lines by period on a live database (declarations/partitioning.py)."""

# SQL here names tables, partitions and columns from this code's own constants; values are parameters.
# ruff: noqa: S608

from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.utils import timezone

from damane import partitions
from declarations import partitioning


class Command(BaseCommand):
    help = (
        "Convert declarations_declarationline into a table partitioned by period (one partition a month) while "
        "the portal runs: a partitioned twin is built, a trigger repeats every write on it, the rows are copied "
        "in batches of their own transaction, then one short transaction locks the table, checks that both "
        "hold the same rows and swaps the names. Run it before `migrate` (migration 0005 then does nothing). "
        "On a table already partitioned it creates the months ahead. PostgreSQL only."
    )

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, default=50_000, help="Lines copied per transaction.")
        parser.add_argument("--no-swap", action="store_true", help="Copy, keep the trigger, and stop before the swap.")
        parser.add_argument("--dry-run", action="store_true", help="Say what would be done, change nothing.")

    def handle(self, *args, batch_size, no_swap, dry_run, **options):
        if connection.vendor != "postgresql":
            raise CommandError("Partitions are PostgreSQL's: this database keeps a plain table.")
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1.")
        conversion = partitioning.CONVERSION
        today = timezone.localdate()
        with connection.cursor() as cursor:
            if partitions.is_partitioned(cursor, conversion.table):
                if dry_run:
                    self.stdout.write("Already partitioned; the months ahead would be created.")
                    return
                with transaction.atomic():
                    created = partitioning.create_line_partitions(cursor, today=today)
                self.stdout.write(f"Already partitioned; {len(created)} partition(s) created: {', '.join(created)}")
                return
            cursor.execute(f"SELECT coalesce(min(id), 0), coalesce(max(id), 0), count(*) FROM {conversion.table}")
            first, last, count = cursor.fetchone()
            if dry_run:
                self.stdout.write(
                    f"{count} lines (ids {first}-{last}) would be copied in batches of {batch_size}, then swapped."
                )
                return
            if not partitions.table_exists(cursor, conversion.shadow):
                with transaction.atomic():
                    months = partitioning.months_to_create(cursor, today=today)
                    partitions.create_shadow(cursor, conversion, months)
                    partitions.install_mirror(cursor, conversion)
                self.stdout.write(f"{conversion.shadow}: {len(months)} month partition(s) and the mirror trigger.")
            copied = 0
            for start in range(first, last + 1, batch_size):
                with transaction.atomic():
                    copied += partitions.copy_batch(cursor, conversion, start, start + batch_size - 1)
                self.stdout.write(f"  ids up to {min(start + batch_size - 1, last)}: {copied} copied")
            if no_swap:
                self.stdout.write(f"Copied {copied} lines; the trigger keeps {conversion.shadow} up to date.")
                return
            with transaction.atomic():
                partitions.swap(cursor, conversion)
                partitioning.create_line_partitions(cursor, today=today)
        self.stdout.write(self.style.SUCCESS(f"{conversion.table} is partitioned by period ({copied} lines copied)."))
