"""Supporting documents: PDF, JPEG or PNG checked by content, size-limited (docs/security.md §13)."""

from __future__ import annotations

import hashlib
import secrets
from pathlib import PurePath

from django.conf import settings
from django.core.exceptions import ValidationError
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _

# Magic bytes -> (content type, extension).
SIGNATURES = [
    (b"%PDF-", "application/pdf", "pdf"),
    (b"\xff\xd8\xff", "image/jpeg", "jpg"),
    (b"\x89PNG\r\n\x1a\n", "image/png", "png"),
]


def sniff(head: bytes) -> tuple[str, str] | None:
    for magic, content_type, extension in SIGNATURES:
        if head.startswith(magic):
            return content_type, extension
    return None


def check_upload(uploaded) -> tuple[str, str, str]:
    """Validate an UploadedFile; return (content type, extension, sha256) or raise ValidationError."""
    limit = settings.DAMANE_UPLOAD_MAX_BYTES
    if uploaded.size > limit:
        raise ValidationError(
            _("The file is too large (%(size)s). The limit is %(limit)s.")
            % {"size": filesizeformat(uploaded.size), "limit": filesizeformat(limit)},
            code="too_large",
        )
    if uploaded.size == 0:
        raise ValidationError(_("The file is empty."), code="empty")
    uploaded.seek(0)
    kind = sniff(uploaded.read(16))
    if kind is None:
        raise ValidationError(_("Only PDF, JPEG or PNG files are accepted."), code="type")
    digest = hashlib.sha256()
    uploaded.seek(0)
    for chunk in uploaded.chunks():
        digest.update(chunk)
    uploaded.seek(0)
    return kind[0], kind[1], digest.hexdigest()


def random_name(extension: str) -> str:
    """A random stored name: the user's file name never reaches the file system."""
    return f"{secrets.token_urlsafe(24)}.{extension}"


def safe_display_name(name: str) -> str:
    return PurePath(name or "document").name[:200]
