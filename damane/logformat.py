"""Log formatting helpers.

Django logs every refused suspicious request (a Host not in ALLOWED_HOSTS, a
redirect over 16 kB, ...) at ERROR with its traceback on the ``django.security``
loggers. Anyone can send those requests, so a traceback each would let a client
fill the logs and hide real errors among them: they are written on one line.
"""

import copy
import logging


class OneLineFormatter(logging.Formatter):
    """The message without the traceback that the record carries."""

    def format(self, record):
        record = copy.copy(record)
        record.exc_info = None
        record.exc_text = None
        record.stack_info = None
        return super().format(record)
