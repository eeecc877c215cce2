class SmsBackendError(Exception):
    """The provider refused the message or could not be reached."""


class BaseSmsBackend:
    """Sends one SMS. Subclasses implement ``send`` and return the provider's message id."""

    name = "base"

    def send(self, *, to: str, body: str) -> str:
        raise NotImplementedError
