"""Where fees are paid: a payment provider behind the :class:`FeeProvider` Protocol, and the
local reference provider :class:`LocalPayProvider` (GOV.UK Pay-like).

A payment is created for an amount and a reference, the applicant is sent to the provider's
hosted page (``next_url``) where they confirm card or bank-transfer details, and the provider
sends them back to ``return_url``. The return proves nothing: the portal asks the provider for
the payment's state (:meth:`FeeProvider.get_payment`). A payment is ``created``, then
``succeeded`` or ``failed`` (both final); a succeeded payment may be refunded in full or in
parts, each refund under an idempotency key so a retried refund is made once.

:class:`LocalPayProvider` is real code with its own state, apart from kiban's database: one
JSON file per payment under its directory (written to a temporary file and renamed into place,
under an exclusive file lock), and a settlement report per day
(``settlements/YYYY-MM-DD.csv``: one line per capture or refund on that day in JST), which the
daily reconciliation reads. Its hosted page is ``kiban.web.refpay``. Test card numbers answer
like GOV.UK Pay's sandbox:

================== ==============================
card number        result
================== ==============================
4444333322221111   succeeds (Visa)
5101180000000007   succeeds (Mastercard)
4000000000000002   declined (``card_declined``)
4000000000000069   expired (``card_expired``)
4000000000000119   processing error (``processing_error``)
================== ==============================

Any other number that passes the Luhn check succeeds; one that does not is refused on the page,
changing nothing. A bank transfer (振込) from account number ``9999999`` fails
(``insufficient_funds``); any other 7-digit account succeeds.
"""

from __future__ import annotations

import csv
import fcntl
import io
import json
import os
import re
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, replace
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, Final, Literal, Protocol

from kiban.kernel import clock

State = Literal["created", "succeeded", "failed"]
Method = Literal["card", "bank_transfer"]
METHODS: Final[tuple[Method, ...]] = ("card", "bank_transfer")

DECLINING_CARDS: Final = {
    "4000000000000002": "card_declined",
    "4000000000000069": "card_expired",
    "4000000000000119": "processing_error",
}
FAILING_ACCOUNT: Final = "9999999"
SETTLEMENT_HEADER: Final = ("type", "payment_id", "reference", "amount", "method", "at")


@dataclass(frozen=True)
class ProviderRefund:
    """One refund of a payment, made once per idempotency ``key``."""

    id: str
    key: str
    amount: int
    at: str


@dataclass(frozen=True)
class ProviderPayment:
    """A payment as the provider holds it (times are ISO 8601, UTC)."""

    id: str
    amount: int
    reference: str
    description: str
    return_url: str
    state: State
    created_at: str
    method: Method | None = None
    card_last4: str | None = None
    failure: str | None = None
    captured_at: str | None = None
    refunds: tuple[ProviderRefund, ...] = field(default_factory=tuple)

    @property
    def refunded(self) -> int:
        """The yen refunded so far."""
        return sum(r.amount for r in self.refunds)


class PaymentRefused(ValueError):
    """The provider refused a request (unknown payment, bad details, refund too large); ``field``
    names what was wrong."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}")
        self.field = field
        self.problem = problem


class FeeProvider(Protocol):
    """A payment provider for fees (政府共通決済's card and bank-transfer acquirer)."""

    def create_payment(
        self, *, amount: int, reference: str, description: str, return_url: str
    ) -> ProviderPayment:
        """A new payment in ``created``; the applicant pays it at :meth:`next_url`."""
        ...

    def next_url(self, payment_id: str) -> str:
        """The provider's hosted page where the applicant pays."""
        ...

    def get_payment(self, payment_id: str) -> ProviderPayment:
        """The payment's state now (``PaymentRefused`` for an unknown id)."""
        ...

    def refund(self, payment_id: str, *, amount: int, key: str) -> ProviderRefund:
        """Refund ``amount`` yen of a succeeded payment; the same ``key`` again returns the
        first refund and refunds nothing more."""
        ...

    def settlement_report(self, day: date) -> bytes:
        """The settlement report of ``day`` (JST): CSV with :data:`SETTLEMENT_HEADER`, one
        line per capture or refund on that day."""
        ...


def luhn_ok(number: str) -> bool:
    """Whether ``number`` (digits only) passes the Luhn check of card numbers."""
    if not number.isdigit() or not 12 <= len(number) <= 19:
        return False
    total = 0
    for index, digit in enumerate(reversed(number)):
        value = int(digit) * (2 if index % 2 else 1)
        total += value - 9 if value > 9 else value
    return total % 10 == 0


_ID = re.compile(r"^rp_[A-Za-z0-9_-]{16,40}$")


def _stamp(instant: datetime) -> str:
    return instant.isoformat(timespec="microseconds")


def _jst_day(stamp: str) -> date:
    return (datetime.fromisoformat(stamp) + timedelta(hours=9)).date()


class LocalPayProvider:
    """The reference provider: state in files under ``root``, pages at ``base_url``/refpay."""

    def __init__(self, root: Path, base_url: str) -> None:
        self.root = root
        self.base_url = base_url.rstrip("/")

    # --- storage ---------------------------------------------------------------------------

    @contextmanager
    def _locked(self) -> Iterator[None]:
        (self.root / "payments").mkdir(parents=True, exist_ok=True)
        with (self.root / ".lock").open("a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def _path(self, payment_id: str) -> Path:
        if not _ID.match(payment_id):
            raise PaymentRefused("payment_id", "not a payment of this provider")
        return self.root / "payments" / f"{payment_id}.json"

    def _load(self, payment_id: str) -> ProviderPayment:
        path = self._path(payment_id)
        try:
            raw: dict[str, Any] = json.loads(path.read_text("utf-8"))
        except FileNotFoundError:
            raise PaymentRefused("payment_id", "no such payment") from None
        raw["refunds"] = tuple(ProviderRefund(**r) for r in raw.get("refunds", ()))
        return ProviderPayment(**raw)

    def _save(self, payment: ProviderPayment) -> None:
        path = self._path(payment.id)
        temporary = path.with_suffix(".tmp")
        temporary.write_text(json.dumps(asdict(payment), ensure_ascii=False), "utf-8")
        os.replace(temporary, path)

    # --- the Protocol ------------------------------------------------------------------------

    def create_payment(
        self, *, amount: int, reference: str, description: str, return_url: str
    ) -> ProviderPayment:
        if amount <= 0:
            raise PaymentRefused("amount", "must be a positive number of yen")
        payment = ProviderPayment(
            id="rp_" + secrets.token_urlsafe(18),
            amount=amount,
            reference=reference,
            description=description,
            return_url=return_url,
            state="created",
            created_at=_stamp(clock.now()),
        )
        with self._locked():
            self._save(payment)
        return payment

    def next_url(self, payment_id: str) -> str:
        return f"{self.base_url}/refpay/{payment_id}"

    def get_payment(self, payment_id: str) -> ProviderPayment:
        with self._locked():
            return self._load(payment_id)

    def refund(self, payment_id: str, *, amount: int, key: str) -> ProviderRefund:
        with self._locked():
            payment = self._load(payment_id)
            earlier = next((r for r in payment.refunds if r.key == key), None)
            if earlier is not None:
                return earlier
            if payment.state != "succeeded":
                raise PaymentRefused("payment_id", f"the payment is {payment.state}")
            if amount <= 0 or amount > payment.amount - payment.refunded:
                raise PaymentRefused("amount", "more than what is left to refund")
            made = ProviderRefund(
                id="rf_" + secrets.token_urlsafe(12),
                key=key,
                amount=amount,
                at=_stamp(clock.now()),
            )
            self._save(replace(payment, refunds=(*payment.refunds, made)))
            return made

    def settlement_report(self, day: date) -> bytes:
        lines: list[tuple[str, str, str, int, str, str]] = []
        with self._locked():
            for path in sorted((self.root / "payments").glob("rp_*.json")):
                payment = self._load(path.stem)
                if payment.captured_at and _jst_day(payment.captured_at) == day:
                    lines.append(
                        (
                            "capture",
                            payment.id,
                            payment.reference,
                            payment.amount,
                            payment.method or "",
                            payment.captured_at,
                        )
                    )
                lines.extend(
                    ("refund", payment.id, payment.reference, r.amount, payment.method or "", r.at)
                    for r in payment.refunds
                    if _jst_day(r.at) == day
                )
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(SETTLEMENT_HEADER)
        lines.sort(key=lambda line: line[5])
        writer.writerows(lines)
        data = out.getvalue().encode("utf-8")
        folder = self.root / "settlements"
        folder.mkdir(parents=True, exist_ok=True)
        temporary = folder / f"{day.isoformat()}.csv.tmp"
        temporary.write_bytes(data)
        os.replace(temporary, folder / f"{day.isoformat()}.csv")
        return data

    # --- the hosted page's operations ----------------------------------------------------------

    def confirm_card(
        self, payment_id: str, *, number: str, expiry: str, cvc: str, name: str
    ) -> ProviderPayment:
        """The applicant confirmed card details on the hosted page: the payment succeeds or
        fails (by the test numbers above). Bad details raise ``PaymentRefused`` naming the field
        and change nothing; a payment already final is returned as it is."""
        digits = re.sub(r"[\s-]", "", number)
        if not luhn_ok(digits):
            raise PaymentRefused("card_number", "not a card number")
        match = re.fullmatch(r"(\d{2})\s*/\s*(\d{2})", expiry.strip())
        if match is None or not 1 <= int(match.group(1)) <= 12:
            raise PaymentRefused("expiry", "MM/YY")
        month, year = int(match.group(1)), 2000 + int(match.group(2))
        today = clock.today_jst()
        if (year, month) < (today.year, today.month):
            raise PaymentRefused("expiry", "the card has expired")
        if not re.fullmatch(r"\d{3,4}", cvc.strip()):
            raise PaymentRefused("cvc", "3 or 4 digits")
        if not name.strip():
            raise PaymentRefused("cardholder_name", "required")
        failure = DECLINING_CARDS.get(digits)
        return self._finish(payment_id, "card", failure, last4=digits[-4:])

    def confirm_bank_transfer(
        self, payment_id: str, *, bank_code: str, account_number: str
    ) -> ProviderPayment:
        """The applicant confirmed a bank transfer (振込) from their account."""
        if not re.fullmatch(r"\d{4}", bank_code.strip()):
            raise PaymentRefused("bank_code", "4 digits")
        if not re.fullmatch(r"\d{7}", account_number.strip()):
            raise PaymentRefused("account_number", "7 digits")
        failure = "insufficient_funds" if account_number.strip() == FAILING_ACCOUNT else None
        return self._finish(payment_id, "bank_transfer", failure, last4=None)

    def _finish(
        self, payment_id: str, method: Method, failure: str | None, *, last4: str | None
    ) -> ProviderPayment:
        with self._locked():
            payment = self._load(payment_id)
            if payment.state != "created":
                return payment
            if failure is None:
                done = replace(
                    payment,
                    state="succeeded",
                    method=method,
                    card_last4=last4,
                    captured_at=_stamp(clock.now()),
                )
            else:
                done = replace(
                    payment, state="failed", method=method, card_last4=last4, failure=failure
                )
            self._save(done)
            return done


def parse_settlement(data: bytes) -> list[dict[str, Any]]:
    """The lines of a settlement report (amounts as ints); ``PaymentRefused`` (field
    ``report``) when the header or a line is not what :meth:`FeeProvider.settlement_report`
    writes."""
    reader = csv.reader(io.StringIO(data.decode("utf-8")))
    rows = list(reader)
    if not rows or tuple(rows[0]) != SETTLEMENT_HEADER:
        raise PaymentRefused("report", "the header is not a settlement report's")
    lines: list[dict[str, Any]] = []
    for number, row in enumerate(rows[1:], start=2):
        if len(row) != len(SETTLEMENT_HEADER) or row[0] not in ("capture", "refund"):
            raise PaymentRefused("report", f"line {number} is not a settlement line")
        try:
            amount = int(row[3])
        except ValueError:
            raise PaymentRefused("report", f"line {number} has no amount") from None
        lines.append(dict(zip(SETTLEMENT_HEADER, [*row[:3], amount, *row[4:]], strict=True)))
    return lines
