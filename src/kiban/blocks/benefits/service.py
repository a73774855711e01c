"""Actions of the benefits block: define programmes, preview and run them, decline or correct.

A run (:func:`do_run_programme`) is resumable and idempotent. Each call determines every
household of the register on the base date with the pure engine (:mod:`.rules`), records a
determination per recipient that has none yet (unique per programme × period × recipient) and
tells each new recipient in the inbox (with the receiving account it will be paid to, or a
request to register one). Once the opt-out window is over (by ``kernel.clock``), a call also
settles: it hands the payments block an obligation for every determination not declined nor
held by a correction. The payments block pays those with an active account in its next batch;
the others' obligations wait, payable, and join a later batch once they register one.

Income-tested programmes ask the tax office through the mesh, as the benefits subsystem
``JP/GOV/kiban-benefits/benefits``, under a grant with a legal basis: every answer leaves an
access record the person can read. A preview asks no one: it counts from the register alone.
"""

from __future__ import annotations

import functools
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Any, Final

from pydantic import ValidationError
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from kiban.blocks import mesh, notifications, payments, residents
from kiban.blocks.benefits import events as topics
from kiban.blocks.benefits import notices
from kiban.blocks.benefits.errors import (
    DeterminationNotFound,
    InvalidProgramme,
    NotAPaymentMonth,
    OptOutClosed,
    ProgrammeNotFound,
    RunConflict,
    TaxOfficeUnavailable,
)
from kiban.blocks.benefits.models import BenefitsDetermination, BenefitsProgramme, BenefitsRun
from kiban.blocks.benefits.rules import (
    Award,
    HouseholdFacts,
    MemberFacts,
    ProgrammeDefinition,
    determine,
    needs_tax,
    period_of,
)
from kiban.blocks.benefits.schemas import (
    DeterminationRead,
    PreviewRead,
    PreviewSample,
    ProgrammeRead,
    RunRead,
)
from kiban.kernel import clock
from kiban.platform import audit, bulk, events

MEMBER: Final = "JP/GOV/kiban-benefits"
MEMBER_NAME: Final = "給付金の支給 (プッシュ型給付)"
SUBSYSTEM: Final = f"{MEMBER}/benefits"
"""The mesh subsystem through which the benefits block asks agencies (a member of its own:
agency codes are per member)."""
TAX_SERVICE: Final = "JP/GOV/NTA/tax/resident-tax"
TAX_ITEMS: Final = ["year", "resident_tax_exempt", "income_band"]
TAX_TASK: Final = "給付金の支給に係る住民税の課税状況の確認"
TAX_LEGAL_BASIS: Final = "番号法第19条第8号、別表 (給付金の支給に関する事務)"
HEAD: Final = "世帯主"
PAGE: Final = 1000
OPEN: Final = ("notified",)
BULK: Final = 5_000
"""Determinations written (and notices sent) per ``executemany``; ids per ``IN`` list."""
"""Statuses a recipient can still decline or correct in, during the window."""

Progress = Callable[[int, int], None]


# --- programmes -----------------------------------------------------------------------------


def _programme_read(row: BenefitsProgramme) -> ProgrammeRead:
    return ProgrammeRead(
        code=row.code,
        version=row.version,
        definition=ProgrammeDefinition.model_validate(row.definition),
        defined_at=row.defined_at,
    )


def parse_programme(data: Any) -> ProgrammeDefinition:
    """A definition from JSON-like data; ``benefits.invalid_programme`` naming the field."""
    try:
        return ProgrammeDefinition.model_validate(data)
    except ValidationError as error:
        first = error.errors()[0]
        field = ".".join(str(part) for part in first["loc"]) or "definition"
        raise InvalidProgramme(field, first["msg"]) from None


def do_define_programme(
    session: Session, definition: ProgrammeDefinition, *, actor: str
) -> ProgrammeRead:
    """Define a programme, or replace its definition (a new version); unchanged, nothing is
    written. Past runs keep the definition they were determined by."""
    data = definition.model_dump(mode="json")
    row = session.scalar(select(BenefitsProgramme).where(BenefitsProgramme.code == definition.code))
    if row is not None and row.definition == data:
        return _programme_read(row)
    if row is None:
        row = BenefitsProgramme(code=definition.code, definition=data, version=1, defined_by=actor)
        session.add(row)
    else:
        row.definition = data
        row.version += 1
        row.defined_by = actor
        row.defined_at = clock.now()
    session.flush()
    audit.record(
        session,
        tag=topics.AUDIT_DEFINED,
        actor=actor,
        subject=f"programme:{row.code}",
        data={"version": row.version},
    )
    events.emit(session, topics.PROGRAMME_DEFINED, {"programme": row.code, "version": row.version})
    return _programme_read(row)


def list_programmes(session: Session) -> list[ProgrammeRead]:
    """Every defined programme, by code."""
    rows = session.scalars(select(BenefitsProgramme).order_by(BenefitsProgramme.code))
    return [_programme_read(row) for row in rows]


def get_programme(session: Session, code: str) -> ProgrammeRead:
    """The programme ``code``; ``benefits.programme_not_found``."""
    row = session.scalar(select(BenefitsProgramme).where(BenefitsProgramme.code == code))
    if row is None:
        raise ProgrammeNotFound(code)
    return _programme_read(row)


# --- the register on the base date ----------------------------------------------------------


def _resident_on(person: residents.PersonRead | residents.RegisterEntry, on: date) -> bool:
    if person.resident_since > on or person.birth_date > on:
        return False
    if person.moved_out_on is not None and person.moved_out_on <= on:
        return False
    return person.died_on is None or person.died_on > on


def member_facts(person: residents.PersonRead, on: date) -> MemberFacts:
    """What the engine knows of ``person`` on the base date ``on``."""
    return MemberFacts(
        person_id=person.id,
        birth_date=person.birth_date,
        resident=_resident_on(person, on),
        head=person.relationship == HEAD,
        lg_code=person.address.lg_code,
    )


def _entry_facts(entry: residents.RegisterEntry, on: date) -> MemberFacts:
    return MemberFacts(
        person_id=entry.id,
        birth_date=entry.birth_date,
        resident=_resident_on(entry, on),
        head=entry.relationship == HEAD,
        lg_code=entry.lg_code,
    )


def iter_households_on(
    session: Session, on: date, *, progress: Progress | None = None
) -> Iterator[HouseholdFacts]:
    """Every household with a member resident on ``on``, as facts for the engine, one at a
    time from one streaming read of the register ordered by household (a national run never
    holds the whole register). ``progress(people read, people in the register)``.

    The household is the one the register holds now (a simplification: a household change
    after the base date is not undone).
    """
    total = 0
    if progress is not None:
        summary = residents.get_country_summary(session)
        total = summary.residents + summary.moved_out + summary.deceased
    household: uuid.UUID | None = None
    members: list[MemberFacts] = []
    done = 0
    for entry in residents.iter_register(session):
        if entry.household_id != household:
            if household is not None and any(m.resident for m in members):
                yield HouseholdFacts(household, tuple(members))
            household, members = entry.household_id, []
        members.append(_entry_facts(entry, on))
        done += 1
        if progress is not None and done % PAGE == 0:
            progress(done, total)
    if household is not None and any(m.resident for m in members):
        yield HouseholdFacts(household, tuple(members))
    if progress is not None:
        progress(done, max(done, total))


def households_on(session: Session, on: date) -> list[HouseholdFacts]:
    """Every household with a member resident on ``on`` (see :func:`iter_households_on`)."""
    return list(iter_households_on(session, on))


# --- the tax office through the mesh ----------------------------------------------------------


def register_benefits_member(session: Session, *, actor: str) -> bool:
    """Make the benefits subsystem a mesh member, granted the tax office's resident-tax
    service when that service is on the mesh (idempotent). Whether the grant is in place."""
    return mesh.ensure_granted_client(
        session,
        subsystem=SUBSYSTEM,
        member_name=MEMBER_NAME,
        service=TAX_SERVICE,
        task=TAX_TASK,
        legal_basis=TAX_LEGAL_BASIS,
        items=TAX_ITEMS,
        actor=actor,
    )


def _exempt(session: Session, person_id: uuid.UUID, year: int, *, actor: str) -> bool:
    reply = mesh.call(
        session,
        client=SUBSYSTEM,
        service=TAX_SERVICE,
        agency_code=mesh.agency_code(session, SUBSYSTEM, person_id),
        items=list(TAX_ITEMS),
        body={"year": year},
        user_id=actor,
    )
    if reply.status == 404 and reply.error is None:
        # The tax office has nobody on file under the code: no income was ever declared.
        return True
    if not reply.ok or not isinstance(reply.body, dict):
        raise TaxOfficeUnavailable(reply.error_code or reply.error or str(reply.status))
    return bool(reply.body.get("resident_tax_exempt"))


def _with_tax(
    session: Session,
    programme: ProgrammeDefinition,
    household: HouseholdFacts,
    on: date,
    *,
    actor: str,
) -> HouseholdFacts:
    # Ask only for households that some member could qualify in, and stop at the first member
    # who pays resident tax: nobody's tax data is read without need.
    if not determine(programme, replace(household, tax_exempt=True), on):
        return replace(household, tax_exempt=False)
    for member in household.members:
        if member.resident and not _exempt(session, member.person_id, on.year - 1, actor=actor):
            return replace(household, tax_exempt=False)
    return replace(household, tax_exempt=True)


# --- preview --------------------------------------------------------------------------------


def _period(programme: ProgrammeDefinition, base_date: date) -> str:
    try:
        return period_of(programme, base_date)
    except ValueError:
        raise NotAPaymentMonth() from None


def preview_programme(
    session: Session, code: str, base_date: date, *, sample: int = 5
) -> PreviewRead:
    """What a run on ``base_date`` would award: counts and a small sample without names.

    Asks nobody's tax data: for an income-tested programme every household is counted as if
    exempt (``tax_checked`` is False and the counts are an upper bound).
    """
    programme = get_programme(session, code).definition
    period = _period(programme, base_date)
    tax = needs_tax(programme.eligible)
    households = households_on(session, base_date)
    recipients = people = total = 0
    samples: list[PreviewSample] = []
    for household in households:
        facts = replace(household, tax_exempt=True) if tax else household
        for award in determine(programme, facts, base_date):
            recipients += 1
            people += len(award.lines)
            total += award.amount_yen
            if len(samples) < sample:
                samples.append(
                    PreviewSample(
                        household_size=sum(m.resident for m in household.members),
                        amount_yen=award.amount_yen,
                        ages=sorted(line.age for line in award.lines),
                    )
                )
    return PreviewRead(
        programme=code,
        period=period,
        base_date=base_date,
        households=len(households),
        residents=sum(m.resident for h in households for m in h.members),
        recipients=recipients,
        eligible_people=people,
        total_yen=total,
        tax_checked=not tax,
        sample=samples,
    )


# --- runs -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class AccountInfo:
    """How a notice names the receiving account."""

    ja: str
    en: str


_NO_ACCOUNT: Final = AccountInfo(
    "公金受取口座が登録されていません。マイナポータルで登録すると、次の振込でお支払いします。",
    "No public-funds receiving account is registered. Register one on the portal and the "
    "amount is paid in the next transfer.",
)


def _reason(award: Award, lang: str) -> str:
    return _reason_of(tuple(sorted(line.amount_yen for line in award.lines)), lang)


@functools.lru_cache(maxsize=4096)
def _reason_of(amounts: tuple[int, ...], lang: str) -> str:
    # A national run has a handful of distinct breakdowns: each is worded once.
    counts = Counter(amounts)
    parts = [
        f"{amount:,}円 × {n}人" if lang == "ja" else f"{amount:,} yen × {n}"
        for amount, n in sorted(counts.items(), reverse=True)
    ]
    return "、".join(parts) if lang == "ja" else ", ".join(parts)


def _run_read(session: Session, run: BenefitsRun, *, new: int = 0, added: int = 0) -> RunRead:
    rows = session.execute(
        select(
            BenefitsDetermination.status,
            func.count(),
            func.coalesce(func.sum(BenefitsDetermination.amount_yen), 0),
        )
        .where(BenefitsDetermination.run_id == run.id)
        .group_by(BenefitsDetermination.status)
    ).all()
    by_status = {str(status): int(n) for status, n, _total in rows}
    return RunRead(
        id=run.id,
        programme=run.programme_code,
        period=run.period,
        base_date=run.base_date,
        opt_out_until=run.opt_out_until,
        started_at=run.started_at,
        settled_at=run.settled_at,
        determinations=sum(by_status.values()),
        new_determinations=new,
        total_yen=sum(int(total) for status, _n, total in rows if status != "declined"),
        by_status=by_status,
        obligations_added=added,
    )


def run_row(session: Session, code: str, period: str) -> BenefitsRun | None:
    """The run of programme ``code`` for ``period``, if there is one."""
    return session.scalar(
        select(BenefitsRun)
        .where(BenefitsRun.programme_code == code)
        .where(BenefitsRun.period == period)
    )


def start_run(
    session: Session, programme: ProgrammeDefinition, base_date: date, *, actor: str
) -> BenefitsRun:
    period = _period(programme, base_date)
    run = run_row(session, programme.code, period)
    if run is not None:
        if run.base_date != base_date:
            raise RunConflict(period)
        return run
    now = clock.now()
    run = BenefitsRun(
        programme_code=programme.code,
        period=period,
        base_date=base_date,
        definition=programme.model_dump(mode="json"),
        opt_out_until=now + timedelta(days=programme.opt_out_days),
        started_by=actor,
        started_at=now,
    )
    session.add(run)
    session.flush()
    audit.record(
        session,
        tag=topics.AUDIT_RUN,
        actor=actor,
        subject=f"run:{run.id}",
        data={"programme": programme.code, "period": period, "base_date": str(base_date)},
    )
    return run


def _account_info(account: payments.AccountRead | None) -> AccountInfo:
    if account is None:
        return _NO_ACCOUNT
    # Only the last digits of the number: a notice is not the place for a whole account.
    masked = "*" * 3 + account.account_number[-4:]
    return AccountInfo(
        f"登録済みの公金受取口座（{account.bank_name} {account.branch_name} {masked}）",
        f"your registered public-funds account ({account.bank_name} {account.branch_name} "
        f"{masked})",
    )


def _write_determinations(
    session: Session,
    programme: ProgrammeDefinition,
    run: BenefitsRun,
    awards: list[Award],
    *,
    actor: str,
) -> int:
    """Record a determination and send an inbox notice for each award, in bulk: the rows by
    :func:`kiban.platform.bulk.insert_rows` (``COPY`` on PostgreSQL), the notices by
    :func:`notifications.do_send_notices` (one audit entry for the call), one
    ``benefits.determined`` event each."""
    if not awards:
        return 0
    accounts = payments.get_active_accounts(session, [a.recipient_id for a in awards])
    deadline = clock.to_jst(run.opt_out_until).date()
    rows, sends = [], []
    for award in awards:
        row_id, notice_id = uuid.uuid4(), uuid.uuid4()
        account = _account_info(accounts.get(award.recipient_id))
        rows.append(
            {
                "id": row_id,
                "run_id": run.id,
                "programme_code": programme.code,
                "period": run.period,
                "recipient_id": award.recipient_id,
                "household_id": award.household_id,
                "amount_yen": award.amount_yen,
                "lines": [
                    {
                        "person_id": str(line.person_id),
                        "age": line.age,
                        "amount_yen": line.amount_yen,
                        "reason": line.reason,
                    }
                    for line in award.lines
                ],
                "status": "notified",
                "opt_out_until": run.opt_out_until,
                "notice_id": notice_id,
            }
        )
        sends.append(
            notifications.NoticeToSend(
                person_id=award.recipient_id,
                template=notices.DETERMINED,
                params={
                    "programme_ja": programme.title_ja,
                    "programme_en": programme.title_en,
                    "legal_basis": programme.legal_basis,
                    "amount": f"{award.amount_yen:,}",
                    "reason_ja": _reason(award, "ja"),
                    "reason_en": _reason(award, "en"),
                    "account_ja": account.ja,
                    "account_en": account.en,
                    "deadline": deadline,
                },
                dedupe_key=f"benefits:{programme.code}:{run.period}:{award.recipient_id}",
                link=notices.PORTAL_LINK,
                notice_id=notice_id,
            )
        )
    sent = notifications.do_send_notices(session, sends, actor=actor)
    for row, send in zip(rows, sends, strict=True):
        row["notice_id"] = sent[send.dedupe_key]  # A notice sent before keeps its id.
    bulk.insert_rows(session, BenefitsDetermination, rows)
    events.emit_many(
        session,
        [
            (
                topics.DETERMINED,
                {
                    "determination_id": str(row["id"]),
                    "programme": programme.code,
                    "period": run.period,
                    "person_id": str(row["recipient_id"]),
                    "amount_yen": row["amount_yen"],
                },
                str(row["recipient_id"]),
            )
            for row in rows
        ],
    )
    return len(rows)


def record_award(
    session: Session,
    run: BenefitsRun,
    programme: ProgrammeDefinition,
    award: Award,
    *,
    actor: str,
) -> BenefitsDetermination:
    """Record one award of ``run`` as a determination, tell the recipient in the inbox (amount,
    reason, account, how to decline) and queue ``benefits.determined``: the run's bulk path for
    a single award (a birth's household)."""
    _write_determinations(session, programme, run, [award], actor=actor)
    return session.scalars(
        select(BenefitsDetermination)
        .where(BenefitsDetermination.run_id == run.id)
        .where(BenefitsDetermination.recipient_id == award.recipient_id)
    ).one()


def do_run_programme(
    session: Session,
    code: str,
    base_date: date,
    *,
    actor: str,
    progress: Progress | None = None,
) -> RunRead:
    """Run (or continue) ``code`` for ``base_date``: determine, notify, and settle once the
    opt-out window is over. The call that opens the run determines every household of the
    register (one streaming read) and so does any call while the window is open; a call after
    the window only settles the stored determinations. Idempotent: a second call never doubles
    a determination, a notice or an obligation. Errors: ``benefits.programme_not_found`` (404),
    ``benefits.not_a_payment_month`` (422), ``benefits.run_conflict`` (409),
    ``benefits.tax_unavailable`` (502)."""
    programme = get_programme(session, code).definition
    existed = run_row(session, programme.code, _period(programme, base_date)) is not None
    run = start_run(session, programme, base_date, actor=actor)
    programme = ProgrammeDefinition.model_validate(run.definition)
    tax = needs_tax(programme.eligible)
    if tax:
        register_benefits_member(session, actor=actor)
    if existed and clock.now() >= run.opt_out_until:
        # The window is over and the register was determined by the call that opened it:
        # settle from the stored determinations, without determining every household again.
        return _run_read(session, run, added=do_settle_run(session, run.id, actor=actor))
    known = set(
        session.scalars(
            select(BenefitsDetermination.recipient_id).where(BenefitsDetermination.run_id == run.id)
        )
    )
    new = 0
    pending: list[Award] = []
    for found in iter_households_on(session, base_date, progress=progress):
        household = _with_tax(session, programme, found, base_date, actor=actor) if tax else found
        for award in determine(programme, household, base_date):
            if award.recipient_id in known:
                continue
            known.add(award.recipient_id)
            pending.append(award)
        if len(pending) >= BULK:
            new += _write_determinations(session, programme, run, pending, actor=actor)
            pending = []
    new += _write_determinations(session, programme, run, pending, actor=actor)
    session.flush()
    added = do_settle_run(session, run.id, actor=actor)
    return _run_read(session, run, new=new, added=added)


def do_settle_run(session: Session, run_id: uuid.UUID, *, actor: str) -> int:
    """Once the run's opt-out window is over, hand the payments block an obligation for each
    determination not declined nor held by a correction; how many obligations were new.
    Before the window ends, nothing. The payments block pays those with an active account in
    the next batch; the others' obligations wait until they register one."""
    run = session.get(BenefitsRun, run_id)
    if run is None or clock.now() < run.opt_out_until:
        return 0
    programme = ProgrammeDefinition.model_validate(run.definition)
    now = clock.now()
    # One set-based UPDATE claims every open determination of the run and returns what the
    # obligations need: no row is read as an ORM object, and a determination declined by a
    # concurrent request is either claimed here first (its decline then finds the window
    # closed) or left alone. The obligation's own uniqueness (programme × person × period)
    # still guards against paying anyone twice.
    claimed = session.execute(
        update(BenefitsDetermination)
        .where(BenefitsDetermination.run_id == run.id)
        .where(BenefitsDetermination.status == "notified")
        .values(status="obligated", changed_at=now)
        .returning(
            BenefitsDetermination.id,
            BenefitsDetermination.recipient_id,
            BenefitsDetermination.amount_yen,
        )
        .execution_options(synchronize_session=False)
    ).all()
    for loaded in [
        o for o in session.identity_map.values() if isinstance(o, BenefitsDetermination)
    ]:
        if loaded.run_id == run.id:
            session.expire(loaded)  # The set-based update bypassed them.
    if not claimed:
        return 0
    claimed = sorted(claimed, key=lambda row: row.id)
    reason = f"{programme.title_ja} {run.period}"[:200]
    added = payments.do_add_obligations(
        session,
        [
            payments.ObligationCreate(
                programme=programme.code,
                period=run.period,
                person_id=row.recipient_id,
                amount=row.amount_yen,
                payer=programme.payer,
                reason=reason,
            )
            for row in claimed
        ],
        actor=actor,
    )
    events.emit_many(
        session,
        [
            (
                topics.OBLIGATED,
                {"determination_id": str(row.id), "programme": run.programme_code},
                str(row.recipient_id),
            )
            for row in claimed
        ],
    )
    if run.settled_at is None:
        run.settled_at = now
    session.flush()
    audit.record(
        session,
        tag=topics.AUDIT_SETTLED,
        actor=actor,
        subject=f"run:{run.id}",
        data={"obligated": len(claimed), "added": added},
    )
    return added


def do_settle_due(session: Session, *, actor: str) -> int:
    """Settle every run whose window is over (the clock-driven job); obligations handed over."""
    runs = session.scalars(
        select(BenefitsRun.id)
        .where(BenefitsRun.opt_out_until <= clock.now())
        .order_by(BenefitsRun.started_at)
    )
    return sum(do_settle_run(session, run_id, actor=actor) for run_id in list(runs))


def list_runs(session: Session, *, programme: str | None = None) -> list[RunRead]:
    """Runs, newest first."""
    query = select(BenefitsRun).order_by(BenefitsRun.started_at.desc())
    if programme is not None:
        query = query.where(BenefitsRun.programme_code == programme)
    return [_run_read(session, run) for run in session.scalars(query)]


def get_run(session: Session, programme: str, period: str) -> RunRead | None:
    """The run of ``programme`` for ``period``, if there is one."""
    run = run_row(session, programme, period)
    return None if run is None else _run_read(session, run)


# --- the recipient ----------------------------------------------------------------------------


def determination_read(row: BenefitsDetermination, definition: dict[str, Any]) -> DeterminationRead:
    programme = ProgrammeDefinition.model_validate(definition)
    return DeterminationRead(
        id=row.id,
        programme=row.programme_code,
        title_ja=programme.title_ja,
        title_en=programme.title_en,
        legal_basis=programme.legal_basis,
        period=row.period,
        amount_yen=row.amount_yen,
        status=row.status,
        opt_out_until=row.opt_out_until,
        open=row.status in OPEN and clock.now() < row.opt_out_until,
        correction=row.correction,
        recipient_id=row.recipient_id,
    )


def list_determinations_of(session: Session, person_id: uuid.UUID) -> list[DeterminationRead]:
    """The person's own determinations (as recipient), newest first."""
    rows = session.execute(
        select(BenefitsDetermination, BenefitsRun.definition)
        .join(BenefitsRun, BenefitsRun.id == BenefitsDetermination.run_id)
        .where(BenefitsDetermination.recipient_id == person_id)
        .order_by(BenefitsDetermination.determined_at.desc())
    ).all()
    return [determination_read(row, definition) for row, definition in rows]


def _own_open(
    session: Session, person_id: uuid.UUID, determination_id: uuid.UUID
) -> tuple[BenefitsDetermination, BenefitsRun]:
    row = session.get(BenefitsDetermination, determination_id)
    if row is None or row.recipient_id != person_id:
        raise DeterminationNotFound()
    run = session.get(BenefitsRun, row.run_id)
    assert run is not None  # noqa: S101 - a determination always has its run.
    if row.status not in OPEN or clock.now() >= row.opt_out_until:
        raise OptOutClosed()
    return row, run


def do_decline_determination(
    session: Session, person_id: uuid.UUID, determination_id: uuid.UUID, *, actor: str
) -> DeterminationRead:
    """The recipient declines during the window: nothing will be paid. 404
    ``benefits.determination_not_found``, 409 ``benefits.opt_out_closed``."""
    row, run = _own_open(session, person_id, determination_id)
    row.status = "declined"
    row.changed_at = clock.now()
    session.flush()
    programme = ProgrammeDefinition.model_validate(run.definition)
    audit.record(session, tag=topics.AUDIT_DECLINED, actor=actor, subject=f"determination:{row.id}")
    events.emit(session, topics.DECLINED, {"determination_id": str(row.id)}, key=str(person_id))
    notifications.do_send_notice(
        session,
        person_id,
        notices.DECLINED,
        {
            "programme_ja": programme.title_ja,
            "programme_en": programme.title_en,
            "amount": f"{row.amount_yen:,}",
        },
        actor=actor,
        link=notices.PORTAL_LINK,
        dedupe_key=f"benefits:declined:{row.id}",
    )
    return determination_read(row, run.definition)


def do_request_correction(
    session: Session,
    person_id: uuid.UUID,
    determination_id: uuid.UUID,
    text: str,
    *,
    actor: str,
) -> DeterminationRead:
    """The recipient says something is wrong: the payment is held until an official looks at
    it. Same errors as :func:`do_decline_determination`."""
    row, run = _own_open(session, person_id, determination_id)
    row.status = "correction_requested"
    row.correction = text
    row.changed_at = clock.now()
    session.flush()
    audit.record(
        session, tag=topics.AUDIT_CORRECTION, actor=actor, subject=f"determination:{row.id}"
    )
    events.emit(
        session,
        topics.CORRECTION_REQUESTED,
        {"determination_id": str(row.id)},
        key=str(person_id),
    )
    return determination_read(row, run.definition)


def do_resolve_correction(
    session: Session, determination_id: uuid.UUID, *, amount_yen: int, actor: str
) -> DeterminationRead:
    """An official resolves a recipient's correction with the right amount (0: nothing is
    owed, the determination is declined); the next settlement hands it to payments. 404
    ``benefits.determination_not_found``, 409 ``benefits.opt_out_closed`` when no correction
    is pending."""
    row = session.get(BenefitsDetermination, determination_id)
    if row is None:
        raise DeterminationNotFound()
    if row.status != "correction_requested":
        raise OptOutClosed()
    run = session.get(BenefitsRun, row.run_id)
    assert run is not None  # noqa: S101 - a determination always has its run.
    before = row.amount_yen
    row.amount_yen = amount_yen
    row.status = "notified" if amount_yen > 0 else "declined"
    row.changed_at = clock.now()
    session.flush()
    audit.record(
        session,
        tag=topics.AUDIT_RESOLVED,
        actor=actor,
        subject=f"determination:{row.id}",
        data={"before": before, "after": amount_yen},
    )
    return determination_read(row, run.definition)
