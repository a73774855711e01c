"""The one policy function: may this principal, in its organisation, do this action on a
resource of that organisation? Every office page, operator API and CLI action asks it, and
nothing else decides authority (see ADR 0014).

The rules, one per line of :func:`authorize`:

1. The principal's role (or key scope) holds the permission for the action.
2. The organisation is within the principal's reach (1, 2 and 3 yield to a live break-glass
   grant over the person whose data it is): its own organisation; a prefecture
   reaches its municipalities; kiban's operator reaches every organisation (but its roles
   hold no permission over residents' records).
3. Departments: a role granted in one department (市民課 ``citizens``) reaches only resources
   of that department (a move-in is the citizens' department's); a role granted without a
   department reaches the whole organisation, and so does any role for a resource that names
   no department.
4. Step-up: a sensitive action (``STEP_UP``) by an official in an office session needs the
   card (or a WebAuthn security key or passkey, never a TOTP code: ADR 0019) presented within
   the last few minutes.
5. Separation of duties: an official never acts on what concerns themselves (their own
   application or record), nor takes a step after an earlier step of the same resource that
   the procedure's definition keeps apart (``excluded_actors``).
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from kiban.blocks.staff.emergency import break_glass_allows
from kiban.blocks.staff.errors import (
    NotPermitted,
    OtherDepartment,
    OtherOrganisation,
    SeparationOfDuties,
    StepUpRequired,
)
from kiban.blocks.staff.permissions import STEP_UP, STEP_UP_WINDOW, OrganisationKind, grants
from kiban.kernel import clock
from kiban.platform.authority import Principal, Resource


def reaches(principal: Principal, organisation: str) -> bool:
    """Whether the principal's organisation covers ``organisation``."""
    if principal.organisation == organisation:
        return True
    if principal.organisation_kind == OrganisationKind.OPERATOR:
        return True
    if principal.organisation_kind == OrganisationKind.PREFECTURE:
        # A prefecture's code and its municipalities' codes share the first two digits.
        return organisation[:2] == principal.organisation[:2] and organisation.isdigit()
    return False


STRONG_FACTORS = frozenset({"card", "webauthn"})
"""What a step-up may be done with: a TOTP code can be phished and replayed within its step,
so a session signed in with TOTP must present the card or a security key before a sensitive
action (ADR 0019)."""


def _recent(principal: Principal) -> bool:
    at = principal.authenticated_at
    strong = (principal.authenticated_with or "card") in STRONG_FACTORS
    return strong and at is not None and clock.now() - at <= STEP_UP_WINDOW


def in_department(principal: Principal, department: str | None) -> bool:
    """Whether the principal's grants reach a resource of ``department`` (``None``: the
    organisation as a whole, which every grant there reaches)."""
    return (
        department is None or principal.departments is None or department in principal.departments
    )


def _same_account(principal: Principal, actor: str) -> bool:
    return actor.startswith(f"staff:{principal.account_id}@")


def authorize(
    session: Session,
    principal: Principal,
    action: str,
    *,
    organisation: str,
    resource: Resource | None = None,
) -> None:
    """Return if allowed; raise ``staff.not_permitted``, ``staff.other_organisation``,
    ``staff.other_department``, ``staff.step_up_required`` or ``staff.separation_of_duties``
    (all 403) otherwise."""
    department = resource.department if resource is not None else None
    try:
        if not grants(principal.permissions, action):
            raise NotPermitted(action)
        if not reaches(principal, organisation):
            raise OtherOrganisation(organisation)
        if not in_department(principal, department):
            raise OtherDepartment(department or "")
    except (NotPermitted, OtherOrganisation, OtherDepartment):
        # Unless an administrator granted emergency access to this person's data (recorded).
        person = resource.person if resource is not None else None
        if person is None or not break_glass_allows(
            session, principal, action, organisation=organisation, person=person
        ):
            raise
    if action in STEP_UP and principal.session_id is not None and not _recent(principal):
        raise StepUpRequired
    if resource is not None:
        if principal.person_id is not None and resource.subject_person == principal.person_id:
            raise SeparationOfDuties
        if any(_same_account(principal, actor) for actor in resource.excluded_actors):
            raise SeparationOfDuties
