"""The CA hierarchy of the card PKI and the building of card certificates.

Three CAs, as in JPKI: a root, an issuing CA for signing certificates (署名用) and one for
authentication certificates (利用者証明用). Their RSA-2048 keys live in the key store
(:func:`kiban.platform.keys.get_key_store`); their certificates are made on first use and kept
as PEM files next to the keys (``<data_dir>/keys/identity-ca-*.crt``). A certificate file is
written aside and hard-linked into place, so when two processes start at once one of them wins
and both use the winner's certificate: the CA certificates are stable across processes and
restarts.

Card certificates are RSA-2048 keys made by the card, certified with SHA256withRSA. The signing
certificate carries the basic four in its subject alternative name as ``otherName`` entries
under kiban's private OID arc (:data:`ARC`, a UUID arc per ITU-T X.667, so it needs no
registration), each value a UTF8String, plus a ``directoryName`` with the name and address so
that ``openssl x509 -text`` shows something readable. See docs/adr/0005-card-pki.md.
"""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cached_property
from pathlib import Path
from typing import Literal

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import AuthorityInformationAccessOID, ExtendedKeyUsageOID, NameOID

from kiban.blocks.identity.models import CertificateKind
from kiban.blocks.identity.schemas import BasicFour
from kiban.kernel import clock
from kiban.platform.keys import create_file_once, get_key_store
from kiban.platform.settings import get_settings

CaName = Literal["root", "auth", "signing"]

ARC = "2.25.328280542481469624650436322389677264769"
"""kiban's private OID arc (a UUID-derived arc, ITU-T X.667)."""
OID_NAME = x509.ObjectIdentifier(f"{ARC}.1.1")
"""otherName: full name (氏名), UTF8String."""
OID_NAME_KANA = x509.ObjectIdentifier(f"{ARC}.1.2")
"""otherName: name in katakana (フリガナ), UTF8String; absent when unknown."""
OID_BIRTH_DATE = x509.ObjectIdentifier(f"{ARC}.1.3")
"""otherName: birth date (生年月日) as ``YYYYMMDD``, UTF8String."""
OID_SEX = x509.ObjectIdentifier(f"{ARC}.1.4")
"""otherName: sex (性別) as the JPKI code, ``1`` male or ``2`` female, UTF8String."""
OID_ADDRESS = x509.ObjectIdentifier(f"{ARC}.1.5")
"""otherName: address (住所) as one line, UTF8String."""
OID_POLICY_SIGNING = x509.ObjectIdentifier(f"{ARC}.2.1")
"""Certificate policy of signing certificates."""
OID_POLICY_AUTH = x509.ObjectIdentifier(f"{ARC}.2.2")
"""Certificate policy of authentication certificates."""

_SEX_CODES = {"male": "1", "female": "2"}
# The root outlives the issuing CAs, and both outlive any card (10 years at most).
_ROOT_LIFETIME = timedelta(days=365 * 20)
_ISSUING_LIFETIME = timedelta(days=365 * 12)
_CA_NAMES = {
    "root": "Kiban Root CA",
    "auth": "Kiban User Authentication CA",
    "signing": "Kiban Digital Signature CA",
}
_OU = {
    CertificateKind.AUTH: "User Authentication",
    CertificateKind.SIGNING: "Digital Signature",
}
# Certificates start a little in the past so that a relying party whose clock is slightly
# behind does not reject a certificate issued a moment ago.
_BACKDATE = timedelta(minutes=5)


@dataclass(frozen=True)
class CertificateAuthority:
    """One CA: its private key and its certificate."""

    name: CaName
    key: rsa.RSAPrivateKey
    certificate: x509.Certificate

    @property
    def pem(self) -> str:
        return self.certificate.public_bytes(serialization.Encoding.PEM).decode()

    @property
    def der(self) -> bytes:
        return self.certificate.public_bytes(serialization.Encoding.DER)

    @cached_property
    def fingerprint(self) -> bytes:
        """SHA-256 of the CA certificate's DER: what caches of checks against this CA are
        keyed by, so that a check made against one CA never answers for another."""
        return hashlib.sha256(self.der).digest()


_lock = threading.Lock()
_cache: dict[tuple[Path, CaName], CertificateAuthority] = {}
_resolved: dict[Path, Path] = {}


def _keys_dir() -> Path:
    # Resolving walks the file system; every card check asks for its CA, so remember it.
    data_dir = get_settings().data_dir
    found = _resolved.get(data_dir)
    if found is None:
        found = _resolved[data_dir] = (data_dir / "keys").resolve()
    return found


def _ca_subject(name: CaName) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "JP"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Kiban"),
            x509.NameAttribute(NameOID.COMMON_NAME, _CA_NAMES[name]),
        ]
    )


def _rsa_key(name: str) -> rsa.RSAPrivateKey:
    # RSA-2048 like the real JPKI CAs; a 3072-bit key would slow every test's first issue down
    # (each test starts from an empty data directory) without changing anything we show.
    key = get_key_store().get_or_create(name, "rsa-2048")
    if not isinstance(key, rsa.RSAPrivateKey):
        raise TypeError(f"key {name} is not an RSA key")
    return key


def _build_ca_certificate(
    name: CaName, key: rsa.RSAPrivateKey, issuer: CertificateAuthority | None
) -> x509.Certificate:
    now = clock.now()
    signer_key = key if issuer is None else issuer.key
    issuer_name = _ca_subject(name) if issuer is None else issuer.certificate.subject
    ski = x509.SubjectKeyIdentifier.from_public_key(key.public_key())
    builder = (
        x509.CertificateBuilder()
        .subject_name(_ca_subject(name))
        .issuer_name(issuer_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - _BACKDATE)
        .not_valid_after(now + (_ROOT_LIFETIME if name == "root" else _ISSUING_LIFETIME))
        .add_extension(
            x509.BasicConstraints(ca=True, path_length=1 if name == "root" else 0), critical=True
        )
        .add_extension(
            x509.KeyUsage(
                # Issuing CAs sign OCSP responses and PIN-unlock tokens themselves.
                digital_signature=name != "root",
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
        .add_extension(ski, critical=False)
    )
    if issuer is not None:
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer.key.public_key()),
            critical=False,
        )
    return builder.sign(signer_key, hashes.SHA256())


def _load_or_create(name: CaName, issuer: CertificateAuthority | None) -> CertificateAuthority:
    key = _rsa_key(f"identity-ca-{name}")
    directory = _keys_dir()
    path = directory / f"identity-ca-{name}.crt"
    if not path.exists():
        pem = _build_ca_certificate(name, key, issuer).public_bytes(serialization.Encoding.PEM)
        # If another process won the race, everyone uses the certificate that got there first.
        create_file_once(path, pem)
    certificate = x509.load_pem_x509_certificate(path.read_bytes())
    if certificate.public_key() != key.public_key():
        raise RuntimeError(f"{path} does not belong to the key identity-ca-{name}")
    return CertificateAuthority(name, key, certificate)


def get_ca(name: CaName) -> CertificateAuthority:
    """The CA called ``name`` of this data directory, created on first use."""
    directory = _keys_dir()
    found = _cache.get((directory, name))
    if found is not None:
        return found
    with _lock:
        found = _cache.get((directory, name))
        if found is not None:
            return found
        root = _cache.get((directory, "root"))
        if root is None:
            root = _cache[(directory, "root")] = _load_or_create("root", None)
        if name == "root":
            return root
        ca = _cache[(directory, name)] = _load_or_create(name, root)
        return ca


def issuing_ca(kind: CertificateKind) -> CertificateAuthority:
    """The CA that issues certificates of ``kind``."""
    return get_ca("auth" if kind is CertificateKind.AUTH else "signing")


def chain_pem(kind: CertificateKind) -> str:
    """The issuing CA's certificate and the root's, PEM, issuing CA first."""
    return issuing_ca(kind).pem + get_ca("root").pem


# --- URLs ------------------------------------------------------------------------------------


def crl_url(kind: CertificateKind) -> str:
    return f"{get_settings().base_url.rstrip('/')}/pki/crl/{kind.value}.crl"


def ocsp_url(kind: CertificateKind) -> str:
    return f"{get_settings().base_url.rstrip('/')}/pki/ocsp/{kind.value}"


def ca_issuers_url(kind: CertificateKind) -> str:
    return f"{get_settings().base_url.rstrip('/')}/pki/ca/{kind.value}.crt"


# --- The basic four in otherName ---------------------------------------------------------------


def _der_utf8(value: str) -> bytes:
    """``value`` as a DER UTF8String."""
    raw = value.encode()
    if len(raw) < 0x80:
        length = bytes([len(raw)])
    else:
        size = len(raw).to_bytes((len(raw).bit_length() + 7) // 8, "big")
        length = bytes([0x80 | len(size)]) + size
    return b"\x0c" + length + raw


def _parse_der_utf8(der: bytes) -> str:
    """The text of a DER UTF8String; ``ValueError`` if it is anything else."""
    if len(der) < 2 or der[0] != 0x0C:
        raise ValueError("not a UTF8String")
    first = der[1]
    if first < 0x80:
        start, length = 2, first
    else:
        count = first & 0x7F
        start, length = 2 + count, int.from_bytes(der[2 : 2 + count], "big")
    if start + length != len(der):
        raise ValueError("bad UTF8String length")
    return der[start:].decode()


def basic_four_names(four: BasicFour) -> list[x509.GeneralName]:
    """The subject alternative names that carry ``four``."""
    values = [
        (OID_NAME, four.name),
        (OID_NAME_KANA, four.name_kana),
        (OID_BIRTH_DATE, four.birth_date.strftime("%Y%m%d")),
        (OID_SEX, _SEX_CODES[four.sex]),
        (OID_ADDRESS, four.address),
    ]
    names: list[x509.GeneralName] = [
        x509.OtherName(oid, _der_utf8(value)) for oid, value in values if value is not None
    ]
    names.append(
        x509.DirectoryName(
            x509.Name(
                [
                    x509.NameAttribute(NameOID.COMMON_NAME, four.name),
                    x509.NameAttribute(NameOID.STREET_ADDRESS, four.address),
                ]
            )
        )
    )
    return names


def read_basic_four(certificate: x509.Certificate) -> BasicFour | None:
    """The basic four a signing certificate carries, or ``None`` when it has none."""
    try:
        san = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName)
    except x509.ExtensionNotFound:
        return None
    values: dict[x509.ObjectIdentifier, str] = {}
    for other in san.value.get_values_for_type(x509.OtherName):
        try:
            values[other.type_id] = _parse_der_utf8(other.value)
        except (ValueError, UnicodeDecodeError):
            return None
    codes = {code: sex for sex, code in _SEX_CODES.items()}
    try:
        return BasicFour(
            name=values[OID_NAME],
            name_kana=values.get(OID_NAME_KANA),
            birth_date=datetime.strptime(values[OID_BIRTH_DATE], "%Y%m%d").date(),  # noqa: DTZ007 - a calendar date.
            sex=codes[values[OID_SEX]],
            address=values[OID_ADDRESS],
        )
    except (KeyError, ValueError):
        return None


# --- Card certificates -----------------------------------------------------------------------


def certificate_validity(
    birth_date: date, issued_on: date, card_expires_on: date
) -> tuple[datetime, datetime]:
    """When a card certificate issued now ends: the holder's fifth birthday after
    ``issued_on`` (as JPKI certificates do), never after the card itself expires."""
    fifth = birthday_after(birth_date, issued_on, years=5)
    end_date = min(fifth, card_expires_on)
    now = clock.now()
    end = datetime.combine(end_date, datetime.max.time(), tzinfo=now.tzinfo).replace(microsecond=0)
    return now - _BACKDATE, end


def birthday_in(birth_date: date, year: int) -> date:
    """The birthday in ``year`` (29 February counts as 1 March in other years)."""
    try:
        return birth_date.replace(year=year)
    except ValueError:
        return date(year, 3, 1)


def birthday_after(birth_date: date, start: date, *, years: int) -> date:
    """The holder's ``years``-th birthday after ``start`` (発行日後N回目の誕生日)."""
    first_year = start.year if birthday_in(birth_date, start.year) > start else start.year + 1
    return birthday_in(birth_date, first_year + years - 1)


def build_card_certificate(
    kind: CertificateKind,
    public_key: rsa.RSAPublicKey,
    *,
    serial: int,
    not_before: datetime,
    not_after: datetime,
    basic_four: BasicFour | None,
) -> x509.Certificate:
    """A card certificate of ``kind`` for ``public_key``, signed by the issuing CA."""
    ca = issuing_ca(kind)
    signing = kind is CertificateKind.SIGNING
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "JP"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Kiban"),
            x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, _OU[kind]),
            x509.NameAttribute(NameOID.COMMON_NAME, f"{serial:X}"),
        ]
    )
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(ca.certificate.subject)
        .public_key(public_key)
        .serial_number(serial)
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=signing,
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
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca.key.public_key()),
            critical=False,
        )
        .add_extension(
            x509.CertificatePolicies(
                [x509.PolicyInformation(OID_POLICY_SIGNING if signing else OID_POLICY_AUTH, None)]
            ),
            critical=False,
        )
        .add_extension(
            x509.CRLDistributionPoints(
                [
                    x509.DistributionPoint(
                        full_name=[x509.UniformResourceIdentifier(crl_url(kind))],
                        relative_name=None,
                        reasons=None,
                        crl_issuer=None,
                    )
                ]
            ),
            critical=False,
        )
        .add_extension(
            x509.AuthorityInformationAccess(
                [
                    x509.AccessDescription(
                        AuthorityInformationAccessOID.OCSP,
                        x509.UniformResourceIdentifier(ocsp_url(kind)),
                    ),
                    x509.AccessDescription(
                        AuthorityInformationAccessOID.CA_ISSUERS,
                        x509.UniformResourceIdentifier(ca_issuers_url(kind)),
                    ),
                ]
            ),
            critical=False,
        )
    )
    if signing:
        if basic_four is None:
            raise ValueError("a signing certificate carries the basic four")
        builder = builder.add_extension(
            x509.SubjectAlternativeName(basic_four_names(basic_four)), critical=False
        )
    else:
        builder = builder.add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False
        )
    return builder.sign(ca.key, hashes.SHA256())
