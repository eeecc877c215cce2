from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TreatiesConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "treaties"
    verbose_name = _("International treaties")

    def ready(self):
        # The treaty periods certificate is a kind of the certificates app, issued only here.
        from accounts.signals import dashboard_context
        from casework.signals import case_page_context, treaty_conventions
        from certificates import registry
        from treaties.kinds import treaty_periods

        registry.register(treaty_periods.KIND)
        # The apps below ask; this app answers (docs/architecture.md).
        treaty_conventions.connect(_conventions_in_force, dispatch_uid="treaties.conventions_in_force")
        case_page_context.connect(_case_progress, dispatch_uid="treaties.case_progress")
        dashboard_context.connect(_dashboard_progress, dispatch_uid="treaties.dashboard_progress")


def _conventions_in_force(sender, **kwargs):
    """The countries a treaty request may name: those with a convention in force."""
    from treaties.models import Convention

    return list(Convention.objects.filter(active=True).values_list("country", "name_fr", "name_ar"))


def _case_progress(sender, *, cases, **kwargs):
    from treaties.selectors import treaty_progress

    return {"treaty_progress": treaty_progress(cases)}


def _dashboard_progress(sender, *, insured, **kwargs):
    from treaties.selectors import treaty_progress_for

    return {"treaty_progress": treaty_progress_for(insured)}
