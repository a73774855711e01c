"""Route × role × own/other organisation: every route that acts for an official or a service
account asks the one policy function, and answers exactly as the roles (data) say.

Every route whose dependencies include ``require_principal`` (operator and office APIs) or
``require_official`` (office pages) must have an entry in ``POLICY``: the permission it asks for
(or ``None``: any signed-in official), how to call it, and which organisation owns the resource.
A new route without an entry fails ``test_every_principal_route_has_a_policy``. Then every
route is called by a principal of each role of a municipality (131016's own, and 011011's,
which owns nothing here) and of kiban's operator: a denial is 403 with a ``staff.*`` code, an
allowed call is anything but 401/403.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pytest
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from kiban.blocks import payments, procedures, qualifications, residents, staff
from kiban.platform import authority, sessions
from kiban.platform.db import transaction
from kiban.platform.webkit import template_of
from kiban.web import create_app
from kiban.web.office.session import AUDIENCE, OFFICE_COOKIE, require_official
from tests.staff_support import ensure_organisation, make_key, make_official
from tests.web.test_route_auth import _calls

OWN, OTHER = "131016", "011011"
CODE = "test.matrix"
ANY = None  # Any signed-in official (the office home).


@dataclass(frozen=True)
class Case:
    permission: str | None
    method: str
    path: str  # With {person} and {application} filled in.
    body: dict[str, Any] | None = None
    form: bool = False  # An office form (CSRF token added).
    json: bool = False  # An office page's JSON call (CSRF token in X-CSRF-Token).
    organisation: str = OWN  # The organisation the resource belongs to.


def _address(town_id: str) -> dict[str, Any]:
    return {"town_id": town_id, "block_number": "9番9号"}


def policy(town: str) -> dict[tuple[str, str], Case]:
    person_body = {
        "family_name": "試験",
        "given_name": "花子",
        "family_name_kana": "シケン",
        "given_name_kana": "ハナコ",
        "birth_date": "1990-01-02",
        "sex": "female",
        "address": _address(town),
        "effective_on": "2024-04-01",
    }
    r = "/api/v1/residents"
    t = "/api/v1/registration/tasks"
    o = "/office/applications/{application}"
    sectors = "/api/v1/identity/sectors"
    return {
        ("GET", r): Case("residents.read", "GET", f"{r}?municipality={OWN}"),
        ("POST", r): Case("residents.write", "POST", r, person_body),
        ("POST", f"{r}/births"): Case(
            "residents.write",
            "POST",
            f"{r}/births",
            {
                **{k: person_body[k] for k in ("family_name", "given_name")},
                "family_name_kana": "シケン",
                "given_name_kana": "タロウ",
                "birth_date": "2025-01-02",
                "sex": "male",
                "parent_id": "{person}",
            },
        ),
        ("GET", f"{r}/{{person_id}}"): Case("residents.read", "GET", f"{r}/{{person}}"),
        ("GET", f"{r}/{{person_id}}/history"): Case(
            "residents.read", "GET", f"{r}/{{person}}/history"
        ),
        ("GET", f"{r}/{{person_id}}/certificate"): Case(
            "residents.certificate.issue", "GET", f"{r}/{{person}}/certificate"
        ),
        ("POST", "/api/v1/credentials/offers"): Case(
            "credentials.offer",
            "POST",
            "/api/v1/credentials/offers",
            {"person_id": "{person}", "credential_type": "resident"},
        ),
        ("POST", f"{r}/{{person_id}}/move-out"): Case(
            "residents.write",
            "POST",
            f"{r}/{{person}}/move-out",
            {"moved_on": "2099-01-01", "destination": "x"},
        ),
        ("POST", f"{r}/{{person_id}}/move-in"): Case(
            "residents.write",
            "POST",
            f"{r}/{{person}}/move-in",
            {"moved_on": "2025-01-01", "address": _address(town)},
        ),
        ("POST", f"{r}/{{person_id}}/move-within"): Case(
            "residents.write",
            "POST",
            f"{r}/{{person}}/move-within",
            {"moved_on": "2099-01-01", "address": _address(town)},
        ),
        ("POST", f"{r}/{{person_id}}/death"): Case(
            "residents.write", "POST", f"{r}/{{person}}/death", {"died_on": "2099-01-01"}
        ),
        ("POST", f"{r}/{{person_id}}/name"): Case(
            "residents.write",
            "POST",
            f"{r}/{{person}}/name",
            {
                "family_name": "試験",
                "given_name": "花子",
                "family_name_kana": "シケン",
                "given_name_kana": "ハナコ",
                "effective_on": "2099-01-01",
            },
        ),
        ("POST", "/api/v1/corporations"): Case(
            "corporations.write",
            "POST",
            "/api/v1/corporations",
            {
                "corporate_number": "4011001098993",
                "name": "株式会社試験",
                "name_kana": "シケン",
                "head_office": _address(town),
                "representative": {"name": "試験　一郎", "address": _address(town)},
            },
            organisation="kiban",
        ),
        ("GET", "/api/v1/corporations"): Case(
            "corporations.read", "GET", "/api/v1/corporations", organisation="kiban"
        ),
        ("GET", "/api/v1/corporations/{corporate_number}"): Case(
            "corporations.read", "GET", "/api/v1/corporations/4011001098993", organisation="kiban"
        ),
        ("POST", "/api/v1/identity/clients"): Case(
            "identity.clients.manage",
            "POST",
            "/api/v1/identity/clients",
            {
                "name": "試験",
                "purpose": "試験のため",
                "scopes": ["openid"],
                "redirect_uris": ["https://rp.example/callback"],
                "auth_method": "client_secret_basic",
            },
            organisation="kiban",
        ),
        ("GET", "/api/v1/identity/clients"): Case(
            "identity.clients.read", "GET", "/api/v1/identity/clients", organisation="kiban"
        ),
        ("GET", "/api/v1/identity/clients/{client_id}"): Case(
            "identity.clients.read", "GET", "/api/v1/identity/clients/x", organisation="kiban"
        ),
        ("POST", sectors): Case(
            "identity.clients.manage",
            "POST",
            sectors,
            {
                "sector_identifier": "rp.example",
                "name": "試験",
                "redirect_uris": ["https://rp.example/callback"],
            },
            organisation="kiban",
        ),
        ("GET", sectors): Case("identity.clients.read", "GET", sectors, organisation="kiban"),
        ("GET", f"{sectors}/{{sector_identifier}}"): Case(
            "identity.clients.read", "GET", f"{sectors}/rp.example", organisation="kiban"
        ),
        ("PUT", f"{sectors}/{{sector_identifier}}"): Case(
            "identity.clients.manage",
            "PUT",
            f"{sectors}/rp.example",
            {"name": "試験", "redirect_uris": ["https://rp.example/callback"]},
            organisation="kiban",
        ),
        ("GET", "/api/v1/mesh/metrics"): Case(
            "mesh.metrics.read", "GET", "/api/v1/mesh/metrics", organisation="kiban"
        ),
        ("GET", "/api/v1/benefits/programmes"): Case(
            "benefits.read", "GET", "/api/v1/benefits/programmes", organisation="kiban"
        ),
        ("GET", "/api/v1/benefits/programmes/{code}/preview"): Case(
            "benefits.read",
            "GET",
            "/api/v1/benefits/programmes/flat-payment/preview?base_date=2026-12-01",
            organisation="kiban",
        ),
        ("POST", "/api/v1/benefits/programmes/{code}/runs"): Case(
            "benefits.run",
            "POST",
            "/api/v1/benefits/programmes/not-defined/runs",
            {"base_date": "2026-12-01"},
            organisation="kiban",
        ),
        ("GET", "/api/v1/benefits/runs"): Case(
            "benefits.read", "GET", "/api/v1/benefits/runs", organisation="kiban"
        ),
        ("POST", "/api/v1/benefits/determinations/{determination_id}/resolution"): Case(
            "benefits.run",
            "POST",
            "/api/v1/benefits/determinations/00000000-0000-4000-8000-000000000000/resolution",
            {"amount_yen": 0},
            organisation="kiban",
        ),
        ("GET", "/api/v1/staff/accounts"): Case(
            "staff.read", "GET", f"/api/v1/staff/accounts?organisation={OWN}"
        ),
        ("POST", "/api/v1/staff/accounts/{account_id}/memberships"): Case(
            "staff.manage",
            "POST",
            "/api/v1/staff/accounts/{account}/memberships",
            {"organisation": OWN, "role": "audit"},
        ),
        ("POST", "/api/v1/staff/accounts/{account_id}/memberships/revoke"): Case(
            "staff.manage",
            "POST",
            "/api/v1/staff/accounts/{account}/memberships/revoke",
            {"organisation": OWN, "role": "audit"},
        ),
        ("GET", "/api/v1/registration/services/{code}/prefill-report"): Case(
            "procedures.report.read",
            "GET",
            f"/api/v1/registration/services/{CODE}/prefill-report",
            organisation="self",
        ),
        ("GET", t): Case("procedures.tasks.read", "GET", f"{t}?office={OWN}"),
        ("GET", f"{t}/{{application_id}}"): Case(
            "procedures.tasks.read", "GET", f"{t}/{{application}}"
        ),
        ("POST", f"{t}/{{application_id}}/claim"): Case(
            "procedures.tasks.claim", "POST", f"{t}/{{application}}/claim", {"expected_version": 99}
        ),
        ("POST", f"{t}/{{application_id}}/release"): Case(
            "procedures.tasks.claim",
            "POST",
            f"{t}/{{application}}/release",
            {"expected_version": 99},
        ),
        ("POST", f"{t}/{{application_id}}/complete"): Case(
            f"procedures.{CODE}.approve",
            "POST",
            f"{t}/{{application}}/complete",
            {"action": "approve", "expected_version": 99},
        ),
        ("GET", "/api/v1/payments/{payer}/batches"): Case(
            "payments.batch.approve", "GET", f"/api/v1/payments/{OWN}/batches"
        ),
        ("GET", "/api/v1/payments/{payer}/batches/{number}"): Case(
            "payments.batch.approve", "GET", f"/api/v1/payments/{OWN}/batches/1"
        ),
        ("POST", "/api/v1/payments/{payer}/batches/{number}/approvals"): Case(
            "payments.batch.approve", "POST", f"/api/v1/payments/{OWN}/batches/1/approvals"
        ),
        ("GET", "/api/v1/payments/{payer}/batches/{number}/transfer-file"): Case(
            "payments.batch.approve", "GET", f"/api/v1/payments/{OWN}/batches/1/transfer-file"
        ),
        ("GET", "/api/v1/payments/{payer}/batches/{number}/reconciliation"): Case(
            "payments.batch.approve", "GET", f"/api/v1/payments/{OWN}/batches/1/reconciliation"
        ),
        ("GET", "/office"): Case(ANY, "GET", "/office"),
        ("GET", "/office/tasks"): Case(
            "procedures.tasks.read", "GET", "/office/tasks", organisation="self"
        ),
        ("GET", "/office/procedures"): Case(
            "procedures.report.read", "GET", "/office/procedures", organisation="self"
        ),
        ("GET", "/office/applications/{application_id}"): Case("procedures.tasks.read", "GET", o),
        ("POST", "/office/applications/{application_id}/claim"): Case(
            "procedures.tasks.claim", "POST", f"{o}/claim", {"version": "99"}, form=True
        ),
        ("POST", "/office/applications/{application_id}/release"): Case(
            "procedures.tasks.claim", "POST", f"{o}/release", {"version": "99"}, form=True
        ),
        ("POST", "/office/applications/{application_id}/act"): Case(
            f"procedures.{CODE}.approve",
            "POST",
            f"{o}/act",
            {"version": "99", "action": "approve"},
            form=True,
        ),
        # Second factors (ADR 0019): every official manages their own; nothing of an
        # organisation. The JSON calls answer 400 here (no authenticator behind them).
        ("GET", "/office/factors"): Case(ANY, "GET", "/office/factors"),
        ("POST", "/office/factors/webauthn/options"): Case(
            ANY, "POST", "/office/factors/webauthn/options", {}, json=True
        ),
        ("POST", "/office/factors/webauthn"): Case(
            ANY, "POST", "/office/factors/webauthn", {"name": "k", "credential": {}}, json=True
        ),
        ("POST", "/office/factors/webauthn/{credential_id}/remove"): Case(
            ANY, "POST", f"/office/factors/webauthn/{uuid.uuid4()}/remove", form=True
        ),
        ("POST", "/office/factors/totp"): Case(ANY, "POST", "/office/factors/totp", form=True),
        ("POST", "/office/factors/totp/confirm"): Case(
            ANY, "POST", "/office/factors/totp/confirm", {"code": "000000"}, form=True
        ),
        ("POST", "/office/factors/totp/remove"): Case(
            ANY, "POST", "/office/factors/totp/remove", form=True
        ),
        ("POST", "/office/factors/step-up/options"): Case(
            ANY, "POST", "/office/factors/step-up/options", {}, json=True
        ),
        ("POST", "/office/factors/step-up"): Case(
            ANY, "POST", "/office/factors/step-up", {"id": "x"}, json=True
        ),
        ("GET", "/office/benefits"): Case(
            "benefits.read", "GET", "/office/benefits", organisation="kiban"
        ),
        **_qualification_pages(),
        **_payment_pages(),
        ("GET", "/office/deaths/{application_id}"): Case(
            "procedures.tasks.read", "GET", "/office/deaths/{application}"
        ),
        ("POST", "/office/deaths/{application_id}/family"): Case(
            "procedures.death.heirs",
            "POST",
            "/office/deaths/{application}/family",
            {"family": "{}"},
            form=True,
        ),
        ("GET", "/office/fees"): Case(
            "payments.fee.read", "GET", "/office/fees", organisation="self"
        ),
        ("POST", "/office/fees/{fee_id}/refund"): Case(
            "payments.fee.refund",
            "POST",
            "/office/fees/{fee}/refund",
            {"amount": "1", "reason": "matrix"},
            form=True,
        ),
        ("GET", "/office/residents"): Case(
            "residents.read", "GET", f"/office/residents?municipality={OWN}"
        ),
        ("GET", "/office/residents/{person_id}/certificate"): Case(
            "residents.certificate.issue", "GET", "/office/residents/{person}/certificate"
        ),
        **_staff_pages(),
    }


def _qualification_pages() -> dict[tuple[str, str], Case]:
    """The qualifications registry's pages: 厚生労働省's registrations (no municipal or
    operator role holds a ``qualifications.*`` permission, so every one of them is refused);
    ``{holder}`` is a registration the walk in test_route_audit makes."""
    q, mhlw = "/office/qualifications", "agency:mhlw"
    return {
        ("GET", q): Case("qualifications.read", "GET", q, organisation=mhlw),
        ("POST", f"{q}/search"): Case(
            "qualifications.read", "POST", f"{q}/search", {"number": "1"}, True, organisation=mhlw
        ),
        ("GET", f"{q}/new"): Case("qualifications.register", "GET", f"{q}/new", organisation=mhlw),
        ("POST", f"{q}/new"): Case(
            "qualifications.register",
            "POST",
            f"{q}/new",
            {"qualification": "nurse", "registration_number": "1"},
            True,
            organisation=mhlw,
        ),
        ("GET", f"{q}/{{holder_id}}"): Case(
            "qualifications.read", "GET", f"{q}/{{holder}}", organisation=mhlw
        ),
        ("POST", f"{q}/{{holder_id}}/act"): Case(
            "qualifications.suspend",
            "POST",
            f"{q}/{{holder}}/act",
            {"action": "suspended", "registration_version": "1", "reason": "試験"},
            True,
            organisation=mhlw,
        ),
    }


def _payment_pages() -> dict[tuple[str, str], Case]:
    """The office's payment pages: the payer (131016 here) is in the path, as in the API."""
    approve, p, b = "payments.batch.approve", "/office/payments", "/office/payments/{payer}"
    n = "/office/payments/{payer}/batches/{number}"
    own = f"{p}/{OWN}/batches/1"
    return {
        ("GET", p): Case(approve, "GET", p, organisation="self"),
        ("POST", f"{b}/batches"): Case(
            approve, "POST", f"{p}/{OWN}/batches", {"programme": "none"}, form=True
        ),
        ("GET", n): Case(approve, "GET", own),
        ("POST", f"{n}/approvals"): Case(approve, "POST", f"{own}/approvals", {}, form=True),
        ("POST", f"{n}/transfer-file"): Case(
            approve, "POST", f"{own}/transfer-file", {}, form=True
        ),
        ("POST", f"{n}/result"): Case(approve, "POST", f"{own}/result", {}, form=True),
        ("GET", f"{b}/failures"): Case(approve, "GET", f"{p}/{OWN}/failures"),
    }


def _staff_pages() -> dict[tuple[str, str], Case]:
    """The office's staff pages: the administrator's own organisation ("self"), or the
    account's (131016's counter clerk, ``{account}``)."""
    s, a = "/office/staff", "/office/staff/{account_id}"
    mine = "/office/staff/{account}"
    manage, keys = "staff.manage", "staff.keys.manage"
    return {
        ("GET", s): Case(manage, "GET", s, organisation="self"),
        ("POST", f"{s}/services"): Case(
            manage,
            "POST",
            f"{s}/services",
            {"name": "", "role": "audit"},
            form=True,
            organisation="self",
        ),
        ("GET", f"{s}/new"): Case(manage, "GET", f"{s}/new", organisation="self"),
        ("POST", f"{s}/new/search"): Case(
            manage, "POST", f"{s}/new/search", {"query": ""}, form=True, organisation="self"
        ),
        ("POST", f"{s}/new"): Case(
            manage,
            "POST",
            f"{s}/new",
            {"person": "", "role": "audit"},
            form=True,
            organisation="self",
        ),
        ("GET", f"{s}/emergency"): Case(manage, "GET", f"{s}/emergency", organisation="self"),
        ("POST", f"{s}/emergency"): Case(
            manage, "POST", f"{s}/emergency", {"hours": "x"}, form=True, organisation="self"
        ),
        ("GET", a): Case(manage, "GET", mine),
        ("POST", f"{a}/grant"): Case(manage, "POST", f"{mine}/grant", {"role": "audit"}, True),
        ("POST", f"{a}/revoke"): Case(manage, "POST", f"{mine}/revoke", {"membership": "x"}, True),
        ("POST", f"{a}/status"): Case(
            manage, "POST", f"{mine}/status", {"action": "suspend", "reason": "試験"}, True
        ),
        ("POST", f"{a}/keys"): Case(keys, "POST", f"{mine}/keys", {"days": "90"}, True),
        ("POST", f"{a}/keys/{{key_id}}/revoke"): Case(
            keys, "POST", f"{mine}/keys/{uuid.UUID(int=1)}/revoke", {}, True
        ),
    }


def principal_routes() -> list[tuple[str, str]]:
    """(method, path template) of every route served for a principal or an official (without
    parameter converters: ``{person_id:uuid}`` is ``{person_id}``)."""
    found: list[tuple[str, str]] = []
    for route in iter_route_contexts(create_app().routes):
        if not isinstance(route.original_route, APIRoute):
            continue
        calls = set(_calls(route.dependant))
        if authority.require_principal in calls or require_official in calls:
            path = template_of(route.path or "")
            found.extend((method, path) for method in sorted(route.methods or ()))
    return found


def test_every_principal_route_has_a_policy() -> None:
    missing = [r for r in principal_routes() if r not in policy("town")]
    assert missing == [], f"routes without an entry in POLICY: {missing}"
    stale = [r for r in policy("town") if r not in principal_routes()]
    assert stale == []


ROLES = [
    ("municipality", role) for role in ("counter", "review", "approval", "administrator", "audit")
] + [("operator", "administrator"), ("operator", "payments"), ("operator", "audit")]


@pytest.fixture
def world(engine: Engine) -> dict[str, Any]:
    defn = procedures.ProcedureDef(
        code=CODE,
        title_ja="試験",
        title_en="Matrix test",
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
    procedures.register_procedure(defn)
    with transaction(engine) as session:
        residents.seed_population(session, size="tiny", seed=5)
    with transaction(engine) as session:
        person = residents.list_people(session, lg_code=OWN, limit=1)[0]
        app = procedures.do_start_application(
            session, CODE, applicant=person.id, actor="system:test"
        )
        ensure_organisation(session, OTHER)
        ensure_organisation(session, "kiban")
        clerk = make_official(session, OWN, "counter", name="対象　職員")
        fee = payments.do_start_fee(
            session,
            application_id=app.id,
            procedure=CODE,
            office=OWN,
            person_id=person.id,
            amount=300,
            description="試験",
            return_url="http://127.0.0.1/r",
            actor="system:test",
        )
        holder = qualifications.register_as_system(
            session,
            qualification="nurse",
            person_id=person.id,
            registration_number="900001",
            registered_on=date(2015, 4, 1),
            actor="system:test",
        )
    payments.local_provider().confirm_card(
        fee.provider_id, number="4444333322221111", expiry="12/39", cvc="123", name="T"
    )
    with transaction(engine) as session:
        payments.do_check_fee(session, fee.id, actor="system:test")
    return {
        "fee": str(fee.id),
        "holder": str(holder.id),
        "person": str(person.id),
        "application": str(app.id),
        "account": str(clerk.account_id),
        "town": str(person.address.town_id),
    }


def _office_cookie(engine: Engine, principal: staff.Principal) -> tuple[str, str]:
    with transaction(engine) as session:
        cookie, ws = sessions.start_session(
            session,
            audience=AUDIENCE,
            subject=str(principal.account_id),
            data={"organisation": principal.organisation, "role": principal.role},
            idle=timedelta(minutes=5),
            absolute=timedelta(minutes=30),
            user_agent=None,
            source=None,
            actor="system:test",
        )
        return cookie, sessions.csrf_token(ws)


def _expected(kind: str, role: str, case: Case, org: str) -> bool:
    held = next(p for code, _, _, p in _roles(kind) if code == role)
    if case.permission is None:
        return True
    if not staff.grants(frozenset(held), case.permission):
        return False
    target = org if case.organisation == "self" else case.organisation
    return kind == "operator" or target == org


_ROLE_CACHE: dict[str, list[tuple[str, str, str, tuple[str, ...]]]] = {}


def _roles(kind: str) -> list[tuple[str, str, str, tuple[str, ...]]]:
    return _ROLE_CACHE[kind]


@pytest.mark.parametrize(("kind", "role"), ROLES)
@pytest.mark.parametrize("where", ["own", "other"])
def test_the_matrix(
    engine: Engine, world: dict[str, Any], kind: str, role: str, where: str
) -> None:
    if kind == "operator" and where == "other":
        pytest.skip("kiban's operator is one organisation")
    org = "kiban" if kind == "operator" else (OWN if where == "own" else OTHER)
    with transaction(engine) as session:
        official = make_official(session, org, role)
        _ROLE_CACHE[kind] = staff.list_roles(session, kind)
        key = make_key(session, org, role)
    cookie, csrf = _office_cookie(engine, official)

    def fill(text: str) -> str:
        return (
            text.replace("{person}", world["person"])
            .replace("{application}", world["application"])
            .replace("{account}", world["account"])
            .replace("{fee}", world["fee"])
            .replace("{holder}", world["holder"])
        )

    results = []
    with TestClient(create_app(), follow_redirects=False) as client:
        for (method, template), case in policy(world["town"]).items():
            path = fill(case.path)
            body = (
                {k: fill(v) if isinstance(v, str) else v for k, v in case.body.items()}
                if case.body is not None
                else None
            )
            if template.startswith("/office"):
                client.cookies.set(OFFICE_COOKIE, cookie)
                if case.form:
                    answer = client.request(method, path, data={**(body or {}), "csrf_token": csrf})
                elif case.json:
                    answer = client.request(
                        method, path, json=body or {}, headers={"X-CSRF-Token": csrf}
                    )
                else:
                    answer = client.request(method, path)
                client.cookies.clear()
            else:
                answer = client.request(
                    method, path, json=body, headers={"Authorization": f"Bearer {key}"}
                )
            allowed = _expected(kind, role, case, org)
            # The office home is for any signed-in official; a service key has no office page.
            denied = answer.status_code in (401, 403)
            if denied == allowed:
                results.append((method, template, answer.status_code, answer.text[:200]))
            if denied:
                assert answer.status_code == 403, (template, answer.text)
                if answer.headers["content-type"].startswith("application/json"):
                    assert "staff." in answer.text, (template, answer.text[:300])
    assert results == [], f"{kind}/{role} in {where}: routes answering against the policy"
