"""The certificate kinds the insured can ask for online, one folder each.

Importing this package registers them, in this order (the order of the
insured's list), into certificates.registry; ``CertificatesConfig.ready``
does it. Agency kinds live in their own app and register from its ``apps.py``
(``treaties/kinds/treaty_periods/``). Checklist: docs/certificates.md,
"Adding a certificate kind".
"""

from certificates import registry
from certificates.kinds import (
    affiliation,
    annual_salary,
    declared_days,
    deregistration,
    employment,
    non_affiliation,
)

for _module in (employment, affiliation, non_affiliation, annual_salary, declared_days, deregistration):
    registry.register(_module.KIND)
