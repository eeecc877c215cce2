"""Background work of the certificates app: the stored PDFs' retention (certificates/retention.py)."""

from celery import shared_task
from django.utils import timezone

from certificates.retention import purge_certificate_files as purge


@shared_task
def purge_certificate_files() -> list[str]:
    """Daily: the months ahead, and the month past the retention dropped (on the first run of a month)."""
    return purge(today=timezone.localdate())
