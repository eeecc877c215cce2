"""Key handles: the fund's private keys, in files or in a PKCS#11 token (an HSM).

Every signature the portal makes (the PAdES signature of certificate PDFs, the QR
payloads, the signed revocation list) goes through a ``KeyHandle``:

* ``FileKey``: an EC P-256 key read from a PEM file (the demo, the tests);
* ``Pkcs11Key``: an EC P-256 key generated inside a PKCS#11 token, which never
  leaves it; the token signs a SHA-256 digest (``CKM_ECDSA``, which every token
  has). Selected by ``DAMANE_SIGNING_PKCS11_MODULE`` (the vendor's library), with
  ``DAMANE_SIGNING_PKCS11_TOKEN_LABEL``, ``DAMANE_SIGNING_PKCS11_KEY_LABEL`` and the
  user PIN read from ``DAMANE_SIGNING_PKCS11_PIN_FILE`` (a mounted secret, never an
  environment variable, never logged).

A handle signs bytes (``sign``: DER ECDSA-SHA256, ``sign_raw``: the 64-byte
``r || s`` of JOSE ES256) and gives the pyHanko signer for PDFs (for a token,
pyHanko's own ``pyhanko.sign.pkcs11.PKCS11Signer``). One session per process and
token, opened on first use and again after a fork; a lock keeps one operation at a
time on it (a PKCS#11 session runs one signing operation at a time).

Key labels in the token: the document-signing key is
``DAMANE_SIGNING_PKCS11_KEY_LABEL``; each QR seal key is ``qr-<kid>`` (its public
half is ``<kid>.pub.pem`` in ``DAMANE_QR_KEYS_DIR``, so that verification and the
published keys never need the token). docs/signing.md describes the ceremony.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import threading
from pathlib import Path

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature, encode_dss_signature
from django.conf import settings

QR_KEY_LABEL_PREFIX = "qr-"


class KeyStoreError(Exception):
    """The token, its PIN or a key in it cannot be used. Never carries the PIN."""


def key_id(public_key) -> str:
    """Short, stable key id: the first 16 hex digits of SHA-256(SubjectPublicKeyInfo DER)."""
    der = public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return hashlib.sha256(der).hexdigest()[:16]


def raw_signature(der: bytes) -> bytes:
    """DER ECDSA signature -> the 64-byte ``r || s`` of JOSE ES256."""
    r, s = decode_dss_signature(der)
    return r.to_bytes(32, "big") + s.to_bytes(32, "big")


class KeyHandle:
    """An EC P-256 private key that signs; where it lives is the subclass's business."""

    kind = ""

    def public_key(self) -> ec.EllipticCurvePublicKey:
        raise NotImplementedError

    @property
    def kid(self) -> str:
        return key_id(self.public_key())

    def sign(self, data: bytes) -> bytes:
        """ECDSA P-256 with SHA-256 over ``data``, DER encoded."""
        raise NotImplementedError

    def sign_raw(self, data: bytes) -> bytes:
        """The same signature as the raw 64-byte ``r || s`` (JWS ES256, QR payloads)."""
        return raw_signature(self.sign(data))

    def pdf_signer(self, *, certificate_pem: bytes, chain_pems: list[bytes]):
        """The pyHanko signer of PDFs with this key and its certificate."""
        raise NotImplementedError

    def round_trip(self) -> None:
        """Sign a fresh nonce and verify it with the public key (readiness). Raises on failure."""
        nonce = os.urandom(32)
        self.public_key().verify(self.sign(nonce), nonce, ec.ECDSA(hashes.SHA256()))


class FileKey(KeyHandle):
    kind = "file"

    def __init__(self, private_key: ec.EllipticCurvePrivateKey, *, path: Path | None = None, passphrase: str = ""):
        self._key = private_key
        self._path = path
        self._passphrase = passphrase

    @classmethod
    def load(cls, path: Path, passphrase: str = "") -> FileKey:
        key = serialization.load_pem_private_key(
            Path(path).read_bytes(), password=passphrase.encode() if passphrase else None
        )
        if not isinstance(key, ec.EllipticCurvePrivateKey) or not isinstance(key.curve, ec.SECP256R1):
            raise KeyStoreError(f"{path} is not an EC P-256 key")
        return cls(key, path=Path(path), passphrase=passphrase)

    @property
    def private_key(self) -> ec.EllipticCurvePrivateKey:
        return self._key

    def public_key(self):
        return self._key.public_key()

    def sign(self, data: bytes) -> bytes:
        return self._key.sign(data, ec.ECDSA(hashes.SHA256()))

    def pdf_signer(self, *, certificate_pem: bytes, chain_pems: list[bytes]):
        from asn1crypto import keys as asn1_keys
        from pyhanko.keys import load_certs_from_pemder_data
        from pyhanko.sign import signers
        from pyhanko_certvalidator.registry import SimpleCertificateStore

        (certificate,) = load_certs_from_pemder_data(certificate_pem)
        der = self._key.private_bytes(
            serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        chain = [cert for pem in chain_pems for cert in load_certs_from_pemder_data(pem)]
        return signers.SimpleSigner(
            signing_cert=certificate,
            signing_key=asn1_keys.PrivateKeyInfo.load(der),
            cert_registry=SimpleCertificateStore.from_certs(chain),
        )


# --- PKCS#11 ----------------------------------------------------------------------------


class Token:
    """One PKCS#11 token: its library, label and PIN file; one session per process."""

    def __init__(self, module: str, label: str, pin_file: str):
        self.module = module
        self.label = label
        self.pin_file = pin_file
        self.lock = threading.RLock()
        self._session = None
        self._pid = None

    def _pin(self) -> str:
        try:
            pin = Path(self.pin_file).read_text().strip()
        except OSError as error:
            raise KeyStoreError(f"cannot read the token PIN file ({error.__class__.__name__})") from None
        if not pin:
            raise KeyStoreError("the token PIN file is empty")
        return pin

    def session(self):
        """The process's read-write session, logged in (opened again after a fork)."""
        import pkcs11

        with self.lock:
            if self._session is None or self._pid != os.getpid():
                try:
                    token = pkcs11.lib(self.module).get_token(token_label=self.label)
                    pin = self._pin()
                    try:
                        self._session = token.open(user_pin=pin, rw=True)
                    except pkcs11.exceptions.UserAlreadyLoggedIn:
                        # The login is the process's, shared by its sessions (PKCS#11 §5.6).
                        self._session = token.open(rw=True)
                except KeyStoreError:
                    raise
                except Exception as error:  # PKCS11Error and friends; their text never holds the PIN
                    raise KeyStoreError(f"cannot open the token {self.label!r}: {error.__class__.__name__}") from None
                self._pid = os.getpid()
            return self._session

    def close(self) -> None:
        with self.lock:
            if self._session is not None and self._pid == os.getpid():
                # Closing a session the token already dropped is not an error.
                with contextlib.suppress(Exception):
                    self._session.close()
            self._session = None

    def private_key(self, label: str):
        from pkcs11 import ObjectClass
        from pkcs11.exceptions import MultipleObjectsReturned, NoSuchKey

        with self.lock:
            try:
                return self.session().get_key(object_class=ObjectClass.PRIVATE_KEY, label=label)
            except NoSuchKey:
                raise KeyStoreError(f"no private key labelled {label!r} in the token {self.label!r}") from None
            except MultipleObjectsReturned:
                raise KeyStoreError(f"several private keys labelled {label!r} in the token {self.label!r}") from None

    def public_key(self, label: str) -> ec.EllipticCurvePublicKey:
        from pkcs11 import ObjectClass
        from pkcs11.util.ec import encode_ec_public_key

        with self.lock:
            try:
                key = self.session().get_key(object_class=ObjectClass.PUBLIC_KEY, label=label)
            except KeyStoreError:
                raise
            except Exception as error:  # NoSuchKey, a session gone
                raise KeyStoreError(
                    f"no public key labelled {label!r} in the token: {error.__class__.__name__}"
                ) from None
            return serialization.load_der_public_key(encode_ec_public_key(key))

    def has_key(self, label: str) -> bool:
        from pkcs11 import Attribute, ObjectClass

        with self.lock:
            found = list(self.session().get_objects({Attribute.CLASS: ObjectClass.PRIVATE_KEY, Attribute.LABEL: label}))
        return bool(found)

    def generate(self, label: str) -> ec.EllipticCurvePublicKey:
        """A new EC P-256 key pair made inside the token: private half sensitive and not extractable."""
        from pkcs11 import Attribute, KeyType
        from pkcs11.util.ec import encode_ec_public_key, encode_named_curve_parameters

        with self.lock:
            session = self.session()
            parameters = session.create_domain_parameters(
                KeyType.EC, {Attribute.EC_PARAMS: encode_named_curve_parameters("secp256r1")}, local=True
            )
            key_id_bytes = os.urandom(8)
            public, _private = parameters.generate_keypair(
                store=True,
                label=label,
                id=key_id_bytes,
                public_template={Attribute.VERIFY: True},
                private_template={
                    Attribute.SIGN: True,
                    Attribute.SENSITIVE: True,
                    Attribute.EXTRACTABLE: False,
                    Attribute.PRIVATE: True,
                },
            )
            return serialization.load_der_public_key(encode_ec_public_key(public))

    def relabel(self, old: str, new: str) -> None:
        """Give the key pair labelled ``old`` the label ``new`` (a QR key is named after its id)."""
        from pkcs11 import Attribute

        with self.lock:
            for obj in list(self.session().get_objects({Attribute.LABEL: old})):
                obj[Attribute.LABEL] = new

    def destroy(self, label: str) -> None:
        """Delete the key pair labelled ``label`` (a retired QR seal key, a replaced signing key)."""
        from pkcs11 import Attribute

        with self.lock:
            for obj in list(self.session().get_objects({Attribute.LABEL: label})):
                obj.destroy()


class _LockedKey:
    """A token key object whose ``sign`` holds the token's lock (pyHanko calls it from a thread pool)."""

    def __init__(self, key, lock):
        self._key = key
        self._lock = lock

    def sign(self, data, **kwargs):
        with self._lock:
            return self._key.sign(data, **kwargs)

    def __getattr__(self, name):
        return getattr(self._key, name)


class Pkcs11Key(KeyHandle):
    kind = "pkcs11"

    def __init__(self, token: Token, label: str):
        self.token = token
        self.label = label
        self._public = None

    def public_key(self):
        if self._public is None:
            self._public = self.token.public_key(self.label)
        return self._public

    def sign(self, data: bytes) -> bytes:
        from pkcs11 import Mechanism

        digest = hashlib.sha256(data).digest()
        with self.token.lock:
            try:
                raw = self.token.private_key(self.label).sign(digest, mechanism=Mechanism.ECDSA)
            except KeyStoreError:
                raise
            except Exception as error:  # a token gone away: the next call opens a new session
                self.token.close()
                raise KeyStoreError(f"the token could not sign: {error.__class__.__name__}") from None
        return encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))

    def pdf_signer(self, *, certificate_pem: bytes, chain_pems: list[bytes]):
        from pyhanko.keys import load_certs_from_pemder_data
        from pyhanko.sign.pkcs11 import PKCS11Signer

        token = self.token

        class LockedPKCS11Signer(PKCS11Signer):
            def _pull_signing_key_handle(self):
                with token.lock:
                    return _LockedKey(super()._pull_signing_key_handle(), token.lock)

        (certificate,) = load_certs_from_pemder_data(certificate_pem)
        chain = [cert for pem in chain_pems for cert in load_certs_from_pemder_data(pem)]
        with token.lock:
            signer = LockedPKCS11Signer(
                token.session(),
                key_label=self.label,
                signing_cert=certificate,
                ca_chain=chain,
                # Hash in software, sign the digest in the token: CKM_ECDSA is
                # the one EC mechanism every token has (SoftHSM2 lacks ECDSA_SHA256).
                use_raw_mechanism=True,
            )
            signer._load_objects()  # the key handle now, not inside the first signature
        return signer


_tokens: dict[tuple, Token] = {}
_tokens_lock = threading.Lock()


def pkcs11_enabled() -> bool:
    return bool(settings.DAMANE_SIGNING_PKCS11_MODULE)


def configured_token() -> Token:
    """The token named by the settings (one object per process and configuration)."""
    config = (
        str(settings.DAMANE_SIGNING_PKCS11_MODULE),
        settings.DAMANE_SIGNING_PKCS11_TOKEN_LABEL,
        str(settings.DAMANE_SIGNING_PKCS11_PIN_FILE),
    )
    with _tokens_lock:
        token = _tokens.get(config)
        if token is None:
            token = _tokens[config] = Token(*config)
    return token


def qr_key_label(kid: str) -> str:
    return f"{QR_KEY_LABEL_PREFIX}{kid}"
