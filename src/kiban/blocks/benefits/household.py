"""One household at a time: a programme determined for a family when something happens to it
(a birth), instead of waiting for the next push run over the whole register.

:func:`do_determine_household` shares the run of the programme's period with the push run — the
same run row, the same definition, the same base date — and the same determination (unique per
programme × period × recipient), so a later push run of that period finds the family already
determined and never doubles it, and a second call returns what the first made.
"""

from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from kiban.blocks import residents
from kiban.blocks.benefits.definitions import SHIPPED
from kiban.blocks.benefits.errors import ProgrammeNotFound
from kiban.blocks.benefits.models import BenefitsDetermination, BenefitsRun
from kiban.blocks.benefits.rules import (
    HouseholdFacts,
    ProgrammeDefinition,
    determine,
    needs_tax,
)
from kiban.blocks.benefits.schemas import DeterminationRead, ProgrammeRead
from kiban.blocks.benefits.service import (
    _period,
    _with_tax,
    determination_read,
    do_define_programme,
    get_programme,
    member_facts,
    record_award,
    register_benefits_member,
    run_row,
    start_run,
)


def ensure_programme(
    session: Session, code: str, *, actor: str, definition: ProgrammeDefinition | None = None
) -> ProgrammeRead:
    """The programme ``code`` as defined; if it is not yet, ``definition`` (or the shipped
    programme of that code) is defined now. ``benefits.programme_not_found`` otherwise."""
    try:
        return get_programme(session, code)
    except ProgrammeNotFound:
        chosen = definition or next((p for p in SHIPPED if p.code == code), None)
        if chosen is None or chosen.code != code:
            raise
        return do_define_programme(session, chosen, actor=actor)


def _run_for(
    session: Session, programme: ProgrammeDefinition, base_date: date, *, actor: str
) -> BenefitsRun:
    run = run_row(session, programme.code, _period(programme, base_date))
    return run or start_run(session, programme, base_date, actor=actor)


def do_determine_household(
    session: Session,
    code: str,
    household_id: uuid.UUID,
    *,
    base_date: date,
    actor: str,
) -> list[DeterminationRead]:
    """Determine programme ``code`` for one household for the period of ``base_date``: each
    recipient the engine awards gets a determination and the inbox notice (amount, reason,
    account, how to decline), unless they already have one for that programme × period, which
    is returned instead. The period's run is shared with the push run (its base date rules
    when it exists). An empty list: nobody in the household is eligible. Errors:
    ``benefits.programme_not_found`` (404), ``benefits.not_a_payment_month`` (422),
    ``benefits.tax_unavailable`` (502)."""
    programme = get_programme(session, code).definition
    run = _run_for(session, programme, base_date, actor=actor)
    programme = ProgrammeDefinition.model_validate(run.definition)
    on = run.base_date
    facts = HouseholdFacts(
        household_id,
        tuple(member_facts(p, on) for p in residents.get_household(session, household_id)),
    )
    if not any(m.resident for m in facts.members):
        return []
    if needs_tax(programme.eligible):
        register_benefits_member(session, actor=actor)
        facts = _with_tax(session, programme, facts, on, actor=actor)
    out: list[DeterminationRead] = []
    for award in determine(programme, facts, on):
        row = session.scalar(
            select(BenefitsDetermination)
            .where(BenefitsDetermination.programme_code == programme.code)
            .where(BenefitsDetermination.period == run.period)
            .where(BenefitsDetermination.recipient_id == award.recipient_id)
        )
        if row is None:
            row = record_award(session, run, programme, award, actor=actor)
        out.append(determination_read(row, run.definition))
    return out
