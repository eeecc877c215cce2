"""What the registry announces; apps above it listen from their ``apps.py`` (docs/architecture.md).

The registry is a low layer: it never imports the apps that care about its
changes. Receivers call a service of their own app, in the sender's
transaction; an error in one is raised to the sender (``Signal.send``).
"""

from django.dispatch import Signal

# People added to the registry, or whose CIN was filled in or changed: after an
# e-BDS import (``declarations.services``) or registration records
# (``registry.services.import_registration_records``). Arguments: ``insured_ids``
# (a list of ``Insured`` primary keys) and ``actor`` (the user, or None).
# The unregistered app links its records of people absent from the registry.
insured_identified = Signal()
