"""A move dated in the future: the 転出届 is filed and accepted before the move; the visit
slots start on the moving date, on the new office's opening days; the new office can neither
take up nor complete the move-in before that date (saying from when), and completes it on the
day with the date the resident states. The clock is moved by the test, not the real date."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine

from kiban.blocks import notifications, procedures, residents
from kiban.kernel import clock
from kiban.kernel.errors import KibanError
from kiban.life_events import moving
from kiban.life_events.moving import opening
from kiban.platform import events, i18n
from kiban.platform.db import transaction

from .journey import (
    NEW_ADDRESS,
    NEW_LG,
    OLD_LG,
    act_as_official,
    build_family,
    official,
    sign_and_submit,
)

AHEAD = timedelta(days=7)


def test_office_opening_days_skip_weekends_holidays_and_the_year_end() -> None:
    assert opening.is_open(date(2026, 12, 7))  # A Monday.
    assert not opening.is_open(date(2026, 12, 5))  # A Saturday.
    assert not opening.is_open(date(2027, 1, 11))  # 成人の日, a Monday.
    assert not opening.is_open(date(2026, 12, 29))  # The year-end closure, a Tuesday.
    assert opening.is_open(date(2027, 1, 4)) is not False  # Offices open again on 4 January.


def test_slots_start_on_the_moving_date_on_opening_days() -> None:
    today = date(2026, 12, 21)  # A Monday.
    moved_on = date(2026, 12, 28)
    slots = moving.offered_slots(moved_on, today=today)
    days = sorted({slot.date() for slot in slots})
    assert days[0] == moved_on
    assert all(opening.is_open(day) for day in days)
    assert date(2027, 1, 4) in days  # After the closure of 29 December to 3 January.


def test_a_move_dated_a_week_ahead_is_completed_on_the_day(engine: Engine, tmp_path: Path) -> None:
    events.load_subscribers()
    with transaction(engine) as session:
        family = build_family(session, tmp_path / "cards")
    applicant = family.applicant
    actor = procedures.actor_of(applicant.id)
    moving_day = clock.today_jst() + AHEAD

    # Filed and accepted before the move.
    with transaction(engine) as session:
        draft = procedures.do_start_application(
            session, moving.MOVE_OUT, applicant=applicant.id, actor=actor
        )
        draft = procedures.do_save_draft(
            session,
            draft.id,
            {
                "destination": moving.place_destination(session, NEW_ADDRESS).text,
                "moved_on": moving_day.isoformat(),
            },
            expected_version=draft.version,
            actor=actor,
        )
        submitted = sign_and_submit(session, family, draft)
    with transaction(engine) as session:
        approved = act_as_official(session, submitted.id, "approve", OLD_LG)
        move_in_id = uuid.UUID(str(approved.outputs["move_in_application"]))

    # The slots start on the moving date; one before it is refused.
    with transaction(engine) as session:
        move_in = procedures.get_application(session, move_in_id)
        slots = moving.offered_slots(moving.moved_out_on(move_in))
        assert min(slot.date() for slot in slots) >= moving_day
        early_slot = moving.slot_value(moving.offered_slots()[0])
        saved = procedures.do_save_draft(
            session, move_in.id, {"slot": early_slot}, expected_version=move_in.version, actor=actor
        )
        with pytest.raises(KibanError) as refused:
            procedures.do_take_action(
                session,
                move_in.id,
                "reserve",
                role="applicant",
                actor=actor,
                expected_version=saved.version,
            )
        assert refused.value.code == "moving.slot_invalid"
    slot = slots[0]
    with transaction(engine) as session:
        move_in = procedures.get_application(session, move_in_id)
        saved = procedures.do_save_draft(
            session,
            move_in.id,
            {"slot": moving.slot_value(slot)},
            expected_version=move_in.version,
            actor=actor,
        )
        procedures.do_take_action(
            session,
            move_in.id,
            "reserve",
            role="applicant",
            actor=actor,
            expected_version=saved.version,
        )

    # The reservation's notice says the day with its weekday, where and when the office opens.
    with transaction(engine) as session:
        inbox = notifications.list_inbox(session, applicant.id, limit=50).items
        reserved = next(n for n in inbox if n.template == moving.notices.MOVE_IN_RESERVED)
        assert i18n.day_ja(slot.date()) in reserved.body_ja
        assert i18n.day_en(slot.date()) in reserved.body_en
        assert "北海道札幌市中央区南3条西11丁目330-2" in reserved.body_ja
        assert "8:30–17:15" in reserved.body_en
        received = next(n for n in inbox if n.template == moving.notices.MOVE_OUT_RECEIVED)
        assert procedures.reference_of(submitted.id) in received.subject_ja

        # Before the moving date the new office cannot take the task up: the error says from when,
    # and nothing is left claimed.
    with transaction(engine) as session:
        move_in = procedures.get_application(session, move_in_id)
        with pytest.raises(KibanError) as too_early:
            procedures.do_claim_task(
                session, move_in.id, official=official(NEW_LG), expected_version=move_in.version
            )
        assert too_early.value.code == "moving.move_in_too_early"
        assert too_early.value.field == "moved_in_on"
        assert f"{moving_day.month}月{moving_day.day}日" in too_early.value.message("ja")
        assert str(moving_day.year) in too_early.value.message("en")
    with transaction(engine) as session:
        assert procedures.get_application(session, move_in_id).claimed_by is None

    # On the day of the visit: completed, with the day the resident states they moved in.
    with clock.travel(slot.date() - clock.today_jst() + timedelta(hours=1)):
        with transaction(engine) as session:
            move_in = procedures.get_application(session, move_in_id)
            who = official(NEW_LG)
            claimed = procedures.do_claim_task(
                session, move_in.id, official=who, expected_version=move_in.version
            )
        with transaction(engine) as session:
            with pytest.raises(KibanError) as before_move:
                procedures.do_take_action(
                    session,
                    move_in.id,
                    "complete",
                    role="official",
                    actor=who,
                    expected_version=claimed.version,
                    data={"moved_in_on": (moving_day - timedelta(days=1)).isoformat()},
                )
            assert before_move.value.code == "moving.move_in_date_invalid"
            session.rollback()  # As the office page does with a refused action.
        with transaction(engine) as session:
            move_in = procedures.get_application(session, move_in_id)
            completed = procedures.do_take_action(
                session,
                move_in.id,
                "complete",
                role="official",
                actor=who,
                expected_version=move_in.version,
                data={"moved_in_on": moving_day.isoformat()},
            )
            assert completed.state == "completed"
            assert completed.outputs["moved_in_on"] == moving_day.isoformat()
            person = residents.get_person(session, applicant.id)
            assert person.address.lg_code == NEW_LG
