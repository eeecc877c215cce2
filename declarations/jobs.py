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
from datetime import timedelta

from django.conf import settings
from django.core.cache import cache
from django.db import InterfaceError, OperationalError, transaction
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
    """Import the job's file once; return its state afterwards.

    Idempotent, and safe when the broker delivers the task twice at once (its
    short visibility timeout hands a long import to a second worker, docs/
    decisions.md): the import runs in one transaction that holds the job's row
    lock until the outcome is recorded, so a second delivery finds the row
    locked and leaves it to the live one ("running"). A worker that dies takes
    its transaction, and its lock, with it: nothing of the file is stored, and
    the next delivery (the broker's, or the outbox sweep's) runs it again. A
    finished job is left alone.
    """
    with transaction.atomic():
        job = EbdsImportJob.objects.select_for_update(skip_locked=True).filter(pk=job_id).first()
        if job is None:
            return _locked_or_missing(job_id)
        if job.is_finished:
            return job.state
        # Found running: an earlier delivery took it and died, or is an older release's run.
        resumed = job.state == EbdsImportJob.State.RUNNING
        if job.state == EbdsImportJob.State.QUEUED:
            # Committed at once: the staff member's page says "importing".
            job.state = EbdsImportJob.State.RUNNING
            job.started_at = timezone.now()
            job.save(update_fields=["state", "started_at"])

    failure = None
    with transaction.atomic():
        job = (
            EbdsImportJob.objects.select_for_update(skip_locked=True)
            .filter(pk=job_id, state=EbdsImportJob.State.RUNNING)
            .first()
        )
        if job is None:
            return _locked_or_missing(job_id)
        sha256 = hashlib.sha256(job.content.encode("utf-8")).hexdigest()
        stored = EbdsFile.objects.filter(sha256=sha256).first() if resumed else None
        if stored:
            # Imported by a run that committed before this job could record it (an older release).
            # A fresh job with a file imported before goes on: import_ebds refuses it as a duplicate.
            return _finish(job, EbdsImportJob.State.IMPORTED, ebds_file=stored)

        def report(lines: int) -> None:
            try:
                cache.set(progress_key(job.pk), lines, PROGRESS_TTL_SECONDS)
            except Exception:  # the import matters, its progress bar does not
                logger.warning("import progress not recorded for job %s", job.pk)

        try:
            with transaction.atomic():
                result = import_ebds(
                    text=job.content,
                    filename=job.name,
                    imported_by=job.created_by,
                    correction=job.correction,
                    progress=report,
                )
        except ImportRejected as error:
            issues = [{"line": i.line, "field": i.field, "reason": str(i.reason)} for i in error.issues]
            return _finish(job, EbdsImportJob.State.REJECTED, issues=issues)
        except (OperationalError, InterfaceError):
            # The database went away (a restart): the job stays "running", unlocked, and runs again.
            raise
        except Exception as exc:
            logger.exception("e-BDS import job %s failed", job.pk)
            _finish(job, EbdsImportJob.State.FAILED)
            failure = exc
        else:
            return _finish(job, EbdsImportJob.State.IMPORTED, ebds_file=result.ebds_file)
    raise failure


def _locked_or_missing(job_id: int) -> str:
    """The state to report for a job row another delivery holds locked, or that is gone."""
    return EbdsImportJob.State.RUNNING if EbdsImportJob.objects.filter(pk=job_id).exists() else "missing"


def import_jobs_due(now) -> list[int]:
    """Jobs whose task must be sent (again) now (the outbox sweep, ``damane.background``).

    Queued a while after the upload (the broker was down at commit, or the
    task was lost), or "running" with no live worker: a live run holds the row
    locked for as long as it runs, so an unlocked running job lost its worker.
    An orphaned job started more than ``DAMANE_IMPORT_GIVE_UP_SECONDS`` ago has
    lost its worker again and again (a file that kills the process that reads
    it): it is recorded "stopped on an error" instead, once, and never sent
    again; the staff member sees it and can upload the file again.
    """
    queued_before = now - timedelta(seconds=settings.DAMANE_OUTBOX_REQUEUE_AFTER_SECONDS)
    give_up_before = now - timedelta(seconds=settings.DAMANE_IMPORT_GIVE_UP_SECONDS)
    with transaction.atomic():
        lost = EbdsImportJob.objects.filter(state=EbdsImportJob.State.QUEUED, created_at__lt=queued_before)
        orphaned = list(
            EbdsImportJob.objects.select_for_update(skip_locked=True)
            .filter(state=EbdsImportJob.State.RUNNING, started_at__lt=queued_before)
            .order_by("pk")
        )
        for job in orphaned:
            if job.started_at < give_up_before:
                logger.error("e-BDS import job %s lost its worker for %s: given up", job.pk, now - job.started_at)
                _finish(job, EbdsImportJob.State.FAILED)
        alive = [job.pk for job in orphaned if job.state == EbdsImportJob.State.RUNNING]
        return [*lost.order_by("pk").values_list("pk", flat=True), *alive]


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
