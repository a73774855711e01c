"""Birth (出生): from the hospital's certificate to the child on the register, with the offers
the birth brings.

A reference maternity hospital (:mod:`kiban.agencies.hospital`) sends the 出生証明書 through
the mesh to the mother's municipal office (:mod:`.offices`), which opens her 出生届 with the
certificate's facts prefilled (:mod:`.definitions`); the parent types the child's name (checked
against 常用漢字, 人名用漢字 and kana, :mod:`.names`), signs it with the card, and the office
accepts it: the child joins the household with a new individual number, the agencies learn of
the birth through their subscriptions (the insurer sends the child's card to the inbox through
kiban's guardian-notice service), and the child allowance is offered. Importing this package
registers the procedure, its notices and the mesh receivers.

Error codes (besides the procedures engine's and the register's):
``birth.name_character_not_allowed`` (422, field ``child_given_name``: a character outside
常用漢字, 人名用漢字 and kana), ``birth.kana_invalid`` (422, the reading's field: not
katakana), ``birth.family_name_not_parents`` (422, ``child_family_name``),
``birth.no_birth_data`` (404, ``certificate``: no hospital's certificate to file from) and
``birth.certificate_refused`` (409: the office does not take a certificate for someone who is
not its resident).
"""

from __future__ import annotations

from kiban.life_events.birth import names, notices, offices
from kiban.life_events.birth.definitions import (
    BIRTH,
    CHILD_FIELDS,
    NOTICE_DAYS,
    RELATIONSHIPS,
    born_on,
    check_child_name,
    family_name_of,
    receive_certificate,
    receive_guardian_notice,
    register,
)
from kiban.life_events.birth.errors import (
    CertificateUnknown,
    FamilyNameNotParents,
    KanaInvalid,
    NameCharacterNotAllowed,
    NoBirthData,
)

__all__ = [
    "BIRTH",
    "CHILD_FIELDS",
    "NOTICE_DAYS",
    "RELATIONSHIPS",
    "CertificateUnknown",
    "FamilyNameNotParents",
    "KanaInvalid",
    "NameCharacterNotAllowed",
    "NoBirthData",
    "born_on",
    "check_child_name",
    "family_name_of",
    "names",
    "notices",
    "offices",
    "receive_certificate",
    "receive_guardian_notice",
    "register",
]

register()
