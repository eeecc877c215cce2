class SmsBackendError(Exception):
    """The provider refused the message or could not be reached.

    ``retryable``: the message certainly did not go and a later try may succeed
    (provider unreachable, overloaded). ``delivery_unknown``: the provider may
    have taken the message before the answer was lost (read timeout); sending
    again could deliver it twice, so it is never retried.
    """

    def __init__(self, message: str = "", *, retryable: bool = True, delivery_unknown: bool = False):
        super().__init__(message)
        self.delivery_unknown = delivery_unknown
        self.retryable = retryable and not delivery_unknown


class BaseSmsBackend:
    """Sends one SMS. Subclasses implement ``send`` and return the provider's message id."""

    name = "base"

    def send(self, *, to: str, body: str) -> str:
        raise NotImplementedError
