"""Django's PostgreSQL backend, with a connection pool that survives a server restart.

After a PostgreSQL restart or a failover every idle connection of a process's
pool is dead. psycopg_pool's own ``check`` finds them one at a time and waits
1 s, then 2 s, … between two tries, and its reconnection backs off the same
way: the first requests after the server came back waited out
``DATABASE_POOL_TIMEOUT`` and answered 503 (issue 20). Here:

- each connection is checked (an empty query, well under a millisecond) before
  it is lent;
- the first dead one means the server went away: the pool is drained at once
  (every idle connection closed, new ones opened, and the ones lent out now are
  closed when given back) and the request waits for a new connection, without
  a back-off pause;
- reconnection attempts give up after ``DATABASE_POOL_RECONNECT_TIMEOUT``
  (settings), so none is left waiting out a long back-off once the server is
  back: the next request opens a connection at once.

Django builds its pool with no way to change how it checks, hence this backend
(``ENGINE = "damane.postgresql"`` when ``DATABASE_POOL`` is on): Django's, with
``RecoveringPool`` below.
"""

from __future__ import annotations

import logging
import time

from django.core.exceptions import ImproperlyConfigured
from django.db.backends.base.base import NO_DB_ALIAS
from django.db.backends.postgresql import base
from psycopg_pool import ConnectionPool, PoolTimeout

logger = logging.getLogger(__name__)


class RecoveringPool(ConnectionPool):
    """A pool that lends only live connections, and drains itself at the first dead one."""

    def getconn(self, timeout: float | None = None):
        timeout = self.timeout if timeout is None else timeout
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                # An outage: the request answers 503 (PoolTimeout is an OperationalError).
                raise PoolTimeout(f"couldn't get a working connection after {timeout:.2f} sec")
            connection = super().getconn(timeout=left)
            try:
                self.check_connection(connection)
            except Exception as exc:
                logger.warning(
                    "database connection lost (%s): reconnecting the pool %s", exc.__class__.__name__, self.name
                )
                # The other idle connections died with the same server.
                self.drain()
                self.putconn(connection)
                continue
            return connection


class DatabaseWrapper(base.DatabaseWrapper):
    @property
    def pool(self):
        pool_options = self.settings_dict["OPTIONS"].get("pool")
        if self.alias == NO_DB_ALIAS or not pool_options:
            return None
        if self.alias not in self._connection_pools:
            if self.settings_dict.get("CONN_MAX_AGE", 0) != 0:
                raise ImproperlyConfigured("Pooling doesn't support persistent connections.")
            connect_kwargs = self.get_connection_params()
            # Autocommit, as in Django's: Django sets the connection's mode itself later on.
            connect_kwargs["autocommit"] = True
            pool = RecoveringPool(
                kwargs=connect_kwargs,
                open=False,  # opened by the first request, not at startup
                configure=self._configure_connection,
                **(pool_options if isinstance(pool_options, dict) else {}),
            )
            # The first thread to set it wins; the others' pools were never opened.
            self._connection_pools.setdefault(self.alias, pool)
        return self._connection_pools[self.alias]
