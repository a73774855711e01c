"""Staff: the state side's identity and authority.

Organisations (every municipality by ``lg_code``, prefectures, agencies, kiban's operator)
with departments; staff accounts (officials, tied to their record in the register by person
id, and service accounts); memberships that give an account a role in an organisation; roles
as data (sets of permissions, seeded per kind of organisation: 窓口 counter, 審査 review,
決裁 approval, 管理者 administrator, 監査 audit); service accounts' API keys (scoped, expiring,
stored as SHA-256); and :func:`authorize`, the one policy function every office page, operator
API and CLI action asks.

Error codes (see :mod:`kiban.blocks.staff.errors`): ``staff.not_permitted``,
``staff.other_organisation``, ``staff.other_department``, ``staff.separation_of_duties``,
``staff.step_up_required`` (403); ``staff.key_invalid``,
``staff.operator_token_retired``, ``staff.principal_required`` (401);
``staff.organisation_not_found``, ``staff.role_not_found``, ``staff.department_not_found``,
``staff.account_not_found``, ``staff.membership_not_found`` (404); ``staff.account_exists``,
``staff.account_not_active``, ``staff.bootstrap_done`` (409); ``staff.invalid`` (422).
"""

from __future__ import annotations

from kiban.blocks.staff.emergency import (
    BreakGlassRead,
    do_grant_break_glass,
    list_break_glass_for_person,
)
from kiban.blocks.staff.errors import (
    BootstrapDone,
    KeyInvalid,
    NotPermitted,
    OperatorTokenRetired,
    OtherDepartment,
    OtherOrganisation,
    SeparationOfDuties,
    StepUpRequired,
)
from kiban.blocks.staff.permissions import (
    DEFAULT_ROLES,
    OPERATOR_ORGANISATION,
    PERMISSIONS,
    OrganisationKind,
    grants,
)
from kiban.blocks.staff.policy import authorize, in_department, reaches
from kiban.blocks.staff.service import (
    AccountRead,
    DepartmentRead,
    HistoryStep,
    KeyCreated,
    KeyRead,
    MembershipRead,
    OrganisationRead,
    describe_actor,
    do_add_organisation,
    do_bootstrap,
    do_close_account,
    do_create_key,
    do_create_official,
    do_create_service_account,
    do_grant,
    do_reinstate_account,
    do_revoke,
    do_revoke_key,
    do_revoke_membership,
    do_seed_roles,
    do_suspend_account,
    do_sync_organisations,
    get_account,
    get_account_by_person,
    get_organisation,
    is_bootstrapped,
    key_organisation,
    list_accounts,
    list_departments,
    list_organisations,
    list_roles,
    prefecture_code,
    principal_for,
    principal_from_key,
)
from kiban.platform.authority import Principal, Resource

__all__ = [
    "DEFAULT_ROLES",
    "OPERATOR_ORGANISATION",
    "PERMISSIONS",
    "AccountRead",
    "BootstrapDone",
    "BreakGlassRead",
    "DepartmentRead",
    "HistoryStep",
    "KeyCreated",
    "KeyInvalid",
    "KeyRead",
    "MembershipRead",
    "NotPermitted",
    "OperatorTokenRetired",
    "OrganisationKind",
    "OrganisationRead",
    "OtherDepartment",
    "OtherOrganisation",
    "Principal",
    "Resource",
    "SeparationOfDuties",
    "StepUpRequired",
    "authorize",
    "describe_actor",
    "do_add_organisation",
    "do_bootstrap",
    "do_close_account",
    "do_create_key",
    "do_create_official",
    "do_create_service_account",
    "do_grant",
    "do_grant_break_glass",
    "do_reinstate_account",
    "do_revoke",
    "do_revoke_key",
    "do_revoke_membership",
    "do_seed_roles",
    "do_suspend_account",
    "do_sync_organisations",
    "get_account",
    "get_account_by_person",
    "get_organisation",
    "grants",
    "in_department",
    "is_bootstrapped",
    "key_organisation",
    "list_accounts",
    "list_break_glass_for_person",
    "list_departments",
    "list_organisations",
    "list_roles",
    "prefecture_code",
    "principal_for",
    "principal_from_key",
    "reaches",
]
