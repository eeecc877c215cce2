"""e-BDS uploads under faults, with real worker processes on a real Redis broker (issue 20, items 2 and 3).

The broker is down when the file is uploaded: the job waits in the database and
the outbox sweep runs it once the broker is back. A worker is SIGKILLed in the
middle of an import: the broker gives the task back within the visibility
timeout and another worker imports the file, once. An import that outlives the
visibility timeout is delivered again while it runs: the second delivery finds
the job locked and leaves it to the live one.
"""

import re
import time

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from audit.models import AuditEntry
from damane import background
from declarations.models import EbdsFile, EbdsImportJob
from tests.declarations.ebds_testkit import make_declaration, make_line, write
from tests.servers import throwaway_redis
from tests.workers import celery_worker, publishing_to, wait_for

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

UPLOAD_URL = "/admin/declarations/ebdsfile/upload/"


def upload(client):
    lines = [make_line(f"1000000{i:02d}", is_new=True, cin=f"J4567{i:02d}") for i in range(3)]
    content = write(make_declaration("202501", lines)).encode("ascii")
    file = SimpleUploadedFile("DS_1234567_202501.txt", content, "text/plain")
    return client.post(UPLOAD_URL, {"file": file}, follow=True)


def job_state() -> str:
    return EbdsImportJob.objects.get().state


def imported_once() -> None:
    job = EbdsImportJob.objects.get()
    assert job.state == EbdsImportJob.State.IMPORTED
    assert EbdsFile.objects.count() == 1 and job.ebds_file == EbdsFile.objects.get()
    actions = list(
        AuditEntry.objects.filter(action__startswith="declarations.import_job.").values_list("action", flat=True)
    )
    assert sorted(actions) == ["declarations.import_job.imported", "declarations.import_job.queued"]


@pytest.fixture
def state(tmp_path):
    path = tmp_path / "state"
    path.mkdir()
    return path


def imports_started(state) -> int:
    path = state / "imports"
    return len(path.read_text().splitlines()) if path.exists() else 0


def test_a_file_uploaded_while_the_broker_is_down_is_imported_once_when_it_is_back(
    client, staff_admin, settings, tmp_path, caplog
):
    settings.DAMANE_OUTBOX_REQUEUE_AFTER_SECONDS = 0
    from damane.celery import app

    eager = app.conf.task_always_eager
    app.conf.task_always_eager = False
    try:
        with throwaway_redis() as broker, publishing_to(broker.url):
            broker.stop()
            response = upload(client)
            # The staff member is told the file waits; nothing is lost.
            assert response.status_code == 200
            assert 'data-job-state="queued"' in response.content.decode()
            assert job_state() == EbdsImportJob.State.QUEUED
            assert "left for the requeue sweep" in caplog.text
            # While the broker is down the sweep cannot send it either: it stays queued for the next one.
            assert background.requeue_due().get("declarations.import_jobs", 0) == 0
            assert job_state() == EbdsImportJob.State.QUEUED

            broker.start()
            with celery_worker(tmp_path, env={"CELERY_BROKER_URL": broker.url}) as worker:
                # Two sweeps before the worker gets to it: two messages, one import.
                assert background.requeue_due()["declarations.import_jobs"] == 1
                assert background.requeue_due()["declarations.import_jobs"] in (0, 1)
                wait_for(lambda: job_state() == EbdsImportJob.State.IMPORTED, timeout=30)
                # The last sweep's message, if any, finds the job done.
                time.sleep(1)
                log = worker.output()
    finally:
        app.conf.task_always_eager = eager
    imported_once()
    assert "run_import_job" in log
    assert background.requeue_due()["declarations.import_jobs"] == 0


def test_a_worker_killed_mid_import_has_its_task_running_again_within_a_minute_and_imported_once(
    client, staff_admin, settings, tmp_path, state
):
    env = {"DAMANE_TEST_SMS_STATE": str(state), "DAMANE_TEST_IMPORT_PAUSE": "600"}
    with celery_worker(tmp_path, env=env, app_module="tests.worker_hooks") as doomed:
        upload(client)
        wait_for(lambda: imports_started(state) == 1, timeout=30)
        assert job_state() == EbdsImportJob.State.RUNNING
        # The whole worker dies at once (OOM killer, lost node): nobody acknowledges the task.
        doomed.kill()
        killed_at = time.monotonic()
        queue = doomed.queue
    env["DAMANE_TEST_IMPORT_PAUSE"] = "0.1"
    with celery_worker(tmp_path, env=env, app_module="tests.worker_hooks", queue=queue):
        wait_for(lambda: imports_started(state) == 2, timeout=60)
        rerun_after = time.monotonic() - killed_at
        wait_for(lambda: job_state() == EbdsImportJob.State.IMPORTED, timeout=30)
        time.sleep(1)
    print(f"task running again {rerun_after:.1f} s after the SIGKILL")
    assert rerun_after < 60, rerun_after
    assert imports_started(state) == 2
    imported_once()


def test_an_import_longer_than_the_visibility_timeout_is_not_run_twice(client, staff_admin, settings, tmp_path, state):
    visibility = settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"]
    pause = visibility + 10
    env = {"DAMANE_TEST_SMS_STATE": str(state), "DAMANE_TEST_IMPORT_PAUSE": str(pause)}
    with celery_worker(tmp_path, env=env, app_module="tests.worker_hooks", concurrency=2) as worker:
        upload(client)
        wait_for(lambda: imports_started(state) == 1, timeout=30)
        # The broker hands the unacknowledged task to the worker's second process meanwhile...
        wait_for(lambda: len(re.findall(r"run_import_job\[[0-9a-f-]+\] received", worker.output())) >= 2, timeout=pause)
        assert job_state() == EbdsImportJob.State.RUNNING
        # ...which finds the job locked by the live import and leaves it alone.
        wait_for(lambda: "succeeded" in worker.output() and "'running'" in worker.output(), timeout=pause)
        wait_for(lambda: job_state() == EbdsImportJob.State.IMPORTED, timeout=pause + 10)
    assert imports_started(state) == 1
    imported_once()
