"""The session engine: Django's database sessions, refusing malformed session keys.

Django generates keys of 32 lowercase letters and digits, and its stock check
only asks for 8 characters or more; anything else in the cookie would reach the
database as is. A NUL byte there made PostgreSQL refuse the query and every page
answer 500 (issue 8). A key that Django could not have made is treated as no
session at all: the visitor is anonymous and gets a fresh session when one is
needed.

Django reports any database error while updating a session as ``UpdateError``,
which its middleware turns into a 400 ("session interrupted"). When the database
is unreachable (a restart, a failover) the 400 handler finds the database error
in that chain and answers the outage's 503 with ``Retry-After`` instead
(``damane.middleware.bad_request``).
"""

import re

from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore

SESSION_KEY_RE = re.compile(r"[a-z0-9]{32}")


def is_valid_session_key(key) -> bool:
    return isinstance(key, str) and SESSION_KEY_RE.fullmatch(key) is not None


class SessionStore(DatabaseSessionStore):
    def _validate_session_key(self, key):
        return is_valid_session_key(key)
