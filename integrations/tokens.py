"""Wire formats of the secrets this app hands out, and how they are stored.

API key, v1: ``dmn_<prefix>_<secret>`` (a sandbox key: ``dmn_test_<prefix>_<secret>``)
    ``prefix``: 8 symbols of ``[a-z2-7]`` (40 bits), public, unique, names the key
    in lists and logs. ``secret``: 43 URL-safe base64 characters (256 random
    bits). Stored: the SHA-256 of the whole key, compared in constant time.

Share code, v1: ``XXXXX-XXXXX-XXXXX``
    15 symbols of the alphabet of verification codes (no 0/O/1/I/L): 74.3 bits.
    Case, spaces and dashes are ignored when typed; Arabic-Indic digits count as
    ASCII digits. Stored: an HMAC-SHA256 of the canonical form keyed with the
    server's secret key (a unique column, so a look-up is one index probe). With
    74 bits a bare hash would do against a stolen database, but the holder's list
    keeps the last four symbols: the keyed hash leaves the other 54 bits useless
    to whoever has the database without the key. Rotating ``SECRET_KEY`` ends the
    codes in use (they live 30 days at most).
"""

from __future__ import annotations

import hashlib
import re
import secrets

from django.utils.crypto import salted_hmac

from certificates.documents import VERIFICATION_ALPHABET

KEY_PREFIX_ALPHABET = "abcdefghijklmnopqrstuvwxyz234567"
KEY_PREFIX_LENGTH = 8
KEY_SECRET_BYTES = 32
_KEY_RE = re.compile(r"^dmn_((?:test_)?[a-z2-7]{8})_([A-Za-z0-9_-]{43})$")
# A sandbox key (integrations/sandbox.py): dmn_test_<prefix>_<secret>, its prefix stored as test_<prefix>.
SANDBOX = "test_"

SHARE_CODE_GROUPS = 3
SHARE_CODE_GROUP_SIZE = 5
SHARE_CODE_LENGTH = SHARE_CODE_GROUPS * SHARE_CODE_GROUP_SIZE
_SHARE_RE = re.compile(rf"^[{VERIFICATION_ALPHABET}]{{{SHARE_CODE_LENGTH}}}$")


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode("ascii")).hexdigest()


def share_code_digest(code: str) -> str:
    """What is stored for a share code in its canonical form."""
    return salted_hmac("damane.integrations.share-code", code, algorithm="sha256").hexdigest()


def new_api_key(*, sandbox: bool = False) -> tuple[str, str]:
    """(prefix, full key); a sandbox key's prefix starts with ``test_``."""
    prefix = (SANDBOX if sandbox else "") + "".join(
        secrets.choice(KEY_PREFIX_ALPHABET) for _ in range(KEY_PREFIX_LENGTH)
    )
    return prefix, f"dmn_{prefix}_{secrets.token_urlsafe(KEY_SECRET_BYTES)}"


def parse_api_key(text: str) -> str | None:
    """The prefix of a well-formed key, or None."""
    match = _KEY_RE.match(text or "")
    return match.group(1) if match else None


def new_share_code() -> str:
    symbols = "".join(secrets.choice(VERIFICATION_ALPHABET) for _ in range(SHARE_CODE_LENGTH))
    return "-".join(symbols[i : i + SHARE_CODE_GROUP_SIZE] for i in range(0, SHARE_CODE_LENGTH, SHARE_CODE_GROUP_SIZE))


def normalize_share_code(text: str) -> str | None:
    """The canonical grouped form of what someone typed, or None if it cannot be a share code."""
    from registry.validators import ARABIC_DIGITS

    if not isinstance(text, str) or len(text) > 200:
        return None
    compact = re.sub(r"[\s\-]", "", text.translate(ARABIC_DIGITS)).upper()
    if not _SHARE_RE.match(compact):
        return None
    return "-".join(compact[i : i + SHARE_CODE_GROUP_SIZE] for i in range(0, SHARE_CODE_LENGTH, SHARE_CODE_GROUP_SIZE))
