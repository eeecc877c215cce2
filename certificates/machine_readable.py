"""Machine-readable certificates: the facts as JSON inside the signed PDF.

Every certificate PDF carries ``certificate.json``, an associated file of the
document (PDF/A-3: a file specification with ``/AFRelationship /Data`` listed
in the catalog's ``/AF`` and in the embedded-files name tree, its stream typed
``application/json`` with a modification date). It is added in the same
incremental update as the PAdES signature (``signing.sign_pdf``), so the
signature's byte range covers it: changing one byte of the JSON breaks the
signature.

The JSON follows the JSON Schema built by ``schema()`` from
``schemas/certificate.json`` and each kind's fragment, published at
``/api/v1/schemas/certificate.json`` (docs/certificates.md). It is the
snapshot printed on the page (docs/style.md, "Documents are snapshots") plus the
issuer and the verify address: what the PDF already shows, nothing more.
"""

from __future__ import annotations

import functools
import json
from datetime import datetime
from io import BytesIO
from pathlib import Path
from typing import Any

from django.conf import settings

from certificates.documents import CertificateSnapshot

ATTACHMENT_NAME = "certificate.json"
MIME_TYPE = "application/json"
SCHEMA_VERSION = 1
SCHEMA_PATH = Path(__file__).resolve().parent / "schemas" / "certificate.json"
SCHEMA_URL_PATH = "/api/v1/schemas/certificate.json"
# Mentions of the file inside a PDF reader's attachment panel.
DESCRIPTION = "Faits de l'attestation (JSON) / Certificate facts (JSON)"


def schema() -> dict[str, Any]:
    """The JSON Schema of certificate.json: ``schemas/certificate.json`` plus each registered kind.

    Each kind's folder holds its facts' fragment (``facts.schema.json``); it
    becomes ``$defs/<kind>``, and ``facts`` must match it when ``kind`` names it.
    """
    from certificates import registry

    document = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    kinds = registry.kinds()
    document["properties"]["kind"]["enum"] = [kind.value for kind in kinds]
    document["allOf"] = [
        {
            "if": {"properties": {"kind": {"const": kind.value}}},
            "then": {"properties": {"facts": {"$ref": f"#/$defs/{kind.value}"}}},
        }
        for kind in kinds
    ]
    for kind in kinds:
        document["$defs"][kind.value] = kind.schema()
    return document


def schema_bytes() -> bytes:
    """The served schema, built once for each state of the registry (the schema endpoint is public)."""
    from certificates import registry

    return _schema_bytes(registry.generation())


@functools.cache
def _schema_bytes(generation: int) -> bytes:
    return json.dumps(schema(), ensure_ascii=False, indent=2).encode("utf-8")


def certificate_facts(snapshot: CertificateSnapshot) -> dict[str, Any]:
    """The JSON document of ``snapshot``, as embedded in its PDF."""
    from certificates.rendering import FUND_NAME_AR, FUND_NAME_FR

    data = snapshot.to_dict()
    return {
        "$schema": f"{settings.SITE_URL}{SCHEMA_URL_PATH}",
        "schema_version": SCHEMA_VERSION,
        "kind": data["kind"],
        "number": data["number"],
        "public_id": data["public_id"],
        "verification_code": data["verification_code"],
        "issued_on": data["issued_on"],
        "valid_until": data["valid_until"],
        "issuer": {"name": FUND_NAME_FR, "name_ar": FUND_NAME_AR},
        "holder": data["holder"],
        "facts": data["facts"],
        "verify_url": f"{settings.SITE_URL}/verify/",
    }


def certificate_json_bytes(snapshot: CertificateSnapshot) -> bytes:
    """UTF-8 JSON, keys sorted, Arabic as is: the same snapshot always gives the same bytes."""
    return json.dumps(certificate_facts(snapshot), ensure_ascii=False, sort_keys=True, indent=2).encode("utf-8")


def embed_json(writer, data: bytes, *, modified: datetime) -> None:
    """Add ``data`` to the pending update of pyHanko's ``writer`` as the associated file ``certificate.json``.

    pyHanko's ``embed_file`` would register the /AF entry itself, but then
    raises the file to PDF 2.0, which PDF/A-3 (PDF 1.7) forbids; so the file is
    embedded as a plain attachment and made an associated file here.
    """
    from pyhanko.pdf_utils import embed, generic

    stream = embed.EmbeddedFileObject.from_file_data(
        writer,
        data=data,
        mime_type=MIME_TYPE,
        params=embed.EmbeddedFileParams(creation_date=modified, modification_date=modified),
    )
    spec = embed.FileSpec(
        file_spec_string=ATTACHMENT_NAME,
        file_name=ATTACHMENT_NAME,
        embedded_data=stream,
        description=DESCRIPTION,
    )
    embed.embed_file(writer, spec)
    names = writer.root["/Names"]["/EmbeddedFiles"]["/Names"]
    spec_ref = names[-1]
    spec_obj = spec_ref.get_object()
    spec_obj["/AFRelationship"] = generic.NameObject("/Data")
    writer.update_container(spec_obj)
    root = writer.root
    if "/AF" in root:
        af = root["/AF"]
        af.append(spec_ref)
        writer.update_container(af)
    else:
        root["/AF"] = writer.add_object(generic.ArrayObject([spec_ref]))
        writer.update_root()


def extract_json_bytes(pdf: bytes) -> bytes | None:
    """The bytes of ``certificate.json`` among the PDF's associated files, or None."""
    from pyhanko.pdf_utils.reader import PdfFileReader

    try:
        root = PdfFileReader(BytesIO(pdf), strict=False).root
        associated = root.get("/AF")
        for ref in associated.get_object() if associated is not None else ():
            spec = ref.get_object()
            if str(spec.get("/UF", spec.get("/F", ""))) == ATTACHMENT_NAME:
                return spec["/EF"]["/F"].get_object().data
    except Exception:
        return None
    return None


def extract_facts(pdf: bytes) -> dict[str, Any] | None:
    """The embedded facts as a dict, or None when absent or not JSON."""
    data = extract_json_bytes(pdf)
    if data is None:
        return None
    try:
        facts = json.loads(data)
    except ValueError:
        return None
    return facts if isinstance(facts, dict) else None
