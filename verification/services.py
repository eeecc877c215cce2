"""Finding a certificate from what a verifier holds: its QR address, its typed
code, its QR payload, or the PDF itself; and the published revocation list."""

from __future__ import annotations

import hashlib
import re

from django.db import connections, router
from django.utils import timezone

from certificates.documents import normalize_verification_code
from certificates.models import Certificate
from certificates.qrpayload import PayloadError, sign_payload, split_qr_text, verify_payload
from damane import replica

PUBLIC_ID_RE = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
REVOCATION_LIST_VERSION = 1


def _none(found) -> bool:
    return found is None


def _certificates():
    return Certificate.objects.select_related("superseded_by")


def by_public_id(public_id: str) -> Certificate | None:
    if not PUBLIC_ID_RE.match(public_id or ""):
        return None
    return replica.read(lambda: _certificates().filter(public_id=public_id).first(), missed=_none)


def by_code(raw: str) -> Certificate | None:
    code = normalize_verification_code(raw or "")
    if code is None:
        return None
    return replica.read(lambda: _certificates().filter(verification_code=code).first(), missed=_none)


def _lookup_sql() -> str:
    meta = Certificate._meta
    columns = ", ".join(f'"{field.column}"' for field in meta.concrete_fields)
    return f'SELECT {columns} FROM "{meta.db_table}" WHERE "verification_code" = %s LIMIT 1'  # noqa: S608 - names from the model, the code a parameter


_LOOKUP_SQL = _lookup_sql()
_LOOKUP_FIELDS = [field.attname for field in Certificate._meta.concrete_fields]


_CONVERTERS: dict[str, list[tuple[int, list, object]]] = {}


def _converters(connection) -> list[tuple[int, list, object]]:
    """Per column of ``_LOOKUP_SQL``: what Django applies to its value when loading a model
    (JSON text to a dict for ``snapshot``), worked out once per database vendor instead of per look-up."""
    found = _CONVERTERS.get(connection.vendor)
    if found is None:
        table = Certificate._meta.db_table
        found = []
        for index, field in enumerate(Certificate._meta.concrete_fields):
            column = field.get_col(table)
            functions = connection.ops.get_db_converters(column) + field.get_db_converters(connection)
            if functions:
                found.append((index, functions, column))
        _CONVERTERS[connection.vendor] = found
    return found


def by_code_fast(raw: str) -> Certificate | None:
    """``by_code`` for the JSON API, its hot path (issues 10 and 23): one indexed row, every column, no join.

    The SQL is written once (every concrete column, so no field loads lazily
    later), and the row becomes a model instance with ``Model.from_db`` and the
    fields' converters worked out once: a queryset (or ``raw()``) spends more CPU
    compiling its SQL and resolving its columns, on each look-up, than
    PostgreSQL spends answering it. ``superseded_by`` is not joined: the API
    only says whether there is a newer certificate (``superseded_by_id``).
    Read from the replica when one serves verification (damane/replica.py).
    """
    code = normalize_verification_code(raw or "")
    if code is None:
        return None
    return replica.read(lambda: _fetch_by_code(code), missed=_none)


def _fetch_by_code(code: str) -> Certificate | None:
    alias = router.db_for_read(Certificate)
    connection = connections[alias]
    with connection.cursor() as cursor:
        cursor.execute(_LOOKUP_SQL, [code])
        row = cursor.fetchone()
    if row is None:
        return None
    values = list(row)
    for index, functions, column in _converters(connection):
        for convert in functions:
            values[index] = convert(values[index], column, connection)
    return Certificate.from_db(alias, _LOOKUP_FIELDS, values)


def read_qr_text(raw: str, *, public_keys=None) -> dict | None:
    """The signed claims of a scanned QR text (``…/verify/<id>#<payload>``) or of a payload
    alone, or ``None`` when it is not genuine.

    Genuine means: the fund's key signed the payload, and where the text also has
    the verify address, the address names the same certificate as the payload
    (docs/security.md §22). A phone opens the address; a verifier reads the payload: a
    payload grafted onto another certificate's address would have them disagree.
    Every reader of a QR text goes through here: the API, the verify page's
    address check, the PDF upload and ``verify_certificate``; the offline
    verifier applies the same rule in ``static/js/qr-text.js``.
    """
    text = (raw or "").strip()
    url_id, token = split_qr_text(text)
    if not token:
        if "/verify/" in text or "#" in text:
            # An address that is not exactly ours: nothing to trust in it.
            return None
        token = text
    try:
        claims = verify_payload(token, public_keys)
    except PayloadError:
        return None
    if url_id and not same_certificate(url_id, claims):
        return None
    return claims


def same_certificate(url_id: str, claims: dict) -> bool:
    """Whether the address's certificate id and the payload's are one and the same."""
    return isinstance(url_id, str) and bool(url_id) and claims.get("id") == url_id


def by_token(raw: str) -> Certificate | None:
    """The certificate a QR text or payload names, only if it is genuine and matches a certificate issued."""
    claims = read_qr_text(raw)
    if claims is None:
        return None
    certificate = by_public_id(str(claims.get("id", "")))
    if certificate is None or certificate.number != claims.get("n"):
        return None
    return certificate


def revocation_entry(public_id: str) -> str:
    """How a certificate appears in the revocation list: SHA-256 of its public id,
    so the list names no certificate to whoever reads it."""
    return hashlib.sha256(public_id.encode("ascii")).hexdigest()


def revocation_list() -> dict:
    """Revoked and replaced certificates still within their validity, hashed, and
    the same content signed with the QR seal key so that a cached copy can be trusted."""
    today = timezone.localdate()

    def ids() -> tuple[list[str], list[str]]:
        current = Certificate.objects.filter(valid_until__gte=today)
        revoked = list(current.filter(revoked_at__isnull=False).values_list("public_id", flat=True))
        replaced = list(
            current.filter(revoked_at__isnull=True, superseded_by__isnull=False).values_list("public_id", flat=True)
        )
        return revoked, replaced

    # From the replica when its lag allows (both lists in one read, so from one server).
    revoked_ids, replaced_ids = replica.read(ids)
    revoked = sorted(revocation_entry(p) for p in revoked_ids)
    replaced = sorted(revocation_entry(p) for p in replaced_ids)
    generated_at = timezone.now().replace(microsecond=0).isoformat()
    claims = {"t": "revocations", "v": REVOCATION_LIST_VERSION, "g": generated_at, "r": revoked, "s": replaced}
    return {
        "version": REVOCATION_LIST_VERSION,
        "generated_at": generated_at,
        "revoked": revoked,
        "replaced": replaced,
        "signed": sign_payload(claims),
    }
