import uuid
from pathlib import Path

from django.conf import settings
from django.utils import timezone

from accounts.sms.backends.base import BaseSmsBackend, SmsBackendError


class FileBackend(BaseSmsBackend):
    """Writes each SMS to its own file in ``SMS_FILE_PATH``: first line ``To: <number>``, then the text."""

    name = "file"

    def __init__(self, file_path=None):
        self.path = Path(file_path or settings.SMS_FILE_PATH)

    def send(self, *, to: str, body: str) -> str:
        message_id = uuid.uuid4().hex
        try:
            self.path.mkdir(parents=True, exist_ok=True)
            # Sortable names: the newest message is the last one listed.
            name = f"{timezone.now():%Y%m%d-%H%M%S-%f}-{message_id}.txt"
            (self.path / name).write_text(f"To: {to}\n\n{body}\n", encoding="utf-8")
        except OSError as exc:
            raise SmsBackendError(f"cannot write SMS file: {exc}") from exc
        return f"file-{message_id}"
