"""The permissions kiban knows and the roles seeded for each kind of organisation.

Roles are data (rows of ``staff_roles``): these are only the defaults written when an
organisation kind is first seeded; an administrator may change a role's permissions later.
A permission names one action (``residents.read``); a trailing ``*`` in a role's permission
stands for any text (``procedures.*`` covers ``procedures.move_out.approve``,
``procedures.*.send_back`` every procedure's sending back).
Procedure actions are ``procedures.<procedure code>.<action name>`` as the definitions name them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from fnmatch import fnmatchcase
from typing import Final

from kiban.platform.authority import NATIONAL


class OrganisationKind(StrEnum):
    """What an organisation is: its default roles and how far its authority reaches."""

    MUNICIPALITY = "municipality"
    PREFECTURE = "prefecture"
    AGENCY = "agency"
    OPERATOR = "operator"


OPERATOR_ORGANISATION: Final = NATIONAL
"""The code of kiban's own operator, whose authority is national."""

# Every permission a route or command asks for. The matrix test checks that each route's
# action is one of these, so that a typo cannot silently deny (or grant) everything.
PERMISSIONS: Final[frozenset[str]] = frozenset(
    {
        "residents.read",
        "residents.write",
        "residents.certificate.issue",
        "procedures.tasks.read",
        "procedures.tasks.claim",
        "procedures.report.read",
        "procedures.move_out.approve",
        "procedures.move_out.send_back",
        "procedures.move_in.complete",
        "procedures.move_within.complete",
        "procedures.move_within.send_back",
        "procedures.birth.accept",
        "procedures.birth.send_back",
        "procedures.death.accept",
        "procedures.death.send_back",
        "procedures.death.heirs",
        "procedures.residence_certificate.issue",
        "payments.batch.approve",
        "payments.fee.read",
        "payments.fee.refund",
        "benefits.read",
        "benefits.run",
        "credentials.offer",
        "staff.read",
        "staff.manage",
        "staff.keys.manage",
        "corporations.read",
        "corporations.write",
        "identity.clients.read",
        "identity.clients.manage",
        "mesh.metrics.read",
        "qualifications.read",
        "qualifications.register",
        "qualifications.renew",
        "qualifications.suspend",
        "qualifications.reinstate",
        "qualifications.revoke",
    }
)


STEP_UP: Final[frozenset[str]] = frozenset(
    {"staff.manage", "staff.keys.manage", "payments.batch.approve", "payments.fee.refund"}
)
"""Sensitive actions: an official in an office session must have presented the card within
:data:`STEP_UP_WINDOW` (step-up); service keys are machines and have no card."""

STEP_UP_WINDOW: Final = timedelta(minutes=5)


def grants(held: frozenset[str] | set[str] | tuple[str, ...], action: str) -> bool:
    """Whether a set of held permissions covers ``action``: exactly, or by a pattern where
    ``*`` stands for any text (``procedures.*``, ``procedures.*.send_back``)."""
    if action in held:
        return True
    return any("*" in p and fnmatchcase(action, p) for p in held)


@dataclass(frozen=True)
class RoleDefault:
    """A role as seeded: code, names and permissions."""

    code: str
    name_ja: str
    name_en: str
    permissions: tuple[str, ...]


_READ_WORK = (
    "residents.read",
    "procedures.tasks.read",
    "procedures.report.read",
    "payments.fee.read",
)
_COUNTER = RoleDefault(
    "counter",
    "窓口",
    "Counter",
    (
        *_READ_WORK,
        "residents.certificate.issue",
        "credentials.offer",
        "procedures.tasks.claim",
        "procedures.move_in.complete",
        "procedures.birth.accept",
        "procedures.death.accept",
        "procedures.death.heirs",  # The bereavement corner (おくやみコーナー) is at the counter.
        "procedures.residence_certificate.issue",
        "procedures.*.send_back",
    ),
)
_REVIEW = RoleDefault(
    "review",
    "審査",
    "Review",
    (
        *_READ_WORK,
        "procedures.tasks.claim",
        "procedures.move_out.approve",
        "procedures.move_within.complete",
        "procedures.birth.accept",
        "procedures.death.accept",
        "procedures.death.heirs",
        "procedures.*.send_back",
    ),
)
_APPROVAL = RoleDefault(
    "approval",
    "決裁",
    "Approval",
    (
        *_READ_WORK,
        "residents.write",
        "residents.certificate.issue",
        "credentials.offer",
        "procedures.tasks.claim",
        "procedures.*",
        "payments.batch.approve",
        "payments.fee.refund",
    ),
)
_LOCAL_ADMIN = RoleDefault(
    "administrator", "管理者", "Administrator", ("staff.read", "staff.manage", "staff.keys.manage")
)
_LOCAL_AUDIT = RoleDefault("audit", "監査", "Audit (read only)", (*_READ_WORK, "staff.read"))
_QUALIFICATIONS = RoleDefault(
    "qualifications",
    "資格登録",
    "Qualifications registry",
    (
        "qualifications.read",
        "qualifications.register",
        "qualifications.renew",
        "qualifications.suspend",
        "qualifications.reinstate",
        "qualifications.revoke",
        "credentials.offer",
    ),
)

DEFAULT_ROLES: Final[dict[OrganisationKind, tuple[RoleDefault, ...]]] = {
    OrganisationKind.MUNICIPALITY: (_COUNTER, _REVIEW, _APPROVAL, _LOCAL_ADMIN, _LOCAL_AUDIT),
    # Prefectures register 保育士, 准看護師, 教員 and other prefectural qualifications.
    OrganisationKind.PREFECTURE: (_REVIEW, _APPROVAL, _LOCAL_ADMIN, _LOCAL_AUDIT, _QUALIFICATIONS),
    OrganisationKind.AGENCY: (
        RoleDefault("counter", "窓口", "Counter", ("procedures.tasks.read",)),
        _LOCAL_ADMIN,
        RoleDefault(
            "audit",
            "監査",
            "Audit (read only)",
            ("procedures.tasks.read", "staff.read", "qualifications.read"),
        ),
        # 厚生労働省 and 国土交通省 keep national qualifications' registers (籍簿).
        _QUALIFICATIONS,
    ),
    OrganisationKind.OPERATOR: (
        RoleDefault(
            "administrator",
            "管理者",
            "Administrator",
            (
                "staff.read",
                "staff.manage",
                "staff.keys.manage",
                "corporations.read",
                "corporations.write",
                "identity.clients.read",
                "identity.clients.manage",
                "mesh.metrics.read",
                "procedures.report.read",
                "benefits.read",
                "benefits.run",
            ),
        ),
        # The national payer's officials (支払決裁): they build, approve, export and settle
        # the national programmes' payment batches. Two of them approve each batch.
        RoleDefault(
            "payments", "支払決裁", "Payments approval", ("payments.batch.approve", "benefits.read")
        ),
        RoleDefault(
            "audit",
            "監査",
            "Audit (read only)",
            (
                "staff.read",
                "corporations.read",
                "identity.clients.read",
                "mesh.metrics.read",
                "procedures.report.read",
                "benefits.read",
            ),
        ),
    ),
}

DEFAULT_DEPARTMENTS: Final[dict[OrganisationKind, tuple[tuple[str, str, str], ...]]] = {
    OrganisationKind.MUNICIPALITY: (
        ("citizens", "市民課", "Citizens' Affairs"),
        ("insurance", "保険年金課", "Insurance and Pensions"),
        ("welfare", "福祉課", "Welfare"),
    ),
    OrganisationKind.PREFECTURE: (("general", "総務課", "General Affairs"),),
    OrganisationKind.AGENCY: (("general", "総務課", "General Affairs"),),
    OrganisationKind.OPERATOR: (("operations", "運用課", "Operations"),),
}
