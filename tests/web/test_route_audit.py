"""The audit column of the route inventory, checked by behaviour (issues 13 and 14); the
portal's forms are walked too (a representative set: start, save, withdraw, sign out).

Every office action — an unsafe route driven by an official's office session or a service
account's key — is called for real, with a caller whose role allows it, and must write exactly
the audit entries its row in ``AUDIT`` (``tests/web/test_route_inventory.py``) declares; each
entry made under the caller's name must name the official (account id and organisation), the
role and the session (``data["by"]``: an office session's row id or the key's id, never a
cookie or a secret). The CLI's ``--as`` is walked the same way."""

from __future__ import annotations

import fnmatch
import json
import re
import tempfile
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pyotp
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select
from typer.testing import CliRunner

from kiban.agencies import bank, physician, wiring
from kiban.blocks import benefits, payments, procedures, qualifications, residents, staff
from kiban.blocks.benefits.models import BenefitsDetermination
from kiban.cli import app as cli_app
from kiban.kernel import clock
from kiban.life_events import death, moving
from kiban.platform.db import transaction
from kiban.platform.models import AuditEntry, WebSessionRecord
from kiban.platform.webkit import template_of
from kiban.web import create_app
from kiban.web.office.session import OFFICE_COOKIE
from tests.blocks.payments import support as payments_support
from tests.blocks.staff.authenticator import SoftAuthenticator
from tests.life_events import journey
from tests.staff_support import ensure_organisation, make_key, make_official
from tests.web import test_authority_matrix as matrix
from tests.web.portal_support import RESIDENT_COOKIE, register, resident_cookie
from tests.web.test_route_inventory import AUDIT, RouteInfo, audit_key, inventory

OWN = matrix.OWN
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
PRINCIPAL_AUTH = ("require_principal", "require_official")
# Steps taken before a route is called (a task is completed or acted on once claimed).
BEFORE = {
    "POST /api/v1/registration/tasks/{application_id}/complete": "claim",
    "POST /office/applications/{application_id}/act": "claim",
}
# Routes whose body the matrix's example cannot make succeed as it stands.
TODAY = "{today}"
BODIES: dict[str, dict[str, Any]] = {
    "POST /api/v1/residents/{person_id}/move-out": {"moved_on": TODAY, "destination": "札幌市"},
    "POST /api/v1/residents/{person_id}/move-in": {"moved_on": TODAY, "address": "{address}"},
    "POST /api/v1/residents/{person_id}/move-within": {"moved_on": TODAY, "address": "{address}"},
    "POST /api/v1/residents/{person_id}/death": {"died_on": TODAY},
    "POST /api/v1/residents/{person_id}/name": {
        "family_name": "試験",
        "given_name": "花子",
        "family_name_kana": "シケン",
        "given_name_kana": "ハナコ",
        "effective_on": TODAY,
    },
    # The office's action asks first: the confirmed post takes it.
    "POST /office/applications/{application_id}/act": {
        "version": "99",
        "action": "approve",
        "confirmed": "true",
    },
    # The staff pages: a body that succeeds, and "yes" to the question a change asks first.
    "POST /office/staff/services": {"name": "試験の連携システム", "role": "audit"},
    "POST /office/staff/new/search": {"query": "{person}"},
    "POST /office/staff/new": {"person": "{person}", "role": "audit"},
    "POST /office/staff/emergency": {
        "account": "{account}",
        "person": "{person}",
        "hours": "4",
        "reason": "災害時の安否確認のため",
    },
    "POST /office/staff/{account_id}/grant": {"role": "audit"},
}
# The register's writes in the order a life takes them (the death last).
ORDER = ("move-out", "move-in", "move-within", "name", "death")
FILES = "_files"  # A body's uploads (name: (filename, bytes)), sent as a multipart form.


def _definition() -> procedures.ProcedureDef:
    return procedures.ProcedureDef(
        code=matrix.CODE,
        title_ja="試験",
        title_en="Audit test",
        states=("submitted", "done"),
        initial="submitted",
        final_states=("done",),
        actions=(
            procedures.ActionDef("approve", "承認", "Approve", ("submitted",), "done", "official"),
        ),
        fields=(),
        evidence_in=(),
        evidence_out=(),
        sla_days=1,
        office_of=lambda app: OWN,
    )


@pytest.fixture
def world(engine: Engine) -> dict[str, Any]:
    procedures.register_procedure(_definition())
    with transaction(engine) as session:
        residents.seed_population(session, size="tiny", seed=5)
    with transaction(engine) as session:
        person = residents.list_people(session, lg_code=OWN, limit=1)[0]
        api_app, office_app = (
            procedures.do_start_application(
                session, matrix.CODE, applicant=person.id, actor="system:test"
            )
            for _ in range(2)
        )
        ensure_organisation(session, "kiban")
        clerk = make_official(session, OWN, "counter", name="対象　職員")
    return {
        "person": str(person.id),
        "api": str(api_app.id),
        "office": str(office_app.id),
        "account": str(clerk.account_id),
        "town": str(person.address.town_id),
    }


def _last_seq(engine: Engine) -> int:
    with transaction(engine) as session:
        return int(session.scalar(select(func.max(AuditEntry.seq))) or 0)


def _entries_after(engine: Engine, seq: int) -> list[tuple[str, str, dict[str, Any]]]:
    with transaction(engine) as session:
        rows = session.scalars(select(AuditEntry).where(AuditEntry.seq > seq))
        return [(row.tag, row.actor, dict(row.data)) for row in rows]


def _sort_key(row: RouteInfo) -> int:
    last = row.path.rsplit("/", 1)[-1]
    return ORDER.index(last) if row.path.startswith("/api/v1/residents/") and last in ORDER else -1


class Caller:
    """An official of one organisation and role: an office session and a service key."""

    def __init__(self, engine: Engine, organisation: str, role: str) -> None:
        with transaction(engine) as session:
            self.official = make_official(session, organisation, role)
            key = make_key(session, organisation, role)
        self.key = key
        self.keys = SoftAuthenticator(staff.relying_party()[1])  # The official's security keys.
        self.cookie, self.csrf = matrix._office_cookie(engine, self.official)
        with transaction(engine) as session:
            self.key_principal = staff.principal_from_key(session, key)
            self.session_id = session.scalars(
                select(WebSessionRecord.id).where(
                    WebSessionRecord.subject == str(self.official.account_id)
                )
            ).one()

    def expected_by(self, office: bool) -> tuple[str, dict[str, Any]]:
        """The actor and the ``by`` its entries must carry."""
        principal = self.official if office else self.key_principal
        reference = f"office-session:{self.session_id}" if office else f"api-key:{principal.key_id}"
        return principal.actor, {
            "account": str(principal.account_id),
            "organisation": principal.organisation,
            "role": principal.role,
            "session": reference,
        }


# --- Preparations: what a route needs before it can succeed (a key to remove, a code) --------


@dataclass
class Step:
    """What a preparation gets: the walk's engine and world, the caller, a way to call the
    application as that caller (office session or key, as the route is), and the case's path
    and body; it answers the path and body to call the route with."""

    engine: Engine
    world: dict[str, Any]
    who: Caller
    call: Callable[[str, str, dict[str, Any]], Any]
    path: str
    body: dict[str, Any]


def _enrolled_key(step: Step) -> uuid.UUID:
    """A security key of the caller's, enrolled through the block (not a walked route)."""
    account = step.who.official.account_id
    with transaction(step.engine) as session:
        options = staff.start_webauthn_registration(session, account, binding="audit-walk")
        added = staff.do_add_webauthn_credential(
            session,
            account,
            binding="audit-walk",
            name="予備の鍵",
            credential=step.who.keys.create(options),
            actor=step.who.official.actor,
        )
    return added.id


def _add_key(step: Step) -> tuple[str, dict[str, Any]]:
    options = step.call("POST", "/office/factors/webauthn/options", {})
    assert options.status_code == 200, options.text
    return step.path, {"name": "試験の鍵", "credential": step.who.keys.create(options.text)}


def _remove_key(step: Step) -> tuple[str, dict[str, Any]]:
    return f"/office/factors/webauthn/{_enrolled_key(step)}/remove", step.body


def _started_totp(step: Step) -> str:
    """A TOTP enrolment of the caller's, started through the block: its secret."""
    with transaction(step.engine) as session:
        account = step.who.official.account_id
        return staff.do_start_totp(session, account, actor=step.who.official.actor).secret


def _confirm_totp(step: Step) -> tuple[str, dict[str, Any]]:
    return step.path, {**step.body, "code": pyotp.TOTP(_started_totp(step)).now()}


def _remove_totp(step: Step) -> tuple[str, dict[str, Any]]:
    account = step.who.official.account_id
    with transaction(step.engine) as session:
        active = staff.totp_status(session, account) == "active"
    if not active:
        secret = _started_totp(step)
        with transaction(step.engine) as session:
            code = pyotp.TOTP(secret).now()
            staff.do_confirm_totp(session, account, code, actor=step.who.official.actor)
    return step.path, step.body


def _step_up(step: Step) -> tuple[str, dict[str, Any]]:
    _enrolled_key(step)
    options = step.call("POST", "/office/factors/step-up/options", {})
    assert options.status_code == 200, options.text
    return step.path, step.who.keys.get(options.text)


BASE_DATE = "2026-12-01"


def _define_programmes(engine: Engine) -> None:
    with transaction(engine) as session:
        if not benefits.list_programmes(session):
            for shipped in benefits.SHIPPED:
                benefits.do_define_programme(session, shipped, actor="system:test")


def _run(step: Step) -> tuple[str, dict[str, Any]]:
    _define_programmes(step.engine)
    return "/api/v1/benefits/programmes/flat-payment/runs", {"base_date": BASE_DATE}


def _resolve(step: Step) -> tuple[str, dict[str, Any]]:
    """A recipient of a flat payment asks for a correction, which the official resolves."""
    _define_programmes(step.engine)
    with transaction(step.engine) as session:
        found = session.scalars(select(BenefitsDetermination)).first()
        if found is None:
            base = date.fromisoformat(BASE_DATE)
            benefits.do_run_programme(session, "flat-payment", base, actor="system:test")
            found = session.scalars(select(BenefitsDetermination)).first()
        assert found is not None
        benefits.do_request_correction(
            session,
            found.recipient_id,
            found.id,
            "世帯の人数が違います",
            actor=f"person:{found.recipient_id}",
        )
        determination = found.id
    return f"/api/v1/benefits/determinations/{determination}/resolution", {"amount_yen": 200_000}


def _approve(step: Step) -> tuple[str, dict[str, Any]]:
    """A draft batch of the caller's organisation, made by another official."""
    with transaction(step.engine) as session:
        wiring.register_reference_agencies(session)
        payments.do_load_banks(session, actor="system:test")
        people = residents.list_people(session, lg_code=OWN, limit=2)
        for n, person in enumerate(people):
            payments_support.open_and_register(session, person.id, number=f"300000{n}")
        payments.do_add_obligations(
            session, [payments_support.obligation(p.id) for p in people], actor="system:test"
        )
        batch = payments.do_build_batch(
            session,
            programme=payments_support.PROGRAMME,
            payer=OWN,
            actor=payments_support.MAKER,
        )
    return f"/api/v1/payments/{OWN}/batches/{batch.number}/approvals", step.body


def _payable(step: Step, period: str) -> None:
    """Two payees of the caller's organisation with verified accounts, owed for ``period``
    (a period of their own, so that the walk's other batches do not take them)."""
    with transaction(step.engine) as session:
        wiring.register_reference_agencies(session)
        if not payments.banks_loaded(session):
            payments.do_load_banks(session, actor="system:test")
        start = 2 + 2 * len(payments.list_batches(session))
        people = residents.list_people(session, lg_code=OWN, limit=2, offset=start)
        for n, person in enumerate(people):
            payments_support.open_and_register(session, person.id, number=f"31{start:03d}{n}")
        payments.do_add_obligations(
            session,
            [payments_support.obligation(p.id, period=period) for p in people],
            actor="system:test",
        )


def _office_batch(step: Step, period: str, *, approved: bool = True) -> payments.BatchRead:
    """A batch of the caller's organisation made by another official and, with ``approved``,
    approved by two others."""
    _payable(step, period)
    with transaction(step.engine) as session:
        batch = payments.do_build_batch(
            session, programme=payments_support.PROGRAMME, payer=OWN, actor=payments_support.MAKER
        )
        if approved:
            batch = payments_support.approve(session, batch.number)
    return batch


def _office_build(step: Step) -> tuple[str, dict[str, Any]]:
    _payable(step, "office-build")
    return f"/office/payments/{OWN}/batches", {"programme": payments_support.PROGRAMME}


def _office_approve(step: Step) -> tuple[str, dict[str, Any]]:
    batch = _office_batch(step, "office-approve", approved=False)
    return f"/office/payments/{OWN}/batches/{batch.number}/approvals", {}


def _office_export(step: Step) -> tuple[str, dict[str, Any]]:
    batch = _office_batch(step, "office-export")
    return f"/office/payments/{OWN}/batches/{batch.number}/transfer-file", {}


def _office_result(step: Step) -> tuple[str, dict[str, Any]]:
    """An approved batch and the reference bank's result file for it."""
    batch = _office_batch(step, "office-result")
    with transaction(step.engine) as session:
        result = bank.ReferenceBank(session).transfer(payments.transfer_file(session, batch.number))
    path = f"/office/payments/{OWN}/batches/{batch.number}/result"
    return path, {FILES: {"result_file": ("result.txt", result)}}


def _end_role(step: Step) -> tuple[str, dict[str, Any]]:
    """One of the account's roles here, confirmed."""
    with transaction(step.engine) as session:
        account = staff.get_account(session, uuid.UUID(step.world["account"]))
    held = next(m for m in account.memberships if m.organisation == OWN)
    return step.path, {"membership": str(held.id), "confirmed": "yes"}


def _service_account(step: Step, *, with_key: bool) -> tuple[uuid.UUID, uuid.UUID | None]:
    """A service account of the caller's organisation (a counter's role), with a key."""
    with transaction(step.engine) as session:
        account = staff.do_create_service_account(session, name="試験の連携", actor="system:test")
        staff.do_grant(session, account.id, organisation=OWN, role="counter", actor="system:test")
        if not with_key:
            return account.id, None
        created = staff.do_create_key(
            session, account.id, organisation=OWN, permissions=[KEY_PERMISSION], actor="system:t"
        )
    return account.id, created.key.id


KEY_PERMISSION = "residents.read"


def _suspend(step: Step) -> tuple[str, dict[str, Any]]:
    """Another official of the organisation is suspended (not the one the later steps use)."""
    with transaction(step.engine) as session:
        other = make_official(session, OWN, "counter", name="停止　職員")
    body = {"action": "suspend", "reason": "試験のため", "confirmed": "yes"}
    return f"/office/staff/{other.account_id}/status", body


def _new_key(step: Step) -> tuple[str, dict[str, Any]]:
    account, _ = _service_account(step, with_key=False)
    return f"/office/staff/{account}/keys", {"days": "90", "permissions": [KEY_PERMISSION]}


def _revoke_key(step: Step) -> tuple[str, dict[str, Any]]:
    account, key = _service_account(step, with_key=True)
    return f"/office/staff/{account}/keys/{key}/revoke", {"confirmed": "yes"}


def _death_notice(step: Step) -> tuple[str, dict[str, Any]]:
    """An accepted 死亡届 of the caller's municipality: a couple of the register, the wife's
    death certified by a physician, the husband files and signs it, an official accepts; the
    office then keeps the family again (as the inheritance engine reads it)."""
    with tempfile.TemporaryDirectory() as cards, transaction(step.engine) as session:
        family = journey.build_family(session, Path(cards), consent_bank=False)
        physician.certify_death(
            session,
            family.spouse.id,
            died_at=clock.now() - timedelta(hours=5),
            place_kind="hospital",
            place="東京都千代田区丸の内1-1-1 きばん病院",
            cause="illness",
            physician="医師 一郎",
            address=family.spouse.address.text,
        )
        filer = procedures.actor_of(family.applicant.id)
        app = death.start_death_notice(
            session, filer=family.applicant.id, deceased=family.spouse.id, actor=filer
        )
        app = procedures.do_save_draft(
            session, app.id, {"capacity": "同居の親族"}, expected_version=app.version, actor=filer
        )
        app = journey.sign_and_submit(session, family, app)
        app = journey.act_as_official(session, app.id, "accept", OWN)
    kept = json.dumps(app.outputs.get("family") or {}, ensure_ascii=False)
    return f"/office/deaths/{app.id}/family", {"family": kept}


def _refund(step: Step) -> tuple[str, dict[str, Any]]:
    """A paid fee of the caller's office, refunded in part."""
    with transaction(step.engine) as session:
        fee = payments.do_start_fee(
            session,
            application_id=uuid.uuid4(),
            procedure="residence_certificate",
            office=OWN,
            person_id=uuid.UUID(step.world["person"]),
            amount=300,
            description="住民票の写し 1通",
            return_url="http://127.0.0.1/r",
            actor="system:test",
        )
    payments.local_provider().confirm_card(
        fee.provider_id, number="4444333322221111", expiry="12/39", cvc="123", name="T"
    )
    with transaction(step.engine) as session:
        payments.do_check_fee(session, fee.id, actor="system:test")
    return f"/office/fees/{fee.id}/refund", {"amount": "100", "reason": "試験"}


def _new_licence(step: Step) -> tuple[str, dict[str, Any]]:
    """A resident of the walk's register, found by name and birth date, registered as a nurse
    (the confirmed post)."""
    with transaction(step.engine) as session:
        person = residents.get_person(session, uuid.UUID(step.world["person"]))
    return step.path, {
        "qualification": "nurse",
        "family_name": person.family_name,
        "given_name": person.given_name,
        "birth_date": person.birth_date.isoformat(),
        "registration_number": "880001",
        "registered_on": "2016-04-01",
        "confirmed": "true",
    }


def _suspend_licence(step: Step) -> tuple[str, dict[str, Any]]:
    """A nurse's registration, suspended (the confirmed post)."""
    with transaction(step.engine) as session:
        person = residents.list_people(session, lg_code=OWN, limit=3)[-1]
        holder = qualifications.register_as_system(
            session,
            qualification="nurse",
            person_id=person.id,
            registration_number="880002",
            registered_on=date(2016, 4, 1),
            actor="system:test",
        )
    body = {
        "action": "suspended",
        "registration_version": "1",
        "reason": "業務停止",
        "confirmed": "true",
    }
    return f"/office/qualifications/{holder.id}/act", body


PREPARE: dict[str, Callable[[Step], tuple[str, dict[str, Any]]]] = {
    "POST /office/qualifications/new": _new_licence,
    "POST /office/qualifications/{holder_id}/act": _suspend_licence,
    "POST /office/fees/{fee_id}/refund": _refund,
    "POST /office/deaths/{application_id}/family": _death_notice,
    "POST /office/staff/{account_id}/revoke": _end_role,
    "POST /office/staff/{account_id}/status": _suspend,
    "POST /office/staff/{account_id}/keys": _new_key,
    "POST /office/staff/{account_id}/keys/{key_id}/revoke": _revoke_key,
    "POST /office/factors/webauthn": _add_key,
    "POST /office/factors/webauthn/{credential_id}/remove": _remove_key,
    "POST /office/factors/totp/confirm": _confirm_totp,
    "POST /office/factors/totp/remove": _remove_totp,
    "POST /office/factors/step-up": _step_up,
    "POST /api/v1/benefits/programmes/{code}/runs": _run,
    "POST /api/v1/benefits/determinations/{determination_id}/resolution": _resolve,
    "POST /api/v1/payments/{payer}/batches/{number}/approvals": _approve,
    "POST /office/payments/{payer}/batches": _office_build,
    "POST /office/payments/{payer}/batches/{number}/approvals": _office_approve,
    "POST /office/payments/{payer}/batches/{number}/transfer-file": _office_export,
    "POST /office/payments/{payer}/batches/{number}/result": _office_result,
}
"""Routes whose case in the authority matrix cannot succeed as it stands (it is written to
be refused or allowed, not to do the work): what to set up first, and the path and body."""


def office_actions() -> list[RouteInfo]:
    """Every unsafe route of an official or a service account."""
    rows = [
        row for row in inventory(create_app()) if row["unsafe"] and row["auth"] in PRINCIPAL_AUTH
    ]
    return sorted(rows, key=_sort_key)


def test_every_office_action_writes_its_declared_entries_naming_official_role_and_session(
    engine: Engine, world: dict[str, Any]
) -> None:
    cases = matrix.policy(world["town"])
    with transaction(engine) as session:
        ensure_organisation(session, "agency:mhlw")  # The qualifications registry's pages.
        kinds = ("municipality", "operator", "agency")
        roles = {kind: staff.list_roles(session, kind) for kind in kinds}
    callers: dict[tuple[str, str], Caller] = {}

    def caller(organisation: str, permission: str | None) -> Caller:
        kind = (
            "operator"
            if organisation == "kiban"
            else "agency"
            if organisation.startswith("agency:")
            else "municipality"
        )
        role = next(
            code
            for code, _, _, held in roles[kind]
            if permission is None or staff.grants(frozenset(held), permission)
        )
        if (organisation, role) not in callers:
            callers[organisation, role] = Caller(engine, organisation, role)
        return callers[organisation, role]

    def version(application: str) -> int:
        with transaction(engine) as session:
            return procedures.get_application(session, uuid.UUID(application)).version

    def fill(value: Any, application: str) -> Any:
        if isinstance(value, dict):
            return {k: fill(v, application) for k, v in value.items()}
        if value == "{address}":
            return matrix._address(world["town"])
        if not isinstance(value, str):
            return value
        return (
            value.replace("{person}", world["person"])
            .replace("{application}", application)
            .replace("{account}", world["account"])
            .replace(TODAY, clock.today_jst().isoformat())
        )

    walked: list[str] = []
    problems: dict[str, Any] = {}
    with TestClient(create_app(), follow_redirects=False) as client:

        def call(
            who: Caller,
            method: str,
            path: str,
            body: dict[str, Any],
            office: bool,
            json: bool = False,
        ) -> Any:
            if office:
                client.cookies.set(OFFICE_COOKIE, who.cookie)
                if json:  # An office page's JSON call: the token in X-CSRF-Token.
                    headers = {"X-CSRF-Token": who.csrf}
                    answer = client.request(method, path, json=body, headers=headers)
                else:
                    files = body.pop(FILES, None)  # An upload: a multipart form.
                    answer = client.request(
                        method, path, data={**body, "csrf_token": who.csrf}, files=files
                    )
                client.cookies.clear()
                return answer
            headers = {"Authorization": f"Bearer {who.key}"}
            return client.request(method, path, json=body, headers=headers)

        for row in office_actions():
            office = row.path.startswith("/office")
            application = world["office" if office else "api"]
            for method in row.methods:
                key = f"{method} {template_of(row.path)}"
                case = cases[method, template_of(row.path)]
                organisation = (
                    case.organisation
                    if case.organisation == "kiban" or case.organisation.startswith("agency:")
                    else OWN
                )
                who = caller(organisation, case.permission)
                body = fill(BODIES.get(key, case.body or {}), application)
                path = fill(case.path, application)
                if key in BEFORE:
                    step = path.rsplit("/", 1)[0] + "/" + BEFORE[key]
                    claim = {"version": str(version(application))}
                    if not office:
                        claim = {"expected_version": version(application)}
                    assert call(who, "POST", step, claim, office).status_code < 400
                if key in PREPARE:
                    step = Step(
                        engine,
                        world,
                        who,
                        lambda m, p, b, w=who, o=office, j=case.json: call(w, m, p, b, o, j),
                        path,
                        body,
                    )
                    path, body = PREPARE[key](step)
                if "expected_version" in body:
                    body["expected_version"] = version(application)
                if "version" in body:
                    body["version"] = str(version(application))
                before = _last_seq(engine)
                answer = call(who, method, path, body, office, case.json)
                walked.append(key)
                if answer.status_code >= 400:
                    problems[key] = (answer.status_code, answer.text[:200])
                    continue
                entries = _entries_after(engine, before)
                declared = AUDIT[audit_key(row)].tags
                written = sorted({tag for tag, _, _ in entries})
                patterns = [p.rstrip("?") for p in declared]
                unmatched = [t for t in written if not any(fnmatch.fnmatch(t, p) for p in patterns)]
                missing = [
                    p for p in declared if not p.endswith("?") and not fnmatch.filter(written, p)
                ]
                if unmatched or missing:
                    problems[key] = {"declared": declared, "written": written}
                actor, by = who.expected_by(office)
                mine = [data for _, who_, data in entries if who_ == actor]
                if not mine or any(data.get("by") != by for data in mine):
                    problems[key] = {"actor": actor, "by": by, "entries": entries}
    assert problems == {}
    # Every office action was walked (a new one needs a case in the authority matrix).
    assert sorted(walked) == sorted(
        f"{m} {template_of(r.path)}" for r in office_actions() for m in r.methods
    )
    assert len(walked) >= 20


def test_the_session_reference_is_never_the_cookie(engine: Engine, world: dict[str, Any]) -> None:
    who = Caller(engine, OWN, "approval")
    path = f"/office/applications/{world['office']}/claim"
    with TestClient(create_app(), follow_redirects=False) as client:
        client.cookies.set(OFFICE_COOKIE, who.cookie)
        with transaction(engine) as session:
            current = procedures.get_application(session, uuid.UUID(world["office"])).version
        answer = client.post(path, data={"version": str(current), "csrf_token": who.csrf})
        assert answer.status_code == 303
    with transaction(engine) as session:
        entry = session.scalars(
            select(AuditEntry).where(AuditEntry.tag == "procedures:application:claim")
        ).one()
    assert entry.data["by"]["session"] == f"office-session:{who.session_id}"
    token = who.cookie.split(".")[0]
    assert token not in str(entry.data)
    assert who.cookie not in str(entry.data)


def test_the_cli_names_its_run_as_the_session(engine: Engine, world: dict[str, Any]) -> None:
    with transaction(engine) as session:
        admin = make_official(session, OWN, "administrator")
    before = _last_seq(engine)
    result = CliRunner().invoke(
        cli_app,
        [
            "staff",
            "grant",
            world["account"],
            "--organisation",
            OWN,
            "--role",
            "audit",
            "--as",
            admin.actor,
        ],
    )
    assert result.exit_code == 0, result.output
    entries = [e for e in _entries_after(engine, before) if e[1] == admin.actor]
    assert [tag for tag, _, _ in entries] == ["staff:account:granted"]
    by = entries[0][2]["by"]
    assert by["account"] == str(admin.account_id)
    assert (by["organisation"], by["role"]) == (OWN, "administrator")
    assert re.fullmatch(r"cli:[0-9a-f-]{36}", by["session"])


# --- A representative walk of the portal's forms: the declarations hold there too -----------


def _check_declared(key: str, entries: list[tuple[str, str, dict[str, Any]]]) -> list[str]:
    """What differs between the entries a call wrote and ``AUDIT[key]``'s tags."""
    declared = AUDIT[key].tags
    written = sorted({tag for tag, _, _ in entries})
    patterns = [p.rstrip("?") for p in declared]
    unmatched = [t for t in written if not any(fnmatch.fnmatch(t, p) for p in patterns)]
    required = [p for p in declared if not p.endswith("?")]
    return unmatched + [p for p in required if not fnmatch.filter(written, p)]


def test_the_portals_forms_write_what_they_declare(engine: Engine) -> None:
    with transaction(engine) as session:
        person = register(session)
    walked: dict[str, list[str]] = {}
    with TestClient(create_app(), follow_redirects=False) as client:
        client.cookies.set(RESIDENT_COOKIE, resident_cookie(engine, person.id))

        def post(key: str, path: str, status: int = 303, **data: str) -> Any:
            token = CSRF.search(client.get("/portal/?lang=en").text)
            assert token is not None
            before = _last_seq(engine)
            answer = client.post(path, data={**data, "csrf_token": token.group(1)})
            assert answer.status_code == status, (key, answer.status_code, answer.text[:300])
            # The resident's own entries (a first use may also set up the mesh, as the system).
            mine = [e for e in _entries_after(engine, before) if e[1] == f"person:{person.id}"]
            walked[key] = _check_declared(key, mine)
            return answer

        started = post(
            "POST /portal/procedures/{code}/start", f"/portal/procedures/{moving.MOVE_OUT}/start"
        )
        application = started.headers["location"].split("?")[0]
        app_id = uuid.UUID(application.rsplit("/", 1)[1])
        with transaction(engine) as session:
            version = procedures.get_application(session, app_id).version
        post(
            "POST /portal/applications/{application_id}/save",
            f"{application}/save",
            200,  # The review page answers the form.
            version=str(version),
        )
        with transaction(engine) as session:
            version = procedures.get_application(session, app_id).version
        post(
            "POST /portal/applications/{application_id}/withdraw",
            f"{application}/withdraw",
            version=str(version),
        )
        post("POST /portal/sessions/revoke", "/portal/sessions/revoke")
    assert walked == {key: [] for key in walked}
    assert len(walked) == 4
