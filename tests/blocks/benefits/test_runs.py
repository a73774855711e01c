"""Push runs over a small register: who is determined, for how much, told in the inbox; re-runs
never double; declining excludes; the tax office's answers are in the person's records."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.orm import Session

from kiban.blocks import benefits, mesh, notifications, payments
from kiban.kernel import clock
from tests.blocks.benefits.conftest import BASE, OFFICIAL, Country


def test_the_flat_payment_pays_each_head_per_resident(session: Session, country: Country) -> None:
    run = benefits.do_run_programme(session, "flat-payment", BASE, actor=OFFICIAL)
    # Three households on the base date (the newcomer arrived after it): 4 + 1 + 2 residents.
    assert run.determinations == 3
    assert run.total_yen == 700_000
    assert run.by_status == {"notified": 3}
    mine = benefits.list_determinations_of(session, country.family_head.id)
    assert [(d.programme, d.amount_yen, d.open) for d in mine] == [("flat-payment", 400_000, True)]
    assert benefits.list_determinations_of(session, country.late_arrival.id) == []
    assert benefits.list_determinations_of(session, country.family[1].id) == []
    inbox = notifications.list_inbox(session, country.family_head.id)
    (notice,) = inbox.items
    assert "400,000円" in notice.body_ja
    assert "辞退" in notice.body_ja
    assert "Register one on the portal" in notice.body_en


def test_a_rerun_never_doubles(session: Session, country: Country) -> None:
    first = benefits.do_run_programme(session, "flat-payment", BASE, actor=OFFICIAL)
    session.commit()
    again = benefits.do_run_programme(session, "flat-payment", BASE, actor=OFFICIAL)
    assert again.new_determinations == 0
    assert again.determinations == first.determinations
    assert again.total_yen == first.total_yen
    assert len(notifications.list_inbox(session, country.family_head.id).items) == 1
    benefits.do_run_programme(session, "child-allowance", BASE, actor=OFFICIAL)
    with pytest.raises(benefits.RunConflict):
        # The same payment month from another base date.
        benefits.do_run_programme(
            session, "child-allowance", BASE + timedelta(days=9), actor=OFFICIAL
        )


def test_child_allowance_by_age_band(session: Session, country: Country) -> None:
    run = benefits.do_run_programme(session, "child-allowance", BASE, actor=OFFICIAL)
    # One household with children: 11 years (first child, ¥10,000) and 1 year (second child,
    # ¥15,000) a month, paid for two months.
    assert run.period == "2026-12"
    assert run.determinations == 1
    assert run.total_yen == (10_000 + 15_000) * 2
    with pytest.raises(benefits.NotAPaymentMonth):
        benefits.do_run_programme(
            session, "child-allowance", BASE - timedelta(days=1), actor=OFFICIAL
        )


def test_the_exempt_household_payment_asks_the_tax_office(
    session: Session, country: Country
) -> None:
    preview = benefits.preview_programme(session, "exempt-household", BASE)
    assert preview.tax_checked is False
    assert preview.recipients == 3  # An upper bound: no one's tax data was read.
    assert mesh.records_for_person(session, country.elder.id).records == [] or all(
        r.service != benefits.TAX_SERVICE
        for r in mesh.records_for_person(session, country.elder.id).records
    )
    run = benefits.do_run_programme(session, "exempt-household", BASE, actor=OFFICIAL)
    # The elder and the elderly couple are exempt; the family's head pays resident tax.
    assert run.determinations == 2
    assert run.total_yen == 200_000
    session.commit()
    records = mesh.records_for_person(session, country.elder.id, limit=100).records
    assert any(r.service == benefits.TAX_SERVICE for r in records)
    both = [
        r
        for p in country.elder_couple
        for r in mesh.records_for_person(session, p.id, limit=100).records
        if r.service == benefits.TAX_SERVICE
    ]
    assert len({r.agency_code for r in both}) >= 2


def test_declining_within_the_window(session: Session, country: Country) -> None:
    benefits.do_run_programme(session, "flat-payment", BASE, actor=OFFICIAL)
    (mine,) = benefits.list_determinations_of(session, country.elder.id)
    declined = benefits.do_decline_determination(
        session, country.elder.id, mine.id, actor=f"person:{country.elder.id}"
    )
    assert declined.status == "declined"
    assert declined.open is False
    with pytest.raises(benefits.OptOutClosed):
        benefits.do_decline_determination(session, country.elder.id, mine.id, actor="x")
    with pytest.raises(benefits.DeterminationNotFound):
        benefits.do_decline_determination(session, country.family_head.id, mine.id, actor="x")
    (head,) = benefits.list_determinations_of(session, country.family_head.id)
    with clock.travel(timedelta(days=15)), pytest.raises(benefits.OptOutClosed):
        benefits.do_request_correction(
            session, country.family_head.id, head.id, "人数が違います", actor="x"
        )
    run = benefits.do_run_programme(session, "flat-payment", BASE, actor=OFFICIAL)
    assert run.total_yen == 700_000 - 100_000
    assert run.obligations_added == 0  # The window is still open.
    with clock.travel(timedelta(days=15)):
        settled = benefits.do_run_programme(session, "flat-payment", BASE, actor=OFFICIAL)
        assert settled.obligations_added == 2
        assert settled.by_status == {"declined": 1, "obligated": 2}
        assert benefits.do_settle_due(session, actor=OFFICIAL) == 0
    owed = payments.list_obligations(session, programme="flat-payment")
    assert sorted(o.amount for o in owed) == [200_000, 400_000]
    assert country.elder.id not in {o.person_id for o in owed}
    assert all(o.period == "2026-12-01" and o.payer == "digital-agency" for o in owed)


def test_a_correction_holds_the_payment_until_an_official_resolves_it(
    session: Session, country: Country
) -> None:
    benefits.do_run_programme(session, "flat-payment", BASE, actor=OFFICIAL)
    (mine,) = benefits.list_determinations_of(session, country.family_head.id)
    held = benefits.do_request_correction(
        session, country.family_head.id, mine.id, "子がもう一人います", actor="person:x"
    )
    assert (held.status, held.correction) == ("correction_requested", "子がもう一人います")
    with clock.travel(timedelta(days=15)):
        assert benefits.do_settle_due(session, actor=OFFICIAL) == 2
        assert payments.list_obligations(session, person_id=country.family_head.id) == []
        resolved = benefits.do_resolve_correction(
            session, mine.id, amount_yen=500_000, actor=OFFICIAL
        )
        assert resolved.amount_yen == 500_000
        assert benefits.do_settle_due(session, actor=OFFICIAL) == 1
    (owed,) = payments.list_obligations(session, person_id=country.family_head.id)
    assert owed.amount == 500_000
