"""Background work of the declarations app: staff uploads (``declarations.jobs``).

The task takes the job's id, never the file; it is enqueued on commit and is
idempotent (the job row records the outcome; a second run of a finished job
does nothing). No automatic retry: a rejected file is an answer, not a fault,
and a failed one is shown to the staff member, who can upload it again.
"""

from celery import shared_task
from django.db import connection, transaction
from django.utils import timezone

from declarations import jobs, partitioning


@shared_task(acks_late=True)
def run_import_job(job_id: int) -> str:
    return jobs.import_job_run(job_id=job_id)


@shared_task
def create_line_partitions() -> list[str]:
    """The declaration lines' months ahead (PostgreSQL; nothing elsewhere)."""
    if connection.vendor != "postgresql":
        return []
    with transaction.atomic(), connection.cursor() as cursor:
        return partitioning.create_line_partitions(cursor, today=timezone.localdate())
