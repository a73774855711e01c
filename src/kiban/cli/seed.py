"""``kiban seed``: build the synthetic country in the configured database."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from sqlalchemy.orm import Session

from kiban.agencies import wiring as agencies_wiring
from kiban.agencies.registry import AGENCIES
from kiban.blocks import benefits, corporations, payments, qualifications, residents, staff
from kiban.cardreader.store import CardStore
from kiban.cli import staff as staff_cli
from kiban.cli.card import issue_into
from kiban.cli.failures import progress_bar
from kiban.cli.output import fail_error
from kiban.cli.residents import terminal_reader
from kiban.kernel import clock
from kiban.kernel.errors import KibanError
from kiban.platform.authority import Resource
from kiban.platform.db import get_engine, transaction
from kiban.platform.settings import get_settings

# Corporations per size, each represented by an adult resident of the synthetic country, so
# that their cards can prove it when they apply for a business account.
CORPORATIONS = {"tiny": 5, "demo": 40, "large": 1_000}
# Representatives are drawn from residents born before this day (adults on the seed's
# reference day, 2026-04-01), among the first few thousand in the register's order.
ADULT_BORN_BEFORE = date(2006, 4, 1)
REPRESENTATIVE_POOL = 5_000
# Demo cards, in the reader's directory with published PINs, so anyone can sign in after
# `make run`. They go to the first adults in the register's order.
DEMO_CARDS = {"tiny": 2, "demo": 3, "large": 3}
DEMO_AUTH_PIN = "1234"
DEMO_SIGNING_PIN = "KIBAN2026"
# Sizes at which the government agencies enrol every resident through the mesh, in batch
# exchanges with bulk writes (docs/adr/0034, docs/adr/0039).
AGENCY_ENROLMENT_SIZES = ("tiny", "demo", "large")
# Sizes at which the companies enrol their customers from the customers' own forms, some of them
# consent to address updates, the bank's customers register receiving accounts and the flat
# payment is pushed: these go one person at a time, so the large country leaves them out.
CUSTOMER_SIZES = ("tiny", "demo")
# Sizes whose municipalities each get an official holding a demo card, and kiban an
# administrator (docs/adr/0014-staff-and-authority.md).
DEMO_OFFICIAL_SIZES = ("demo",)
# Demo qualification holders: the first demo card holders, as 看護師 (registered by 厚生労働省,
# the licence the hospital verifier checks) and 保育士 (registered by their prefecture).
DEMO_QUALIFICATIONS = (
    ("nurse", "0512345", date(2012, 4, 1)),
    ("childcare", "0004567", date(2015, 4, 1)),
)
# The programme the seed pushes to payments (the three shipped programmes are all defined).
FLAT_PAYMENT = "flat-payment"
SEED_MAKER = "system:seed"  # The maker of the demo's payment batch (maker-checker).
PROGRESS_LINE_EVERY = 100_000  # Residents between the register phase's progress lines.


def _adults(session: Session) -> list[residents.PersonRead]:
    people = residents.list_people(session, limit=REPRESENTATIVE_POOL)
    return [person for person in people if person.birth_date < ADULT_BORN_BEFORE]


def _money(session: Session, everyone: list[residents.PersonRead], *, seed: int) -> str:
    """Load the Zengin bank and branch list; most of ``everyone`` (the share the national run
    assumes, :data:`kiban.agencies.wiring.DEMO_ACCOUNT_SHARE`) register a bank account as their
    public-fund receiving account, verified by the bank through the mesh."""
    banks = payments.do_load_banks(session, actor="system:seed")
    holders = [
        agencies_wiring.AccountHolder(
            p.id, f"{p.family_name_kana} {p.given_name_kana}", p.address.text
        )
        for p in everyone
    ]
    accounts = agencies_wiring.register_demo_accounts(session, holders, seed=seed)
    return (
        f"loaded {banks.banks:,} banks and {banks.branches:,} branches (Zengin list "
        f"{banks.version}); {accounts:,} receiving accounts registered"
    )


def _benefits(session: Session, *, push: bool) -> str:
    """Define the three shipped programmes; with ``push``, push the flat payment as if it had
    been run when its opt-out window opened (the demo's history starts a window ago), so that
    its obligations are with payments now."""
    for shipped in benefits.SHIPPED:
        benefits.do_define_programme(session, shipped, actor="system:seed")
    if not push:
        return ""
    programme = benefits.get_programme(session, FLAT_PAYMENT).definition
    ago = timedelta(days=programme.opt_out_days + 1)
    base_date = clock.today_jst() - ago
    with clock.travel(-ago):
        benefits.do_run_programme(session, FLAT_PAYMENT, base_date, actor="system:seed")
    run = benefits.do_run_programme(session, FLAT_PAYMENT, base_date, actor="system:seed")
    return (
        f"\npushed {FLAT_PAYMENT} for {base_date}: {run.determinations:,} households, "
        f"{run.total_yen:,} yen, {run.obligations_added:,} obligations for payments"
    )


def _approved_batch(session: Session, *, ready: bool) -> str:
    """Build the flat payment's batch (the seed's job is its maker) and have the demo's two
    payment officials approve it, each asked of the policy with the maker and the earlier
    approver excluded, so that a new user finds one approved batch ready to export."""
    if not ready:
        return ""
    approvers = staff_cli.demo_payment_approvers(session)
    try:
        batch = payments.do_build_batch(
            session, programme=FLAT_PAYMENT, payer=benefits.PAYER, actor=SEED_MAKER
        )
    except payments.NothingToPay:
        return ""
    for principal in approvers[: payments.APPROVALS_NEEDED]:
        staff.bind_principal(session, principal, "cli:kiban seed")
        staff.authorize(
            session,
            principal,
            "payments.batch.approve",
            organisation=benefits.PAYER,
            resource=Resource(excluded_actors=(batch.maker, *batch.approvers)),
        )
        batch = payments.do_approve_batch(session, batch.number, actor=principal.actor)
    return (
        f"\npayment batch {batch.number} of {FLAT_PAYMENT}: {batch.line_count:,} lines, "
        f"{batch.total:,} yen, {batch.status} by {len(batch.approvers)} officials "
        f"(export it at /office/payments/{benefits.PAYER}/batches/{batch.number})"
    )


def _representatives(adults: list[residents.PersonRead]) -> list[corporations.RepresentativeInput]:
    return [
        corporations.RepresentativeInput(
            name=person.full_name,
            name_kana=f"{person.family_name_kana}\u3000{person.given_name_kana}",
            address=corporations.AddressInput(
                town_id=person.address.town_id,
                chome=person.address.chome,
                block_number=person.address.block_number,
                building=person.address.building,
            ),
        )
        for person in adults
    ]


def _register_progress(bar: Progress, task: TaskID, started: float) -> Callable[[int, int], None]:
    """The register phase's progress: the bar, and a line every ``PROGRESS_LINE_EVERY``
    residents with the rate, for logs and terminals where the bar is not drawn."""
    logged = [0]

    def advance(done: int, total: int) -> None:
        elapsed = time.perf_counter() - started
        bar.update(task, completed=done, total=total, rate=f"{done / elapsed:,.0f}/s")
        if done // PROGRESS_LINE_EVERY > logged[0] // PROGRESS_LINE_EVERY:
            bar.console.print(
                f"registered {done:,} of {total:,} residents in {elapsed:,.1f} s "
                f"({done / elapsed:,.0f} residents/s)"
            )
        logged[0] = done

    return advance


def seed(
    size: str = typer.Option("demo", help=f"One of: {', '.join(residents.SIZES)}."),
    seed: int = typer.Option(2026, help="Random seed: the same seed gives the same country."),
    if_empty: bool = typer.Option(
        False, "--if-empty", help="Do nothing (and succeed) when the register already has people."
    ),
) -> None:
    """Fill the empty resident register with a synthetic country (real towns, Faker names)."""
    console = Console(stderr=True)
    engine = get_engine()
    if if_empty:
        with transaction(engine) as session:
            existing = residents.get_country_summary(session)
        if existing.residents or existing.moved_out or existing.deceased:
            console.print(f"register already holds {existing.residents:,} residents; not seeding")
            return

    started = time.perf_counter()
    with progress_bar(
        TextColumn("[bold]seeding {task.fields[size]}"),
        BarColumn(),
        MofNCompleteColumn(),
        TaskProgressColumn(),
        TextColumn("{task.fields[rate]}"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=console,
    ) as bar:
        task = bar.add_task("seed", total=None, size=size, rate="")
        timing = ""

        advance = _register_progress(bar, task, started)

        try:
            with transaction(engine) as session:
                summary = residents.seed_population(session, size=size, seed=seed, progress=advance)
                registered = time.perf_counter()
                adults = _adults(session)
                companies = corporations.seed_corporations(
                    session,
                    count=CORPORATIONS.get(size, 0),
                    seed=seed,
                    representatives=_representatives(adults),
                )
                store = CardStore(get_settings().data_dir / "cards")
                cards = [
                    (
                        person,
                        issue_into(
                            session,
                            store,
                            person.id,
                            auth_pin=DEMO_AUTH_PIN,
                            signing_pin=DEMO_SIGNING_PIN,
                        ),
                    )
                    for person in adults[: DEMO_CARDS.get(size, 0)]
                ]
                # The card holders' names and addresses are printed below: a read by the
                # operator at this terminal, recorded like any other.
                residents.do_record_reads(
                    session,
                    terminal_reader(),
                    [person.id for person, _ in cards],
                    items=("name", "address"),
                    purpose=residents.ReadPurpose.OPERATION,
                    route="cli: kiban seed",
                )
                agencies_wiring.register_reference_agencies(session)
                officials = _demo_officials(session, size, cards, adults, store)
                licensed = _demo_holders(session, [person for person, _ in cards])
                enrolled: dict[str, int] = {}
                consents: dict[str, int] = {}
                everyone: list[residents.PersonRead] = []
                if size in AGENCY_ENROLMENT_SIZES:
                    enrolled, timing = _enrol(session, bar, summary.residents, seed=seed)
                if size in CUSTOMER_SIZES:
                    everyone = residents.list_people(session, limit=summary.residents)
                    enrolled |= agencies_wiring.enrol_customers(
                        session,
                        [
                            agencies_wiring.Customer(p.id, p.birth_date, p.address.text)
                            for p in everyone
                        ],
                        seed=seed,
                    )
                    # Some customers consent that the bank and the electricity company be told
                    # of their moves (the demo card holders among them), so a move shows a
                    # company receiving the new address under consent and another not.
                    consents = agencies_wiring.consent_demo_customers(
                        session,
                        [p.id for p in everyone],
                        seed=seed,
                        always=[person.id for person, _ in cards],
                    )
                money = (
                    _money(session, everyone, seed=seed)
                    + _benefits(session, push=bool(everyone))
                    + _approved_batch(session, ready=bool(officials and everyone))
                )
                committing = time.perf_counter()
        except KibanError as error:
            fail_error(error)
    elapsed = time.perf_counter() - started
    timing += f"; commit {time.perf_counter() - committing:,.1f} s"
    console.print(
        f"seeded {summary.residents:,} residents in {summary.households:,} households across "
        f"{summary.municipalities:,} municipalities in {elapsed:,.1f} s "
        f"({summary.residents / elapsed:,.0f} residents/s, size={size}, seed={seed})"
    )
    console.print(
        f"registered {len(companies):,} corporations with resident representatives\n{money}"
    )
    if enrolled:
        console.print(
            "reference agencies enrolled through the mesh: "
            + ", ".join(f"{name} {count:,}" for name, count in enrolled.items())
        )
    console.print(f"phases: register {registered - started:,.1f} s{timing}")
    if consents:
        console.print(
            "customers' consents to address updates: "
            + ", ".join(f"{name} {count:,}" for name, count in consents.items())
        )
    _print_cards(console, cards, officials, licensed)


def _enrol(session: Session, bar: Any, total: int, *, seed: int) -> tuple[dict[str, int], str]:
    """Enrol every resident with the government agencies through the mesh, with a progress
    bar; how many each agency enrolled, and the phase's time for the summary."""
    person_ids = residents.list_person_ids(session)
    started, cpu = time.perf_counter(), time.process_time()
    task = bar.add_task("enrol", total=len(person_ids), size="agency enrolment", rate="")

    def enrolling(done: int, total: int) -> None:
        rate = done / max(time.perf_counter() - started, 1e-9)
        bar.update(task, completed=done, total=total, rate=f"{rate:,.0f}/s")

    enrolled = agencies_wiring.enrol_through_mesh(
        session, person_ids, seed=seed, progress=enrolling
    )
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu
    return enrolled, (
        f"; agency enrolment of {len(person_ids):,} residents {wall:,.1f} s "
        f"({len(person_ids) / max(wall, 1e-9):,.0f} residents/s; {cpu:,.1f} s CPU of this process)"
    )


def _demo_officials(
    session: Session,
    size: str,
    cards: list[tuple[residents.PersonRead, Any]],
    adults: list[residents.PersonRead],
    store: CardStore,
) -> list[tuple[residents.PersonRead, Any, str]]:
    """At the sizes that have them, every municipality's demo official, kiban's first
    administrator and 厚生労働省's registry official, each with a demo card."""
    if size not in DEMO_OFFICIAL_SIZES:
        return []
    holders = {person.id for person, _ in cards}

    def give_card(person: residents.PersonRead) -> Any:
        return issue_into(
            session, store, person.id, auth_pin=DEMO_AUTH_PIN, signing_pin=DEMO_SIGNING_PIN
        )

    officials = staff_cli.seed_demo_officials(
        session,
        [p for p in adults if p.id not in holders],
        give_card,
        agencies=[
            *((f"agency:{a.name}", a.title, a.name) for a in AGENCIES.values()),
            *qualifications.AUTHORITIES,
        ],
    )
    taken = holders | {o[0].id for o in officials}
    return officials + _registry_official(
        session, [p for p in adults if p.id not in taken], give_card
    )


def _registry_official(
    session: Session, people: list[residents.PersonRead], issue: Any
) -> list[tuple[residents.PersonRead, Any, str]]:
    """An official of 厚生労働省 with the qualifications registry's role and a demo card, who
    registers, suspends and revokes licences (the wallet's demo revokes the nurse's)."""
    if not people:
        return []
    person = people[0]
    account = staff.do_create_official(
        session, person_id=person.id, name=person.full_name, actor="system:seed"
    )
    authority = qualifications.AUTHORITIES[0][0]
    staff.do_grant(
        session, account.id, organisation=authority, role="qualifications", actor="system:seed"
    )
    return [(person, issue(person), f"{authority} qualifications")]


def _demo_holders(session: Session, people: list[residents.PersonRead]) -> list[str]:
    """Register the first demo card holders' qualifications; lines for the summary."""
    lines = []
    for person, (code, number, registered_on) in zip(people, DEMO_QUALIFICATIONS, strict=False):
        kind = qualifications.get_type(code)
        authority = (
            staff.prefecture_code(person.address.lg_code[:2])
            if kind.authority == qualifications.PREFECTURE
            else kind.authority
        )
        made = qualifications.register_as_system(
            session,
            qualification=code,
            person_id=person.id,
            registration_number=number,
            registered_on=registered_on,
            authority=authority,
            actor="system:seed",
        )
        lines.append(
            f"{kind.name_ja} ({code}) No. {number}  {person.full_name}  person {person.id}  "
            f"registration {made.id}  credential type qualification-{code}"
        )
    return lines


def _print_cards(
    console: Console,
    cards: list[tuple[residents.PersonRead, Any]],
    officials: list[tuple[residents.PersonRead, Any, str]],
    licensed: list[str],
) -> None:
    console.print(
        f"demo cards in the card reader (auth PIN {DEMO_AUTH_PIN}, signing PIN {DEMO_SIGNING_PIN}):"
    )
    for person, card in cards:
        console.print(f"  {card.card_number}  {person.full_name}  {person.address.text}")
    if officials:
        console.print(
            "officials' demo cards (same PINs; sign in at /office, then choose the office "
            "and role):"
        )
        for person, card, where in officials:
            console.print(f"  {card.card_number}  {person.full_name}  {where}")
    if licensed:
        console.print("demo qualification holders (their licences can be issued to the wallet):")
        for line in licensed:
            console.print(f"  {line}", soft_wrap=True)
