import sys
import threading
import uuid

from accounts.sms.backends.base import BaseSmsBackend


class ConsoleBackend(BaseSmsBackend):
    """Prints each SMS, code included: for the demo only (a deploy check refuses it in production)."""

    name = "console"
    _lock = threading.Lock()

    def __init__(self, stream=None):
        self.stream = stream or sys.stdout

    def send(self, *, to: str, body: str) -> str:
        message_id = f"console-{uuid.uuid4().hex}"
        with self._lock:
            self.stream.write(f"-- SMS to {to} ({message_id})\n{body}\n--\n")
            self.stream.flush()
        return message_id
