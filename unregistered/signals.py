"""What the unregistered app announces; apps above it listen from their ``apps.py`` (docs/architecture.md)."""

from django.dispatch import Signal

# A record of a person absent from the registry was linked to the registry record
# now holding their CIN (``unregistered.services``), in the linking transaction.
# Arguments: ``person`` (the ``UnregisteredPerson``) and ``insured``. The
# integrations app shows the integrators' look-ups of that person's certificates
# to the insured.
person_linked = Signal()
