"""Words a person reads instead of identifiers: data items, organisations, statuses and
certificate revocation reasons, in the language of the page.

Data items and statuses are UI words and go through gettext. Organisation names are data (the
mesh keeps each member's registered name, in Japanese); the English names of the reference
organisations are listed here, and any other organisation is shown by its registered name.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from gettext import NullTranslations

from sqlalchemy.orm import Session

from kiban.blocks import mesh


def _(message: str) -> str:
    """Marks a message for extraction; it is translated where it is shown."""
    return message


# Data items of the register and of the reference agencies.
ITEM_LABELS: Mapping[str, str] = {
    "name": _("Name"),
    "name_kana": _("Name reading"),
    "birth_date": _("Date of birth"),
    "sex": _("Sex"),
    "address": _("Address"),
    "lg_code": _("Municipality"),
    "status": _("Status"),
    "bank_code": _("Bank code"),
    "branch_code": _("Branch code"),
    "account_type": _("Account type"),
    "account_number": _("Account number"),
    "holder_kana": _("Account holder's name"),
    "plan": _("Contract plan"),
    "contract_amperes": _("Contract amperage"),
    "supply_point_number": _("Supply point number"),
    "licence_number": _("Licence number"),
    "colour": _("Licence colour"),
    "categories": _("Licence categories"),
    "expires_on": _("Expiry date"),
    # The register's household service and the moving packet between municipal offices.
    "members": _("Household members"),
    "relationship": _("Relationship"),
    "head_of_household": _("Head of household"),
    "previous_address": _("Previous address"),
    "destination": _("New address"),
    "moved_out_on": _("Moving date"),
    "reference": _("Reference of the moving-out notice"),
    "resident.registered": _("Registration in the resident register"),
    "resident.address_changed": _("Change of address"),
    "resident.moved_out": _("Moving out"),
    "resident.moved_in": _("Moving in"),
    "resident.name_changed": _("Change of name"),
    "resident.died": _("Death"),
    # What an official or operator was shown of the register (read records).
    "household": _("Household"),
    "resident_since": _("Resident since"),
    "history": _("Every past version of your record"),
    "individual_number": _("My Number"),
}

# Why an official or operator read a record (the register's ReadPurpose values).
READ_PURPOSE_LABELS: Mapping[str, str] = {
    "register_administration": _("Keeping the resident register"),
    "certificate": _("Issuing a certificate of residence"),
    "procedure": _("Processing your application"),
    "operation": _("Operating the system"),
    "staff_administration": _("Managing an office's staff"),
    "qualifications": _("Keeping a national qualifications register"),
    "payment": _("Paying you public funds"),
}

# The reader's role, as the read record names it.
READER_ROLE_LABELS: Mapping[str, str] = {
    "official": _("Municipal official"),
    "operator": _("System operator"),
}


def read_channel(route: str) -> str:
    """Where a read was made, from its route: the office's pages, the API or the terminal."""
    if route.startswith("cli:"):
        return _("The operator's terminal")
    if " /office" in route:
        return _("The municipal office's system")
    if " /api/" in route:
        return _("The register's programming interface (API)")
    return _("Other")


# English names of the reference organisations, by their registered (Japanese) name.
ENGLISH_NAMES: Mapping[str, str] = {
    "住民基本台帳": "Resident register",
    "日本年金機構": "Japan Pension Service",
    "全国健康保険協会": "Japan Health Insurance Association",
    "警視庁運転免許本部": "Metropolitan Police Driver's Licence Headquarters",
    "税務署": "Tax office",
    "きばん銀行": "Kiban Bank",
    "きばん電力": "Kiban Electric Power",
}

# The legal bases the reference services cite (kept in Japanese, as the law names them), in
# English for English pages; any other basis is shown as it is recorded.
LEGAL_BASES_EN: Mapping[str, str] = {
    "住民基本台帳法第30条の9 (本人確認情報の提供)": (
        "Basic Resident Register Act, art. 30-9 (provision of identity information)"
    ),
    "住民基本台帳法第12条 (世帯の住民票の記載事項)": (
        "Basic Resident Register Act, art. 12 (the household's resident records)"
    ),
    "住民基本台帳法第24条の2": (
        "Basic Resident Register Act, art. 24-2 (moving-out data sent to the new municipality)"
    ),
    "住民基本台帳法に基づく異動の通知": "Notice of a change under the Basic Resident Register Act",
    "本人の同意に基づく異動の通知": "Notice of a change with your consent",
}

CONSENT_STATUS_LABELS: Mapping[str, str] = {
    "active": _("In effect"),
    "paused": _("Paused"),
    "revoked": _("Revoked by you"),
    "expired": _("Expired"),
}

NOTICE_STATUS_LABELS: Mapping[str, str] = {
    "created": _("Created"),
    "delivered": _("Delivered to your inbox"),
    "read": _("Read"),
}

# RFC 5280 CRLReason names as a person would say them.
REVOCATION_REASONS: Mapping[str, str] = {
    "affiliationChanged": _("Your address or name changed"),
    "cessationOfOperation": _("The card is no longer in use"),
    "keyCompromise": _("The card was reported lost or stolen"),
    "superseded": _("A new certificate replaced it"),
    "unspecified": _("No reason was given"),
}


def legal_basis_label(basis: str, lang: str) -> tuple[str, str]:
    """A legal basis in the page's language, and the language it is written in."""
    if lang == "en" and basis in LEGAL_BASES_EN:
        return LEGAL_BASES_EN[basis], "en"
    return basis, "ja"


def item_label(item: str, gettext: Callable[[str], str]) -> str:
    """A data item in the page's language; an unknown item is shown as it is."""
    label = ITEM_LABELS.get(item)
    return gettext(label) if label else item


class Organisations:
    """Names of mesh members and their subsystems, read once per page."""

    def __init__(self, names: Mapping[str, str]) -> None:
        self._names = names

    @classmethod
    def load(cls, session: Session) -> Organisations:
        return cls({member.xroad_id: member.name for member in mesh.list_members(session)})

    def name(self, subsystem: str, lang: str) -> str:
        """The organisation a subsystem id (``JP/GOV/00001/pension``) belongs to."""
        member = "/".join(subsystem.split("/")[:3])
        registered = self._names.get(member) or self._names.get(subsystem)
        if registered is None:
            return subsystem
        if lang == "en":
            return ENGLISH_NAMES.get(registered, registered)
        return registered

    def is_english(self, subsystem: str, lang: str) -> bool:
        """Whether :meth:`name` gives English words (else the name is Japanese)."""
        member = "/".join(subsystem.split("/")[:3])
        registered = self._names.get(member) or self._names.get(subsystem)
        return lang == "en" and registered is not None and registered in ENGLISH_NAMES


def translated(label: str, translations: NullTranslations) -> str:
    """A label of this module in the language of ``translations``."""
    return translations.gettext(label)
