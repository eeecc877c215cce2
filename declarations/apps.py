from django.apps import AppConfig


class DeclarationsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "declarations"

    def ready(self):
        from damane.background import register_outbox
        from declarations import jobs, tasks

        register_outbox("declarations.import_jobs", task=tasks.run_import_job, due=jobs.import_jobs_due)
