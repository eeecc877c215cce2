"""What the certificates app tells the apps above it, without importing them.

``certificate_revoked`` is sent inside the revoking transaction (sender: the
``Certificate`` class, ``certificate``: the revoked row), so what a receiver
writes (an outbox row) commits or rolls back with the revocation. Receivers
must not fail for reasons of their own: an exception undoes the revocation.
"""

from django.dispatch import Signal

certificate_revoked = Signal()
