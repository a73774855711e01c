"""Tables of the resident register. Private to the block: use the facade.

``residents_persons`` holds each person's current record; ``residents_record_versions`` keeps
every version of it, append-only, so that a past record (除票, 改製原住民票) stays readable
after a move, a death or a name change. ``residents_households`` groups people who live
together under a head of household (世帯主).
"""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import Enum, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from kiban.platform.db import Base, IdMixin, TimestampMixin


class Sex(enum.StrEnum):
    """Sex as the register records it (codes of the JPKI basic four: 1 male, 2 female)."""

    MALE = "male"
    FEMALE = "female"


class Status(enum.StrEnum):
    """Where a person stands in this register."""

    RESIDENT = "resident"
    MOVED_OUT = "moved_out"
    DECEASED = "deceased"


class ChangeReason(enum.StrEnum):
    """Why a new version of a person's record was written."""

    REGISTERED = "registered"
    BIRTH = "birth"
    MOVE_IN = "move_in"
    MOVE_OUT = "move_out"
    MOVE_WITHIN = "move_within"
    DEATH = "death"
    NAME_CHANGE = "name_change"
    HEAD_CHANGE = "head_change"


def _enum(cls: type[enum.StrEnum], length: int = 16) -> Enum:
    return Enum(
        cls, values_callable=lambda e: [m.value for m in e], native_enum=False, length=length
    )


class Household(IdMixin, TimestampMixin, Base):
    """A household (世帯) in one municipality."""

    __tablename__ = "residents_households"

    lg_code: Mapped[str] = mapped_column(String(6), index=True)
    head_person_id: Mapped[uuid.UUID | None]


class Person(IdMixin, TimestampMixin, Base):
    """A person's current resident record (住民票)."""

    __tablename__ = "residents_persons"
    __table_args__ = (
        UniqueConstraint("individual_number"),
        Index("ix_residents_persons_lg_code_status", "lg_code", "status"),
    )

    # The 12-digit individual number: assigned once, never reused, never leaves this block
    # except through the numbering function.
    individual_number: Mapped[str] = mapped_column(String(12))
    family_name: Mapped[str] = mapped_column(String(64))
    given_name: Mapped[str] = mapped_column(String(64))
    family_name_kana: Mapped[str] = mapped_column(String(128))
    given_name_kana: Mapped[str] = mapped_column(String(128))
    birth_date: Mapped[date]
    sex: Mapped[Sex] = mapped_column(_enum(Sex))
    status: Mapped[Status] = mapped_column(_enum(Status))
    lg_code: Mapped[str] = mapped_column(String(6))
    town_id: Mapped[uuid.UUID]
    chome: Mapped[int | None]
    block_number: Mapped[str] = mapped_column(String(32))
    building: Mapped[str | None] = mapped_column(String(128))
    household_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("residents_households.id"), index=True
    )
    relationship: Mapped[str] = mapped_column(String(16))
    resident_since: Mapped[date]
    moved_out_on: Mapped[date | None]
    moved_out_to: Mapped[str | None] = mapped_column(String(256))
    died_on: Mapped[date | None]
    version: Mapped[int] = mapped_column(default=1)


class RecordVersion(IdMixin, Base):
    """One version of a person's record, never changed once written."""

    __tablename__ = "residents_record_versions"
    __table_args__ = (UniqueConstraint("person_id", "version"),)

    person_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("residents_persons.id"))
    version: Mapped[int]
    reason: Mapped[ChangeReason] = mapped_column(_enum(ChangeReason))
    effective_on: Mapped[date]
    recorded_at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(128))
    # The basic four, address, household and status as they stood in this version. The
    # individual number is deliberately not copied here: it never changes and stays in one place.
    record: Mapped[dict[str, Any]]


class ReadPurpose(enum.StrEnum):
    """Why an official or operator read a person's record (the 事務 it was read for)."""

    # Keeping the register: listing, opening and checking records (住民基本台帳事務).
    REGISTER_ADMINISTRATION = "register_administration"
    # Issuing a certificate of residence (住民票の写しの交付).
    CERTIFICATE = "certificate"
    # Processing an application at the office (申請の審査).
    PROCEDURE = "procedure"
    # Operating the system from the terminal (the operator at ``kiban residents``).
    OPERATION = "operation"
    # Managing an office's staff: finding the person who becomes an official, or whose record
    # an emergency access is granted over (職員の管理).
    STAFF_ADMINISTRATION = "staff_administration"
    # Keeping a national qualifications register: finding and showing its holders
    # (国家資格の登録事務).
    QUALIFICATIONS = "qualifications"
    # Paying public funds: the payees of a payment batch, their accounts and the bank's
    # answers (公金の支払事務).
    PAYMENT = "payment"


class ReadRecord(IdMixin, Base):
    """One read of one person's register data by an official or an operator (閲覧記録).

    Append-only. One access (a listing of fifty people, one certificate of a household) writes
    one row per person shown, all sharing ``read_id``. The reader is stored as the audit
    log's actor name and, where known, as separate fields (account id, organisation, role),
    so that a person's view and an office's review can both be answered by an index.
    """

    __tablename__ = "residents_read_records"
    __table_args__ = (Index("ix_residents_read_records_person_id_read_at", "person_id", "read_at"),)

    person_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("residents_persons.id"))
    read_at: Mapped[datetime]
    read_id: Mapped[uuid.UUID]
    actor: Mapped[str] = mapped_column(String(128))
    actor_id: Mapped[str | None] = mapped_column(String(64))
    organisation: Mapped[str | None] = mapped_column(String(64))
    role: Mapped[str | None] = mapped_column(String(64))
    purpose: Mapped[ReadPurpose] = mapped_column(_enum(ReadPurpose, length=32))
    route: Mapped[str] = mapped_column(String(160))
    # The data items shown (``name``, ``address``, ``individual_number``, ...), never values.
    items: Mapped[list[Any]]
