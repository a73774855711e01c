"""Benefits (給付): programmes as data and push-type runs. The facade other packages use.

A programme is a :class:`ProgrammeDefinition` — plain data validated by pydantic: legal basis,
payer, base date, an eligibility rule tree over register and tax-office facts, the amount (per
person, per household, per child by age band and rank), the recipient, the opt-out window and
payment months (:mod:`kiban.blocks.benefits.rules`, evaluated by the pure engine
:func:`determine`). Three are shipped (:data:`SHIPPED`).

:func:`do_run_programme` pushes a programme for a base date: one determination per recipient
(never two for a programme × period × recipient), a notice in each recipient's inbox, and —
once the opt-out window is over — obligations handed to the payments block for those who did
not decline and have a receiving account. Recipients decline or ask for a correction with
:func:`do_decline_determination` / :func:`do_request_correction` during the window.

Error codes: ``benefits.programme_not_found`` (404), ``benefits.invalid_programme`` (422),
``benefits.not_a_payment_month`` (422), ``benefits.run_conflict`` (409),
``benefits.determination_not_found`` (404), ``benefits.opt_out_closed`` (409),
``benefits.tax_unavailable`` (502).
"""

from __future__ import annotations

from kiban.blocks.benefits.definitions import PAYER, SHIPPED
from kiban.blocks.benefits.errors import (
    DeterminationNotFound,
    InvalidProgramme,
    NotAPaymentMonth,
    OptOutClosed,
    ProgrammeNotFound,
    RunConflict,
    TaxOfficeUnavailable,
)
from kiban.blocks.benefits.rules import (
    Award,
    AwardLine,
    HouseholdFacts,
    MemberFacts,
    ProgrammeDefinition,
    Rule,
    age_on,
    determine,
    evaluate,
    needs_tax,
    period_of,
)
from kiban.blocks.benefits.schemas import (
    CorrectionCreate,
    DeterminationRead,
    PreviewRead,
    PreviewRequest,
    PreviewSample,
    ProgrammeRead,
    RunRead,
    RunRequest,
)
from kiban.blocks.benefits.service import (
    SUBSYSTEM,
    TAX_SERVICE,
    do_decline_determination,
    do_define_programme,
    do_request_correction,
    do_resolve_correction,
    do_run_programme,
    do_settle_due,
    do_settle_run,
    get_programme,
    get_run,
    households_on,
    list_determinations_of,
    list_programmes,
    list_runs,
    parse_programme,
    preview_programme,
    register_benefits_member,
)

__all__ = [
    "PAYER",
    "SHIPPED",
    "SUBSYSTEM",
    "TAX_SERVICE",
    "Award",
    "AwardLine",
    "CorrectionCreate",
    "DeterminationNotFound",
    "DeterminationRead",
    "HouseholdFacts",
    "InvalidProgramme",
    "MemberFacts",
    "NotAPaymentMonth",
    "OptOutClosed",
    "PreviewRead",
    "PreviewRequest",
    "PreviewSample",
    "ProgrammeDefinition",
    "ProgrammeNotFound",
    "ProgrammeRead",
    "Rule",
    "RunConflict",
    "RunRead",
    "RunRequest",
    "TaxOfficeUnavailable",
    "age_on",
    "determine",
    "do_decline_determination",
    "do_define_programme",
    "do_request_correction",
    "do_resolve_correction",
    "do_run_programme",
    "do_settle_due",
    "do_settle_run",
    "evaluate",
    "get_programme",
    "get_run",
    "households_on",
    "list_determinations_of",
    "list_programmes",
    "list_runs",
    "needs_tax",
    "parse_programme",
    "period_of",
    "preview_programme",
    "register_benefits_member",
]
