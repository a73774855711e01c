"""A death (死亡): the 死亡届 from the physician's data, the fan-out, おくやみ and the heirs.

The death notice as a procedure (:mod:`.definitions`): a member of the deceased's household
files it on the portal, prefilled through the mesh from the register and from the physician's
death certificate (``kiban.agencies.physician``), signs it with the card, and the deceased's
municipality accepts it — the register marks the death. The register's ``resident.died`` fans
out by subscription: identity revokes both certificates, the pension service stops the pension,
the insurer ends coverage, the licence office revokes the licence (``kiban.agencies``), and the
spouse is offered the survivor's pension claim (:mod:`.subscribers`). The bereaved see every
procedure that applies, with deadlines (:mod:`.okuyami`), and the legal heirs computed from the
family the register knows, which the office completes (:mod:`.heirs`).

Error codes: ``death.not_family`` (403, field ``deceased``: the filer is not another member of
the deceased's household), ``death.not_certified`` (409, ``deceased``: no physician's
certificate of the death), ``death.not_accepted`` (409: the death notice is not accepted yet).
"""

from __future__ import annotations

from kiban.life_events.death import heirs, notices, okuyami
from kiban.life_events.death.definitions import (
    CAPACITIES,
    DEATH,
    NOTICE_DAYS,
    PHYSICIAN_SERVICE,
    correct_family,
    deceased_of,
    died_on,
    may_file,
    register,
    start_death_notice,
)
from kiban.life_events.death.errors import NotCertified, NotDeceased, NotFamily

__all__ = [
    "CAPACITIES",
    "DEATH",
    "NOTICE_DAYS",
    "PHYSICIAN_SERVICE",
    "NotCertified",
    "NotDeceased",
    "NotFamily",
    "correct_family",
    "deceased_of",
    "died_on",
    "heirs",
    "may_file",
    "notices",
    "okuyami",
    "register",
    "start_death_notice",
]

register()
