import uuid

from accounts.sms.backends.base import BaseSmsBackend


class LocmemBackend(BaseSmsBackend):
    """Keeps messages in ``accounts.sms.outbox`` for tests."""

    name = "locmem"

    def send(self, *, to: str, body: str) -> str:
        from accounts import sms

        sms.outbox.append((to, body))
        return f"locmem-{uuid.uuid4().hex}"
