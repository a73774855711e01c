"""Staff: the state side's identity and authority.

Organisations (every municipality by ``lg_code``, prefectures, agencies, kiban's operator)
with departments; staff accounts (officials, tied to their record in the register by person
id, and service accounts); memberships that give an account a role in an organisation; roles
as data (sets of permissions, seeded per kind of organisation: 窓口 counter, 審査 review,
決裁 approval, 管理者 administrator, 監査 audit); service accounts' API keys (scoped, expiring,
stored as SHA-256); and :func:`authorize`, the one policy function every office page, operator
API and CLI action asks.

Error codes (see :mod:`kiban.blocks.staff.errors`): ``staff.not_permitted``,
``staff.other_organisation``, ``staff.separation_of_duties``, ``staff.step_up_required``
(403); ``staff.key_invalid``,
``staff.operator_token_retired``, ``staff.principal_required`` (401);
``staff.organisation_not_found``, ``staff.role_not_found``, ``staff.department_not_found``,
``staff.account_not_found``, ``staff.membership_not_found`` (404); ``staff.account_exists``,
``staff.account_not_active``, ``staff.bootstrap_done``, ``staff.factor_conflict`` (409);
``staff.invalid`` (422); ``staff.factor_invalid`` (401: a second factor that proved nothing).

Second factors (:mod:`kiban.blocks.staff.factors`, ADR 0019): officials' WebAuthn credentials
and TOTP secrets, for signing in where there is no card reader.
"""

from __future__ import annotations

from kiban.blocks.staff.emergency import (
    BreakGlassRead,
    do_grant_break_glass,
    list_break_glass_for_person,
)
from kiban.blocks.staff.errors import (
    BootstrapDone,
    FactorConflict,
    FactorInvalid,
    KeyInvalid,
    NotPermitted,
    OperatorTokenRetired,
    OtherOrganisation,
    SeparationOfDuties,
    StepUpRequired,
)
from kiban.blocks.staff.factors import (
    TotpEnrolment,
    WebAuthnCredentialRead,
    check_totp,
    do_add_webauthn_credential,
    do_confirm_totp,
    do_remove_totp,
    do_remove_webauthn_credential,
    do_start_totp,
    has_second_factor,
    list_webauthn_credentials,
    parse_credential,
    relying_party,
    start_webauthn_authentication,
    start_webauthn_registration,
    totp_status,
    verify_webauthn_assertion,
)
from kiban.blocks.staff.permissions import (
    DEFAULT_ROLES,
    OPERATOR_ORGANISATION,
    PERMISSIONS,
    OrganisationKind,
    grants,
)
from kiban.blocks.staff.policy import STRONG_FACTORS, authorize, reaches
from kiban.blocks.staff.service import (
    AccountRead,
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
    do_seed_roles,
    do_suspend_account,
    do_sync_organisations,
    get_account,
    get_account_by_person,
    get_organisation,
    is_bootstrapped,
    key_organisation,
    list_accounts,
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
    "STRONG_FACTORS",
    "AccountRead",
    "BootstrapDone",
    "BreakGlassRead",
    "FactorConflict",
    "FactorInvalid",
    "HistoryStep",
    "KeyCreated",
    "KeyInvalid",
    "KeyRead",
    "MembershipRead",
    "NotPermitted",
    "OperatorTokenRetired",
    "OrganisationKind",
    "OrganisationRead",
    "OtherOrganisation",
    "Principal",
    "Resource",
    "SeparationOfDuties",
    "StepUpRequired",
    "TotpEnrolment",
    "WebAuthnCredentialRead",
    "authorize",
    "check_totp",
    "describe_actor",
    "do_add_organisation",
    "do_add_webauthn_credential",
    "do_bootstrap",
    "do_close_account",
    "do_confirm_totp",
    "do_create_key",
    "do_create_official",
    "do_create_service_account",
    "do_grant",
    "do_grant_break_glass",
    "do_reinstate_account",
    "do_remove_totp",
    "do_remove_webauthn_credential",
    "do_revoke",
    "do_revoke_key",
    "do_seed_roles",
    "do_start_totp",
    "do_suspend_account",
    "do_sync_organisations",
    "get_account",
    "get_account_by_person",
    "get_organisation",
    "grants",
    "has_second_factor",
    "is_bootstrapped",
    "key_organisation",
    "list_accounts",
    "list_break_glass_for_person",
    "list_organisations",
    "list_roles",
    "list_webauthn_credentials",
    "parse_credential",
    "prefecture_code",
    "principal_for",
    "principal_from_key",
    "reaches",
    "relying_party",
    "start_webauthn_authentication",
    "start_webauthn_registration",
    "totp_status",
    "verify_webauthn_assertion",
]
