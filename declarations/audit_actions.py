"""The audit actions of e-BDS imports (audit/actions.py)."""

from django.utils.translation import gettext_lazy as _

from audit.actions import register

register("declarations.declaration.imported", _("Declaration imported"))
register("declarations.declaration.corrected", _("Declaration corrected by a new file"))
# One per state an import job reaches (EbdsImportJob.State): queued, then how it ended.
register("declarations.import_job.queued", _("e-BDS import queued"))
register("declarations.import_job.imported", _("e-BDS import finished"))
register("declarations.import_job.rejected", _("e-BDS import rejected"))
register("declarations.import_job.failed", _("e-BDS import stopped on an error"))
