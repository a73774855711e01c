"""Reference agency systems that talk to kiban only through the mesh and the public APIs.

Six small systems of the synthetic country, each with its own tables keyed only by the agency
code the mesh gave it (機関別符号) — never kiban's person id, never the individual number:

=========== ======================== ==================== ==================================
name        who                      data service         items
=========== ======================== ==================== ==================================
pension     日本年金機構 (GOV)       ``pension-record``   pension records
tax         税務署 (GOV)             ``income``           income and deductions for a year
insurer     全国健康保険協会 (GOV)   ``eligibility``      health insurance eligibility
licence     運転免許 (GOV)           ``licence-status``   licence status, address on licence
bank        きばん銀行 (COM)         ``account``          the customer's account
electricity きばん電力 (COM)         ``contract``         the supply contract
=========== ======================== ==================== ==================================

Each consumes address changes (:func:`change_address`) and provides its data
(:func:`provide`); :func:`enrol` makes the synthetic record of a person the agency learns of.
:func:`kiban.agencies.wiring.register_reference_agencies` connects them to the mesh: members,
subsystems, services served in process, grants between them and to the register's basic-four
service, and the government agencies' subscriptions to moves (and the licence office's to
deaths). ``kiban seed`` registers them and enrols every resident through the mesh.
"""

from __future__ import annotations

from kiban.agencies.agency import (
    Agency,
    DataService,
    Enrolment,
    change_address,
    enrol,
    get_record,
    provide,
)
from kiban.agencies.errors import InvalidParameter, UnknownItems, UnknownPerson, UnknownService
from kiban.agencies.registry import AGENCIES, get_agency

__all__ = [
    "AGENCIES",
    "Agency",
    "DataService",
    "Enrolment",
    "InvalidParameter",
    "UnknownItems",
    "UnknownPerson",
    "UnknownService",
    "change_address",
    "enrol",
    "get_agency",
    "get_record",
    "provide",
]
