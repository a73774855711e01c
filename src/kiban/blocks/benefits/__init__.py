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

:func:`do_determine_household` determines one household for a programme's period when
something happens to it (a birth pushes the child allowance), sharing the push run's
determinations (:func:`ensure_programme` defines a shipped programme on first use). The
child-support registry (:data:`SUPPORT_REGISTRY`, :func:`do_offer_support`) holds the
municipality's programmes for a newborn as data and offers the matching ones to the parent.
:func:`do_stop_for_death` (on the register's ``resident.died``) stops the deceased's benefits
from the next period and holds what was owed to them, with the payments block.

Error codes: ``benefits.programme_not_found`` (404), ``benefits.invalid_programme`` (422),
``benefits.not_a_payment_month`` (422), ``benefits.run_conflict`` (409),
``benefits.determination_not_found`` (404), ``benefits.opt_out_closed`` (409),
``benefits.tax_unavailable`` (502).
"""

from __future__ import annotations

from kiban.blocks.benefits.deaths import Stopped, do_stop_for_death, hold_reason
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
from kiban.blocks.benefits.household import do_determine_household, ensure_programme
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
    next_base_date,
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
from kiban.blocks.benefits.support import REGISTRY as SUPPORT_REGISTRY
from kiban.blocks.benefits.support import SupportProgramme, do_offer_support

__all__ = [
    "PAYER",
    "SHIPPED",
    "SUBSYSTEM",
    "SUPPORT_REGISTRY",
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
    "Stopped",
    "SupportProgramme",
    "TaxOfficeUnavailable",
    "age_on",
    "determine",
    "do_decline_determination",
    "do_define_programme",
    "do_determine_household",
    "do_offer_support",
    "do_request_correction",
    "do_resolve_correction",
    "do_run_programme",
    "do_settle_due",
    "do_settle_run",
    "do_stop_for_death",
    "ensure_programme",
    "evaluate",
    "get_programme",
    "get_run",
    "hold_reason",
    "households_on",
    "list_determinations_of",
    "list_programmes",
    "list_runs",
    "needs_tax",
    "next_base_date",
    "parse_programme",
    "period_of",
    "preview_programme",
    "register_benefits_member",
]
