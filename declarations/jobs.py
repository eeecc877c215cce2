"""Writes for staff uploads: an e-BDS file imported in the background.

``import_job_create`` records the upload and enqueues ``declarations.tasks.
run_import_job`` when its transaction commits; ``import_job_run`` (the task's
body) runs ``import_ebds`` and records the outcome on the job. While the import
runs, the number of lines read so far is in the cache under ``progress_key``:
the import's own transaction hides its writes from other sessions until it
commits, the cache does not. See ``docs/ebds.md``, "Uploads by staff".
"""

from __future__ import annotations

import hashlib
import logging

from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from audit.services import audit_record
from damane.background import enqueue
from declarations.models import EbdsFile, EbdsImportJob
from declarations.services import ImportRejected, import_ebds

logger = logging.getLogger("damane.declarations")

# How long the progress of a job stays in the cache after its last report.
PROGRESS_TTL_SECONDS = 3600


def progress_key(job_id: int) -> str:
    return f"ebds-import-job:{job_id}:lines"


def job_progress(job: EbdsImportJob) -> int:
    """Lines read so far (all of them once the job is over)."""
    if job.is_finished:
        return job.lines_total
    try:
        return min(int(cache.get(progress_key(job.pk)) or 0), job.lines_total)
    except Exception:  # the progress bar is not worth an error page
        logger.warning("import progress unavailable for job %s", job.pk)
        return 0


def count_lines(text: str) -> int:
    """Employee lines of a file, for the progress bar: all but B00, B01, B03, B05 and B06."""
    return max(len(text.splitlines()) - 5, 0)


def import_job_create(*, name: str, text: str, correction: bool, user) -> EbdsImportJob:
    with transaction.atomic():
        job = EbdsImportJob.objects.create(
            name=name[:255],
            content=text,
            correction=correction,
            lines_total=count_lines(text),
            created_by=user if getattr(user, "pk", None) else None,
        )
        audit_record(
            action="declarations.import_job.queued",
            obj=job,
            actor=user,
            after={"file": job.name, "correction": correction, "lines": job.lines_total},
        )
        from declarations.tasks import run_import_job

        enqueue(run_import_job, job.pk)
    return job


def import_job_run(*, job_id: int) -> str:
    """Import the job's file once; return its final state.

    Idempotent: a job already finished is left alone; a job found ``running``
    lost its worker, and since the import is one transaction, either its file is
    stored (then the job is marked imported) or nothing of it is (then it runs again).
    """
    with transaction.atomic():
        job = EbdsImportJob.objects.select_for_update().filter(pk=job_id).first()
        if job is None or job.is_finished:
            return job.state if job else "missing"
        if job.state == EbdsImportJob.State.RUNNING:
            sha256 = hashlib.sha256(job.content.encode("utf-8")).hexdigest()
            stored = EbdsFile.objects.filter(sha256=sha256).first()
            if stored:
                return _finish(job, EbdsImportJob.State.IMPORTED, ebds_file=stored)
        job.state = EbdsImportJob.State.RUNNING
        job.started_at = timezone.now()
        job.save(update_fields=["state", "started_at"])

    def report(lines: int) -> None:
        try:
            cache.set(progress_key(job.pk), lines, PROGRESS_TTL_SECONDS)
        except Exception:  # the import matters, its progress bar does not
            logger.warning("import progress not recorded for job %s", job.pk)

    try:
        result = import_ebds(
            text=job.content, filename=job.name, imported_by=job.created_by, correction=job.correction, progress=report
        )
    except ImportRejected as error:
        issues = [{"line": i.line, "field": i.field, "reason": str(i.reason)} for i in error.issues]
        return _finish(job, EbdsImportJob.State.REJECTED, issues=issues)
    except Exception:
        logger.exception("e-BDS import job %s failed", job.pk)
        _finish(job, EbdsImportJob.State.FAILED)
        raise
    return _finish(job, EbdsImportJob.State.IMPORTED, ebds_file=result.ebds_file)


def _finish(job: EbdsImportJob, state: str, *, ebds_file=None, issues=None) -> str:
    with transaction.atomic():
        job.state = state
        job.finished_at = timezone.now()
        job.ebds_file = ebds_file
        job.issues = issues or []
        # The stored file keeps the content; the job no longer needs its copy.
        job.content = "" if state != EbdsImportJob.State.FAILED else job.content
        job.save(update_fields=["state", "finished_at", "ebds_file", "issues", "content"])
        audit_record(
            action=f"declarations.import_job.{state}",
            obj=job,
            actor=job.created_by,
            after={"file": job.name, "problems": len(job.issues), "ebds_file": ebds_file.pk if ebds_file else None},
        )
    return state
