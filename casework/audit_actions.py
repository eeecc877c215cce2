"""The audit actions of requests to the agency (audit/actions.py).

``casework.services`` writes ``casework.case.<kind>.submitted`` (one per
``CaseKind``) and ``casework.case.<status>`` (one per decision of
``case_decide``); each is declared here by name, with its own sentence.
"""

from django.utils.translation import gettext_lazy as _

from audit.actions import register

register("casework.case.employer_notice.submitted", _("Request submitted: formal notice to an employer"))
register("casework.case.arrears_report.submitted", _("Request submitted: report of an employer in arrears"))
register("casework.case.id_update.submitted", _("Request submitted: national ID update"))
register("casework.case.name_correction.submitted", _("Request submitted: name correction"))
register("casework.case.treaty.submitted", _("Request submitted: treaty cumulative periods certificate"))
register("casework.case.in_progress", _("Request taken in hand"))
register("casework.case.done", _("Request closed as done"))
register("casework.case.rejected", _("Request closed as rejected"))
