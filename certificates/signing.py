"""The fund's keys, and the PAdES signature of certificate PDFs.

Key material (settings "Signing" section):

* ``DAMANE_SIGNING_KEY_PATH`` / ``DAMANE_SIGNING_CERT_PATH``: the document-signing
  key (PEM, optionally encrypted with ``DAMANE_SIGNING_KEY_PASSPHRASE``) and its
  certificate; ``DAMANE_SIGNING_CHAIN_PATHS``: the issuers, embedded in every
  signature so that a verifier can build the path to a root it trusts.
* ``DAMANE_QR_KEYS_DIR``: the QR seal keys (see ``certificates.qrpayload``).

In development ``manage.py init_signing`` (or the first signature, while
``DAMANE_SIGNING_AUTO_CREATE``) writes a development root CA, a signing
certificate it issued and a QR seal key into ``DAMANE_SIGNING_DIR``: all EC P-256,
files 0600, never overwritten without ``--force``.

The private key is a ``certificates.keystore.KeyHandle``: the PEM file above, or a
key inside a PKCS#11 token when ``DAMANE_SIGNING_PKCS11_MODULE`` is set (the
certificate and chain stay files: they are public). ``sign_bytes()`` signs
anything else with the same key (JWS receipts).

``sign_pdf()`` appends a PAdES baseline signature (ETSI.CAdES.detached) as an
incremental update, with a visible stamp in ``rendering.SIGNATURE_BOX``. With
``DAMANE_TSA_URL`` (an RFC 3161 timestamp authority) it is B-LT: timestamped, and
the chain with the CRL of the issuing CA (``DAMANE_SIGNING_CRL_PATH``) go in the
document security store, so it validates offline after the certificate expired.
A timestamp authority that fails twice raises ``TimestampUnavailable``: never an
unstamped signature when one is configured. Without a TSA, B-B.
Keys are loaded once per process; so are the parsed stamp (per day) and the
room reserved for a signature (per key and timestamp authority).
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from io import BytesIO
from pathlib import Path
from zoneinfo import ZoneInfo

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from django.conf import settings

from certificates import keystore, rendering

log = logging.getLogger(__name__)


class _LocalCrlNotice(logging.Filter):
    """pyHanko warns at every B-LT signature that fetching is off: on purpose here, the CRL is local."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "fetching is not allowed" not in record.getMessage()


logging.getLogger("pyhanko.sign.signers.pdf_signer").addFilter(_LocalCrlNotice())

ROOT_KEY_FILE = "root-ca-key.pem"
ROOT_CERT_FILE = "root-ca.pem"
ROOT_CRL_FILE = "root-ca.crl"
SIGNING_KEY_FILE = "signing-key.pem"
SIGNING_CERT_FILE = "signing-cert.pem"
QR_KEYS_DIR = "qr-keys"
QR_CURRENT_FILE = "current"

ROOT_VALIDITY = timedelta(days=3652)  # ten years
SIGNING_VALIDITY = timedelta(days=3 * 365)
# The development CA's CRL is issued again at every change; this is how long one
# copy stays current for a verifier.
CRL_VALIDITY = timedelta(days=30)
# Where the portal serves the development CA's CRL (verification app), written
# into the signing certificates it issues.
CRL_URL_PATH = "/verify/pki/root-ca.crl"

DEFAULT_REASON = "Attestation délivrée par la CNSS / شهادة مسلمة من طرف الصندوق الوطني للضمان الاجتماعي"
DEFAULT_LOCATION = "Casablanca, Maroc"


class SigningError(Exception):
    """The key material is missing, unreadable or inconsistent."""


class TimestampUnavailable(SigningError):
    """The timestamp authority did not answer, twice: nothing was signed (the person tries again later)."""


key_id = keystore.key_id


# --- Development key material ----------------------------------------------------


def _write_private(path: Path, data: bytes) -> None:
    """0600 from the first byte: the key is never readable by others, even briefly."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    os.chmod(path, 0o600)


def _key_pem(key: ec.EllipticCurvePrivateKey, passphrase: str) -> bytes:
    encryption = (
        serialization.BestAvailableEncryption(passphrase.encode()) if passphrase else serialization.NoEncryption()
    )
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption)


# The development root CA's name: certificates/health.py refuses a production deployment
# whose signing certificate it issued.
DEV_ROOT_CA_NAME = "CNSS Damane Root CA (développement)"


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "MA"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Caisse Nationale de Sécurité Sociale"),
            x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, "Damane (développement)"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def create_dev_pki(
    directory: Path,
    *,
    passphrase: str = "",
    force: bool = False,
    now: datetime | None = None,
    signing_public_key=None,
    signing_validity: timedelta = SIGNING_VALIDITY,
) -> list[Path]:
    """A development root CA, its (empty) CRL and a document-signing certificate it issued.

    ``signing_public_key``: certify this key (made inside a PKCS#11 token) instead
    of generating a key file. Refuses to overwrite existing files unless ``force``:
    replacing a key makes every certificate signed with it unverifiable against
    the new root.
    """
    directory = Path(directory)
    names = [ROOT_KEY_FILE, ROOT_CERT_FILE, SIGNING_CERT_FILE] + ([] if signing_public_key else [SIGNING_KEY_FILE])
    paths = [directory / name for name in names]
    existing = [p for p in paths if p.exists()]
    if existing and not force:
        raise FileExistsError(f"signing files already exist: {', '.join(str(p) for p in existing)}")
    now = now or datetime.now(UTC)
    root_key = ec.generate_private_key(ec.SECP256R1())
    root_name = _name(DEV_ROOT_CA_NAME)
    root_ski = x509.SubjectKeyIdentifier.from_public_key(root_key.public_key())
    root_cert = (
        x509.CertificateBuilder()
        .subject_name(root_name)
        .issuer_name(root_name)
        .public_key(root_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + ROOT_VALIDITY)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(root_ski, critical=False)
        .sign(root_key, hashes.SHA256())
    )
    signing_key = None
    if signing_public_key is None:
        signing_key = ec.generate_private_key(ec.SECP256R1())
        signing_public_key = signing_key.public_key()
    signing_cert = issue_dev_signing_certificate(
        root_key, root_cert, signing_public_key, now=now, validity=signing_validity
    )
    _write_private(directory / ROOT_KEY_FILE, _key_pem(root_key, passphrase))
    _write_private(directory / ROOT_CERT_FILE, root_cert.public_bytes(serialization.Encoding.PEM))
    if signing_key is not None:
        _write_private(directory / SIGNING_KEY_FILE, _key_pem(signing_key, passphrase))
    _write_private(directory / SIGNING_CERT_FILE, signing_cert.public_bytes(serialization.Encoding.PEM))
    write_dev_crl(directory, passphrase=passphrase, revoked=(), now=now)
    return [*paths, directory / ROOT_CRL_FILE]


def _crl_url() -> str:
    return f"{settings.SITE_URL}{CRL_URL_PATH}"


def issue_dev_signing_certificate(
    root_key, root_cert: x509.Certificate, public_key, *, now: datetime | None = None, validity=SIGNING_VALIDITY
) -> x509.Certificate:
    """A document-signing certificate for ``public_key`` from the development root, naming its CRL."""
    now = now or datetime.now(UTC)
    root_ski = root_cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    return (
        x509.CertificateBuilder()
        .subject_name(_name("CNSS Damane - signature des attestations (développement)"))
        .issuer_name(root_cert.subject)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + validity)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=True,  # nonRepudiation
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(root_ski), critical=False)
        .add_extension(
            x509.CRLDistributionPoints(
                [
                    x509.DistributionPoint(
                        full_name=[x509.UniformResourceIdentifier(_crl_url())],
                        relative_name=None,
                        reasons=None,
                        crl_issuer=None,
                    )
                ]
            ),
            critical=False,
        )
        .sign(root_key, hashes.SHA256())
    )


def write_dev_crl(directory: Path, *, passphrase: str = "", revoked: tuple = (), now: datetime | None = None) -> Path:
    """Issue the development CA's CRL again: the serials in it stay, ``revoked`` adds (serial, when) pairs."""
    directory = Path(directory)
    now = now or datetime.now(UTC)
    root_key = serialization.load_pem_private_key(
        (directory / ROOT_KEY_FILE).read_bytes(), password=passphrase.encode() if passphrase else None
    )
    root_cert = x509.load_pem_x509_certificate((directory / ROOT_CERT_FILE).read_bytes())
    entries: dict[int, datetime] = {}
    path = directory / ROOT_CRL_FILE
    number = 1
    if path.exists():
        previous = x509.load_der_x509_crl(path.read_bytes())
        for entry in previous:
            entries[entry.serial_number] = entry.revocation_date_utc
        with contextlib.suppress(x509.ExtensionNotFound):
            number = previous.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number + 1
    for serial, when in revoked:
        entries.setdefault(serial, when)
    root_ski = root_cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(root_cert.subject)
        .last_update(now - timedelta(minutes=5))
        .next_update(now + CRL_VALIDITY)
        .add_extension(x509.CRLNumber(number), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(root_ski), critical=False)
    )
    for serial, when in sorted(entries.items()):
        builder = builder.add_revoked_certificate(
            x509.RevokedCertificateBuilder().serial_number(serial).revocation_date(when).build()
        )
    crl = builder.sign(root_key, hashes.SHA256())
    _write_private(path, crl.public_bytes(serialization.Encoding.DER))
    return path


def create_qr_key(directory: Path, *, passphrase: str = "", make_current: bool = True) -> tuple[str, Path]:
    """A new EC P-256 QR seal key ``<kid>.pem``; ``current`` names it when ``make_current``.

    Earlier keys stay in the directory so payloads they signed still verify.
    """
    directory = Path(directory)
    key = ec.generate_private_key(ec.SECP256R1())
    kid = key_id(key.public_key())
    path = directory / f"{kid}.pem"
    _write_private(path, _key_pem(key, passphrase))
    if make_current:
        _write_private(directory / QR_CURRENT_FILE, f"{kid}\n".encode())
    return kid, path


def create_qr_key_in_token(directory: Path, token: keystore.Token, *, make_current: bool = True) -> tuple[str, Path]:
    """A new QR seal key made inside the PKCS#11 token (``qr-<kid>``), its public half ``<kid>.pub.pem``."""
    directory = Path(directory)
    pending = f"{keystore.QR_KEY_LABEL_PREFIX}pending-{os.urandom(4).hex()}"
    public = token.generate(pending)
    kid = key_id(public)
    token.relabel(pending, keystore.qr_key_label(kid))
    path = directory / f"{kid}.pub.pem"
    _write_private(
        path, public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    if make_current:
        _write_private(directory / QR_CURRENT_FILE, f"{kid}\n".encode())
    return kid, path


def certify_token_key(public_key, directory: Path, *, passphrase: str = "", now: datetime | None = None) -> Path:
    """Have the development CA in ``directory`` certify ``public_key`` (made in a token); the certificate's path.

    The root and its CRL are created when absent; an existing root issues the
    new certificate, so documents signed before still validate against it.
    """
    directory = Path(directory)
    if not (directory / ROOT_KEY_FILE).exists():
        create_dev_pki(directory, passphrase=passphrase, signing_public_key=public_key, now=now, force=True)
        return directory / SIGNING_CERT_FILE
    root_key = serialization.load_pem_private_key(
        (directory / ROOT_KEY_FILE).read_bytes(), password=passphrase.encode() if passphrase else None
    )
    root_cert = x509.load_pem_x509_certificate((directory / ROOT_CERT_FILE).read_bytes())
    certificate = issue_dev_signing_certificate(root_key, root_cert, public_key, now=now)
    path = directory / SIGNING_CERT_FILE
    _write_private(path, certificate.public_bytes(serialization.Encoding.PEM))
    return path


def certificate_signing_request(handle: keystore.KeyHandle, common_name: str) -> bytes:
    """A PKCS#10 request (PEM) for the key in ``handle``, signed by it: for the fund's real CA."""
    from asn1crypto import csr as asn1_csr
    from asn1crypto import keys as asn1_keys
    from asn1crypto import pem as asn1_pem
    from asn1crypto import x509 as asn1_x509

    public_der = handle.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    info = asn1_csr.CertificationRequestInfo(
        {
            "version": "v1",
            "subject": asn1_x509.Name.load(_name(common_name).public_bytes()),
            "subject_pk_info": asn1_keys.PublicKeyInfo.load(public_der),
            "attributes": [],
        }
    )
    request = asn1_csr.CertificationRequest(
        {
            "certification_request_info": info,
            "signature_algorithm": {"algorithm": "sha256_ecdsa"},
            "signature": handle.sign(info.dump()),
        }
    )
    return asn1_pem.armor("CERTIFICATE REQUEST", request.dump())


def ensure_dev_material() -> None:
    """Create the development keys on first use, when allowed and absent (logged).

    Never with a PKCS#11 token: its keys are made by ``init_signing --pkcs11`` only.
    """
    if not settings.DAMANE_SIGNING_AUTO_CREATE or keystore.pkcs11_enabled():
        return
    with _lock:
        if not Path(settings.DAMANE_SIGNING_KEY_PATH).exists() and not Path(settings.DAMANE_SIGNING_CERT_PATH).exists():
            directory = Path(settings.DAMANE_SIGNING_DIR)
            create_dev_pki(directory, passphrase=settings.DAMANE_SIGNING_KEY_PASSPHRASE)
            log.warning("Created a development signing CA and certificate in %s", directory)
        qr_dir = Path(settings.DAMANE_QR_KEYS_DIR)
        if not (qr_dir / QR_CURRENT_FILE).exists():
            kid, _path = create_qr_key(qr_dir, passphrase=settings.DAMANE_SIGNING_KEY_PASSPHRASE)
            log.warning("Created a development QR seal key %s in %s", kid, qr_dir)


# --- The signer, loaded once per process -------------------------------------------


@dataclass(frozen=True)
class SigningMaterial:
    signer: object  # a pyHanko Signer: SimpleSigner (file key) or PKCS11Signer (token)
    certificate: x509.Certificate
    key_id: str
    signer_name: str
    key: keystore.KeyHandle
    chain: tuple[x509.Certificate, ...] = ()


_lock = threading.RLock()
_material: dict[tuple, SigningMaterial] = {}
_timestampers: dict[str, object] = {}


def _config_key() -> tuple:
    return (
        str(settings.DAMANE_SIGNING_KEY_PATH),
        str(settings.DAMANE_SIGNING_CERT_PATH),
        tuple(str(p) for p in settings.DAMANE_SIGNING_CHAIN_PATHS),
        settings.DAMANE_SIGNING_KEY_PASSPHRASE,
        str(settings.DAMANE_SIGNING_PKCS11_MODULE),
        settings.DAMANE_SIGNING_PKCS11_TOKEN_LABEL,
        settings.DAMANE_SIGNING_PKCS11_KEY_LABEL,
        str(settings.DAMANE_SIGNING_PKCS11_PIN_FILE),
    )


def get_signing_material() -> SigningMaterial:
    config = _config_key()
    material = _material.get(config)
    if material is not None:
        return material
    ensure_dev_material()
    with _lock:
        material = _material.get(config)
        if material is None:
            material = _load(*config)
            _material[config] = material
    return material


def reset_material_cache() -> None:
    """Forget the loaded signing key: the next signature reads the configuration again (tests, rotation)."""
    with _lock:
        _material.clear()
        _reserved.clear()


def _file_key(key_path: str, passphrase: str) -> keystore.FileKey:
    if not Path(key_path).is_file():
        raise SigningError(f"signing file not found: {key_path} (run manage.py init_signing, or set the paths)")
    try:
        return keystore.FileKey.load(Path(key_path), passphrase)
    except (ValueError, TypeError) as error:
        raise SigningError(f"cannot load the signing key {key_path}: {error.__class__.__name__}") from None


def _load(
    key_path: str,
    cert_path: str,
    chain_paths: tuple[str, ...],
    passphrase: str,
    module: str = "",
    token_label: str = "",
    key_label: str = "",
    pin_file: str = "",
) -> SigningMaterial:
    for path in (cert_path, *chain_paths):
        if not Path(path).is_file():
            raise SigningError(f"signing file not found: {path} (run manage.py init_signing, or set the paths)")
    # The token named by the settings (module, token label, PIN file): one per process.
    key = keystore.Pkcs11Key(keystore.configured_token(), key_label) if module else _file_key(key_path, passphrase)
    certificate_pem = Path(cert_path).read_bytes()
    chain_pems = [Path(path).read_bytes() for path in chain_paths]
    certificate = x509.load_pem_x509_certificate(certificate_pem)
    if key_id(key.public_key()) != key_id(certificate.public_key()):
        raise SigningError(f"the signing key does not match its certificate {cert_path}")
    signer = key.pdf_signer(certificate_pem=certificate_pem, chain_pems=chain_pems)
    names = certificate.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME) or (
        certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    )
    return SigningMaterial(
        signer=signer,
        certificate=certificate,
        key_id=key_id(certificate.public_key()),
        signer_name=str(names[0].value) if names else certificate.subject.rfc4514_string(),
        key=key,
        chain=tuple(cert for pem in chain_pems for cert in x509.load_pem_x509_certificates(pem)),
    )


def load_signing_material() -> SigningMaterial:
    """Read the signing certificate from disk now and the key again (readiness checks).

    A token's session is the process's own: reopening it for every readiness
    probe would only measure the library's start-up.
    """
    return _load(*_config_key())


def get_signer():
    """The pyHanko signer for certificate PDFs (created in development on first use)."""
    return get_signing_material().signer


def signing_key_id() -> str:
    """Key id of the document-signing certificate's key, stored on each certificate."""
    return get_signing_material().key_id


def sign_bytes(data: bytes) -> bytes:
    """``data`` signed with the fund's document-signing key: ES256, the raw 64-byte ``r || s`` of JWS.

    The key whose certificate signs the PDFs (``signing_certificate_chain()``
    gives it with its issuers, for a JWS ``x5c`` header); in a PKCS#11 token when
    one is configured. The one entry point for other signed formats (receipts).
    """
    return get_signing_material().key.sign_raw(data)


def signing_certificate_chain() -> list[x509.Certificate]:
    """The document-signing certificate first, then its issuers up to the root."""
    material = get_signing_material()
    return [material.certificate, *material.chain]


def signing_round_trip() -> None:
    """Sign a nonce with the document-signing key and check it against its certificate (readiness)."""
    from cryptography.hazmat.primitives.asymmetric import ec as _ec

    material = get_signing_material()
    nonce = os.urandom(32)
    material.certificate.public_key().verify(material.key.sign(nonce), nonce, _ec.ECDSA(hashes.SHA256()))


def _default_timestamper():
    url = settings.DAMANE_TSA_URL
    if not url:
        return None
    with _lock:
        stamper = _timestampers.get(url)
        if stamper is None:
            from pyhanko.sign.timestamps import HTTPTimeStamper

            stamper = HTTPTimeStamper(url, timeout=settings.DAMANE_TSA_TIMEOUT_SECONDS)
            _timestampers[url] = stamper
    return stamper


def _pdf17_signer_class():
    """PdfSigner that keeps the file a PDF 1.7 with the ESIC (PAdES) extension.

    pyHanko marks ECDSA P-256 signatures with the ISO 32002 extension, which
    raises the catalog to PDF 2.0; PDF/A-2 and PDF/A-3 are PDF 1.7, and PAdES on PDF 1.7
    (ETSI EN 319 142-1) already allows ECDSA. So only the ESIC extension is
    declared.
    """
    from pyhanko.sign.fields import SigSeedSubFilter
    from pyhanko.sign.signers import PdfSigner, constants

    class Pdf17Signer(PdfSigner):
        def register_extensions(self, pdf_out, *, md_algorithm: str) -> None:
            pdf_out.ensure_output_version(version=(1, 7))
            if self.signature_meta.subfilter == SigSeedSubFilter.PADES and pdf_out.output_version < (2, 0):
                pdf_out.register_extension(constants.ESIC_EXTENSION_1)

    return Pdf17Signer


class _StampContent:
    """The visible stamp as pyHanko stamp content, from a PDF page parsed once per process.

    pyHanko only imports pages from files; this imports page 0 of the stamp
    PDF (``rendering.render_signature_stamp``, one per signer and day) from a
    reader kept per process (``_stamp_reader``), instead of parsing the stamp
    again for every signature. Each signed file still gets its own copy of the
    stamp's objects (a PDF cannot point into another one).
    """

    @staticmethod
    def make(reader):
        from pyhanko.pdf_utils import content, layout

        class ImportedStamp(content.PdfContent):
            def render(self) -> bytes:
                # pyHanko's reader resolves objects lazily into its own cache:
                # one import at a time per process.
                with _stamp_lock:
                    xobj = self._ensure_writer.import_page_as_xobject(reader, page_ix=0)
                self.resources.xobject["/Stamp"] = xobj
                x1, y1, x2, y2 = xobj.get_object()["/BBox"]
                self.box = layout.BoxConstraints(width=abs(x2 - x1), height=abs(y2 - y1))
                return b"/Stamp Do"

        return ImportedStamp()


_stamp_lock = threading.Lock()


@lru_cache(maxsize=8)
def _stamp_reader(signer_name: str, signed_on: str):
    """The parsed stamp PDF of a signer on a day (rendered by WeasyPrint once per process and day)."""
    from pyhanko.pdf_utils.reader import PdfFileReader

    return PdfFileReader(BytesIO(rendering.render_signature_stamp(signer_name, signed_on)))


# Room reserved for the CMS signature (hex digits), learnt once per process for
# each key and timestamp authority: see ``_reserved_size``.
_reserved: dict[tuple, int] = {}


def _reserved_size(signed: bytes) -> int:
    """The room pyHanko reserved for the signature in ``signed``, from its /ByteRange.

    /ByteRange [0 a b c]: bytes a to b are the /Contents hex string with its
    two angle brackets, which pyHanko sized from a dummy signature plus a 50 %
    margin for the variations between signatures (an ECDSA value is 70 to 72
    bytes; a timestamp token varies).
    """
    from pyhanko.pdf_utils.reader import PdfFileReader

    (signature,) = PdfFileReader(BytesIO(signed)).embedded_signatures
    _zero, start, end, _length = (int(x) for x in signature.sig_object["/ByteRange"])
    return end - start - 2


def sign_pdf(
    pdf_bytes: bytes,
    *,
    field_name: str = "CNSS",
    reason: str = DEFAULT_REASON,
    location: str = DEFAULT_LOCATION,
    box: tuple[float, float, float, float] = rendering.SIGNATURE_BOX,
    timestamper=None,
    embedded_json: bytes | None = None,
) -> bytes:
    """``pdf_bytes`` with a PAdES baseline signature appended (B-LT with a TSA, else B-B).

    ``timestamper`` overrides the one configured by ``DAMANE_TSA_URL`` (tests
    pass an in-process TSA). ``embedded_json`` is added as the associated file
    ``certificate.json`` in the signed update, so the signature covers it
    (``certificates.machine_readable``).
    """
    material = get_signing_material()
    # The size of a signature depends on the key, its chain and the timestamp
    # authority: learnt by pyHanko's own estimate (a dummy signature) on the
    # first signature, then reused. An explicit timestamper (tests) is never
    # cached.
    reserve_key = (_config_key(), settings.DAMANE_TSA_URL) if timestamper is None else None
    timestamper = timestamper or _default_timestamper()
    signed_on = datetime.now(ZoneInfo(settings.TIME_ZONE))
    arguments = {
        "material": material,
        "field_name": field_name,
        "reason": reason,
        "location": location,
        "box": box,
        "timestamper": timestamper,
        "embedded_json": embedded_json,
        "signed_on": signed_on,
    }
    # A timestamp authority that fails (down, slow, refusing) gets one more try;
    # then nothing is signed: an unstamped signature is never the fallback.
    attempts = 2 if timestamper is not None else 1
    for attempt in range(1, attempts + 1):
        try:
            return _sign_with_room(pdf_bytes, reserve_key, arguments)
        except OSError as error:  # pyHanko's TimestampRequestError, requests' timeouts and refusals
            if timestamper is None:
                raise
            log.warning(
                "Timestamp authority failed (%s), attempt %s of %s", error.__class__.__name__, attempt, attempts
            )
    raise TimestampUnavailable("the timestamp authority did not answer")


def _sign_with_room(pdf_bytes: bytes, reserve_key, arguments: dict) -> bytes:
    from pyhanko.sign.general import SigningError as PdfSigningError

    bytes_reserved = _reserved.get(reserve_key) if reserve_key is not None else None
    if bytes_reserved is not None:
        try:
            return _sign(pdf_bytes, bytes_reserved=bytes_reserved, **arguments)
        except PdfSigningError as error:
            # Most likely a signature longer than the room learnt (a timestamp
            # authority whose answers grew): estimate again; any other error
            # comes back from the second attempt.
            log.warning("Signing with %s bytes reserved failed (%s); estimating again", bytes_reserved, error)
            _reserved.pop(reserve_key, None)
    signed = _sign(pdf_bytes, bytes_reserved=None, **arguments)
    if reserve_key is not None:
        _reserved[reserve_key] = _reserved_size(signed)
    return signed


def long_term_validation_context(material: SigningMaterial):
    """What pyHanko validates the new signature and its timestamp with, to embed the result (DSS).

    The chain's roots are trusted; the CRL of the issuing CA comes from
    ``DAMANE_SIGNING_CRL_PATH`` (refreshed by the CA's publication), or, when that
    is empty, is fetched from the certificates' distribution points.
    """
    from asn1crypto import x509 as asn1_x509
    from pyhanko_certvalidator import ValidationContext

    chain = [asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER)) for cert in material.chain]
    roots = [cert for cert in chain if cert.self_signed]
    crl_path = settings.DAMANE_SIGNING_CRL_PATH
    crls = []
    if crl_path:
        try:
            crls.append(Path(crl_path).read_bytes())
        except OSError as error:
            raise SigningError(f"cannot read the CRL {crl_path} for long-term validation ({error})") from None
    return ValidationContext(
        trust_roots=roots or chain,
        other_certs=chain,
        crls=crls,
        allow_fetching=not crl_path,
        revocation_mode="soft-fail",
    )


def _sign(
    pdf_bytes: bytes,
    *,
    material: SigningMaterial,
    field_name: str,
    reason: str,
    location: str,
    box: tuple[float, float, float, float],
    timestamper,
    embedded_json: bytes | None,
    signed_on: datetime,
    bytes_reserved: int | None,
) -> bytes:
    """One signature; pyHanko estimates the room for it when ``bytes_reserved`` is None."""
    from pyhanko.pdf_utils import layout
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import fields, signers
    from pyhanko.stamp import StaticStampStyle

    style = StaticStampStyle(
        background=_StampContent.make(_stamp_reader(material.signer_name, rendering.stamp_date(signed_on))),
        background_opacity=1.0,
        border_width=0,
        # The stamp page is exactly the size of the box: no margin, no scaling.
        background_layout=layout.SimpleBoxLayoutRule(
            x_align=layout.AxisAlignment.ALIGN_MIN,
            y_align=layout.AxisAlignment.ALIGN_MIN,
            margins=layout.Margins(),
            inner_content_scaling=layout.InnerScaling.NO_SCALING,
        ),
    )
    meta = signers.PdfSignatureMetadata(
        field_name=field_name,
        reason=reason,
        location=location,
        name=material.signer_name,
        md_algorithm="sha256",
        subfilter=fields.SigSeedSubFilter.PADES,
        # B-LT: with trusted time, the chain and the revocation data go in the DSS.
        embed_validation_info=timestamper is not None,
        validation_context=long_term_validation_context(material) if timestamper is not None else None,
    )
    pdf_signer = _pdf17_signer_class()(
        meta,
        signer=material.signer,
        timestamper=timestamper,
        stamp_style=style,
        new_field_spec=fields.SigFieldSpec(sig_field_name=field_name, box=box, on_page=0),
    )
    writer = IncrementalPdfFileWriter(BytesIO(pdf_bytes))
    if embedded_json is not None:
        from certificates.machine_readable import embed_json

        embed_json(writer, embedded_json, modified=signed_on)
    return pdf_signer.sign_pdf(writer, bytes_reserved=bytes_reserved).getvalue()
