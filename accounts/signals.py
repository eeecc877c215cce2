"""What accounts asks of the apps above it; they answer from their ``apps.py`` (docs/architecture.md)."""

from django.dispatch import Signal

# More context for the insured's dashboard (``accounts/dashboard.html``): each
# receiver gets ``insured`` and returns a dict, or None. The treaties app adds
# ``treaty_progress`` (where each treaty request stands).
dashboard_context = Signal()
