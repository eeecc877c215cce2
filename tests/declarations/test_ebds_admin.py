"""The admin pages for declarations and the e-BDS upload view."""

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from declarations.jobs import import_job_create, import_job_run, progress_key
from declarations.models import Declaration, EbdsFile, EbdsImportJob
from tests.declarations.ebds_testkit import make_declaration, make_line, write

pytestmark = pytest.mark.django_db

UPLOAD_URL = "/admin/declarations/ebdsfile/upload/"


def upload(client, declaration, name="DS_1234567_202501.txt", **data):
    content = write(declaration).encode("ascii")
    return client.post(UPLOAD_URL, {"file": SimpleUploadedFile(name, content, "text/plain"), **data}, follow=True)


def hire(cnss_number="100000001", **kwargs):
    return make_line(cnss_number, is_new=True, cin="J456789", **kwargs)


def test_the_upload_url_is_the_named_admin_url():
    assert reverse("admin:declarations_ebdsfile_upload") == UPLOAD_URL


def test_the_file_list_links_to_the_upload_form(client, staff_admin):
    response = client.get("/admin/declarations/ebdsfile/")
    assert response.status_code == 200
    assert UPLOAD_URL in response.content.decode()
    assert "Upload e-BDS file" in response.content.decode()


def test_a_superuser_uploads_a_file_and_sees_its_counts(client, staff_admin):
    response = upload(client, make_declaration("202501", [hire(real_salary=650_000)]))

    assert response.status_code == 200
    html = response.content.decode()
    assert "DS_1234567_202501.txt imported" in html
    assert "1 employees (1 new), 26 days, real salaries 6 500.00 MAD, capped salaries 6 000.00 MAD" in html
    ebds_file = EbdsFile.objects.get()
    assert ebds_file.imported_by == staff_admin
    job = EbdsImportJob.objects.get()
    # The upload became a background job (run at once here: the tests run tasks eagerly).
    assert response.redirect_chain[-1][0] == f"/admin/declarations/ebdsfile/upload/{job.pk}/"
    assert (job.state, job.ebds_file, job.content) == ("imported", ebds_file, "")
    assert "1 of 1 lines read" in html
    assert f'href="/admin/declarations/ebdsfile/{ebds_file.pk}/change/"' in html
    assert 'http-equiv="refresh"' not in html


def test_a_bad_file_shows_each_issue_as_an_error_and_imports_nothing(client, staff_admin):
    response = upload(client, make_declaration("202501", [hire(days=27), make_line("100000009", capped_salary=1)]))

    assert response.status_code == 200
    html = response.content.decode()
    assert "rejected: nothing was imported" in html
    assert "Line 3, N_Salaire_Plaf:" in html
    assert "Line 5, N_Nbr_Jours: 27 days declared" in html
    assert EbdsFile.objects.count() == 0
    assert EbdsImportJob.objects.get().state == "rejected"


def test_the_correction_checkbox_replaces_a_declared_period(client, staff_admin):
    upload(client, make_declaration("202501", [hire(days=26)]))

    refused = upload(client, make_declaration("202501", [hire(days=20)]), name="again.txt")
    accepted = upload(client, make_declaration("202501", [hire(days=20)]), name="again.txt", correction="on")

    assert "Import this file as a correction" in refused.content.decode()
    assert "version 2" in accepted.content.decode()
    assert list(Declaration.objects.order_by("version").values_list("is_current", flat=True)) == [False, True]


def test_an_empty_upload_is_a_form_error(client, staff_admin):
    response = client.post(UPLOAD_URL, {})
    assert response.status_code == 200
    assert "This field is required." in response.content.decode()


def test_staff_without_the_permission_cannot_upload(client, staff_admin):
    staff_admin.is_superuser = False
    staff_admin.save()
    response = client.post(UPLOAD_URL, {"file": SimpleUploadedFile("x.txt", b"x")})
    assert response.status_code == 403
    assert EbdsFile.objects.count() == 0


def test_anonymous_visitors_are_sent_to_the_login(client):
    response = client.get(UPLOAD_URL)
    assert response.status_code == 302


def test_a_declaration_is_shown_read_only_with_its_lines(client, staff_admin):
    upload(client, make_declaration("202501", [hire(name="ALAMI YOUSSEF")]))
    declaration = Declaration.objects.get()

    response = client.get(f"/admin/declarations/declaration/{declaration.pk}/change/")

    assert response.status_code == 200
    html = response.content.decode()
    assert "ALAMI YOUSSEF" in html
    assert 'name="_save"' not in html
    assert client.get("/admin/declarations/declaration/?is_current__exact=1&period=202501").status_code == 200


def test_a_running_import_shows_its_progress_and_reloads_itself(client, staff_admin, monkeypatch):
    monkeypatch.setattr("declarations.jobs.enqueue", lambda *args: None)  # a worker that has not finished yet
    lines = [make_line(f"1000000{i:02d}", is_new=True, cin=f"J{i}") for i in range(10)]
    job = import_job_create(name="DS.txt", text=write(make_declaration("202501", lines)), correction=False, user=None)
    EbdsImportJob.objects.filter(pk=job.pk).update(state="running", created_by=staff_admin)
    cache.set(progress_key(job.pk), 4)

    html = client.get(f"{UPLOAD_URL}{job.pk}/").content.decode()

    assert "Importing" in html
    assert "4 of 10 lines read (40" in html
    assert '<progress max="10" value="4"' in html
    assert 'http-equiv="refresh" content="2"' in html


def test_another_staff_members_upload_is_not_found(client, staff_admin, django_user_model, monkeypatch):
    monkeypatch.setattr("declarations.jobs.enqueue", lambda *args: None)
    other = django_user_model.objects.create_user("other", "o@example.org", "a long enough password 2")
    job = import_job_create(
        name="DS.txt", text=write(make_declaration("202501", [hire()])), correction=False, user=other
    )
    staff_admin.is_superuser = False
    staff_admin.save()
    from django.contrib.auth.models import Permission

    staff_admin.user_permissions.add(Permission.objects.get(codename="add_ebdsfile"))

    assert client.get(f"{UPLOAD_URL}{job.pk}/").status_code == 404


def test_running_a_finished_job_again_changes_nothing(staff_admin):
    job = import_job_create(
        name="DS.txt", text=write(make_declaration("202501", [hire()])), correction=False, user=staff_admin
    )
    job.refresh_from_db()
    assert job.state == "imported"

    assert import_job_run(job_id=job.pk) == "imported"
    assert EbdsFile.objects.count() == 1


def test_a_job_whose_worker_died_after_the_import_committed_is_marked_imported(staff_admin, monkeypatch):
    monkeypatch.setattr("declarations.jobs.enqueue", lambda *args: None)
    text = write(make_declaration("202501", [hire()]))
    job = import_job_create(name="DS.txt", text=text, correction=False, user=staff_admin)
    from declarations.services import import_ebds

    stored = import_ebds(text=text, filename="DS.txt").ebds_file
    EbdsImportJob.objects.filter(pk=job.pk).update(state="running")

    assert import_job_run(job_id=job.pk) == "imported"
    job.refresh_from_db()
    assert job.ebds_file == stored


def test_a_new_upload_of_a_file_already_imported_is_refused_not_linked_to_the_old_import(staff_admin):
    text = write(make_declaration("202501", [hire()]))
    first = import_job_create(name="DS.txt", text=text, correction=False, user=staff_admin)
    second = import_job_create(name="DS-again.txt", text=text, correction=False, user=staff_admin)

    first.refresh_from_db()
    second.refresh_from_db()
    assert first.state == "imported"
    assert second.state == "rejected" and second.ebds_file is None
    assert EbdsFile.objects.count() == 1


def test_the_list_of_imports_shows_each_upload_and_its_state(client, staff_admin):
    upload(client, make_declaration("202501", [hire()]))

    response = client.get("/admin/declarations/ebdsimportjob/")

    assert response.status_code == 200
    html = response.content.decode()
    assert "DS_1234567_202501.txt" in html
    assert "Imported" in html or "imported" in html
