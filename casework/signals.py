"""What casework asks of the apps above it; they answer from their ``apps.py`` (docs/architecture.md).

Casework sits below the agency features (treaties, …), so it never imports
them: it sends these signals and reads the receivers' answers
(``Signal.send`` returns each receiver's value), as pretix's plugins answer
``base/signals.py``.
"""

from django.dispatch import Signal

# The conventions a treaty request may name: each receiver returns a list of
# ``(country code, name in French, name in Arabic)`` for the conventions in force.
# The treaties app answers (treaties/apps.py).
treaty_conventions = Signal()

# More context for the insured's page of their requests (``casework/detail.html``):
# each receiver gets ``cases`` (a list of ``Case``) and returns a dict, or None.
# The treaties app adds ``treaty_progress``.
case_page_context = Signal()
