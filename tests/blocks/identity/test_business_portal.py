"""Business accounts in the portal: the representative applies with the card reader, invites a
member, delegates and removes; the member redeems. Plain HTML forms, no JavaScript."""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from kiban.blocks import corporations
from kiban.platform.access_log import PathOnly
from kiban.platform.settings import get_settings

from .conftest import CORPORATE_NUMBER as NUMBER
from .conftest import TestClient
from .oidc_support import ReaderCard, card_post, hidden_fields, path_of, sign_in_through_pages

ISSUER = "http://testserver"
PROCEDURE = "subsidy.it_introduction"
CODE = re.compile(r'<code id="invitation-code">([^<]+)</code>')


@pytest.fixture
def http(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    monkeypatch.setenv("KIBAN_BASE_URL", ISSUER)
    get_settings.cache_clear()
    from kiban.web import create_app  # noqa: PLC0415 - after the settings are in place.

    with TestClient(create_app(), follow_redirects=False) as client:
        yield client


CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


class PortalBrowser(TestClient):
    """A browser that posts the portal's forms as the pages render them: with the session's
    CSRF token (taken from the business page)."""

    def post(self, url: Any, *args: Any, data: Any = None, **kwargs: Any) -> httpx.Response:
        if str(url).startswith("/portal/"):
            token = CSRF.search(self.get("/portal/business").text)
            assert token is not None, "the page has no CSRF token"
            data = {**(data or {}), "csrf_token": token.group(1)}
        return super().post(url, *args, data=data, **kwargs)


def signed_in(http: TestClient, card: ReaderCard) -> TestClient:
    """A browser of its own, signed in to the portal with ``card``."""
    browser = PortalBrowser(http.app, follow_redirects=False)
    login = browser.get("/portal/login?next=/portal/business")
    back = sign_in_through_pages(browser, card, login.headers["location"])
    landed = browser.get(path_of(back))
    assert landed.headers["location"] == "/portal/business"
    return browser


def apply_for_prime(browser: TestClient, card: ReaderCard) -> httpx.Response:
    """Fill in the application, sign it in the card reader, come back."""
    form = browser.post(
        "/portal/business/prime", data={"corporate_number": NUMBER, "email": "a@example.jp"}
    )
    assert form.status_code == 200, form.text
    path, answer = card_post(card, form.text)
    # The reader's page posts the answer from its own origin: no CSRF token, and (cross-site
    # in production) without the portal's SameSite=Lax cookie.
    return TestClient.post(browser, path, data=answer)


def test_the_page_needs_a_portal_sign_in(http: TestClient) -> None:
    response = http.get("/portal/business")
    assert response.status_code == 303
    assert response.headers["location"] == "/portal/login?next=/portal/business"


def test_representative_and_member_through_the_portal(
    http: TestClient,
    corporation: corporations.CorporationRead,
    prime_card: ReaderCard,
    member_card: ReaderCard,
) -> None:
    prime, member = signed_in(http, prime_card), signed_in(http, member_card)
    assert "ビジネスアカウント" in prime.get("/portal/business").text

    # The member's card is not the representative's: the page says which item differs.
    refused = apply_for_prime(member, member_card)
    assert refused.status_code == 403
    assert "代表者の氏名と一致しません" in refused.text

    # The representative signs the application in the card reader and gets the prime account.
    applied = apply_for_prime(prime, prime_card)
    assert applied.status_code == 303, applied.text
    page = prime.get(applied.headers["location"])
    assert "株式会社基盤テック" in page.text
    assert "プライムアカウントを作成しました" in page.text

    # The prime invites; the code is shown once; the member redeems it.
    invited = prime.post(
        f"/portal/business/{NUMBER}/members",
        data={"display_name": "佐藤　一郎", "email": "ichiro@example.jp", "role": "経理担当"},
    )
    assert invited.status_code == 200, invited.text
    code = CODE.search(invited.text)
    assert code is not None
    assert CODE.search(prime.get("/portal/business").text) is None
    redeemed = member.post("/portal/business/redeem", data={"invitation_code": code.group(1)})
    assert redeemed.status_code == 303, redeemed.text
    assert "株式会社基盤テック" in member.get("/portal/business").text

    # A member may not invite.
    by_member = member.post(
        f"/portal/business/{NUMBER}/members",
        data={"display_name": "鈴木　次郎", "email": "jiro@example.jp"},
    )
    assert by_member.status_code == 403
    assert "プライムアカウントだけが行えます" in by_member.text

    # The prime delegates a procedure (a malformed code names the field), then revokes it.
    listing = prime.get("/portal/business").text
    account_id = re.search(rf"/portal/business/{NUMBER}/members/([0-9a-f-]+)/remove", listing)
    assert account_id is not None
    members = f"/portal/business/{NUMBER}/members/{account_id.group(1)}"
    bad = prime.post(f"{members}/delegations", data={"procedure_code": "Not a code"})
    assert bad.status_code == 422
    assert "procedure_code" in bad.text
    assert (
        prime.post(f"{members}/delegations", data={"procedure_code": PROCEDURE}).status_code == 303
    )
    assert PROCEDURE in member.get("/portal/business").text
    assert prime.post(f"{members}/delegations/{PROCEDURE}/revoke").status_code == 303
    assert PROCEDURE not in member.get("/portal/business").text

    # The prime removes the member, who then holds no account.
    assert prime.post(f"{members}/remove").status_code == 303
    assert "株式会社基盤テック" not in member.get("/portal/business").text
    assert "削除済み" in prime.get("/portal/business").text


def test_an_answer_for_no_waiting_application_is_refused(
    http: TestClient, corporation: corporations.CorporationRead, prime_card: ReaderCard
) -> None:
    prime = signed_in(http, prime_card)
    form = prime.post(
        "/portal/business/prime", data={"corporate_number": NUMBER, "email": "a@example.jp"}
    )
    path, answer = card_post(prime_card, form.text)
    session_id, _, nonce = answer["request_id"].partition(".")
    # Another nonce, or another session, finds nothing waiting.
    for request_id in (f"{session_id}.{'x' * len(nonce)}", f"{uuid.uuid4()}.{nonce}"):
        forged = TestClient.post(prime, path, data={**answer, "request_id": request_id})
        assert forged.status_code == 400
        assert "申請の有効期限が切れました" in forged.text
    # A stranger's browser, without the portal's cookie, is sent to the sign-in, not told more.
    stranger = TestClient(http.app, follow_redirects=False)
    late = stranger.post(path, data={**answer, "request_id": f"{uuid.uuid4()}.{nonce}"})
    assert late.status_code == 303
    assert late.headers["location"] == "/portal/business?expired=1"
    # The right answer is taken once.
    assert TestClient.post(prime, path, data=answer).status_code == 303
    again = TestClient.post(prime, path, data=answer)
    assert again.status_code == 400


def test_the_signing_certificate_never_travels_in_a_url(
    http: TestClient, corporation: corporations.CorporationRead, prime_card: ReaderCard
) -> None:
    prime = signed_in(http, prime_card)
    urls: list[str] = []
    prime.event_hooks["request"].append(lambda request: urls.append(str(request.url)))
    form = prime.post(
        "/portal/business/prime", data={"corporate_number": NUMBER, "email": "a@example.jp"}
    )
    # The page sends the reader a challenge (a hash) and asks for the answer in a form post.
    reader_form = hidden_fields(form.text)
    assert reader_form["response_mode"] == "form_post"
    assert "a@example.jp" not in "".join(reader_form.values())
    path, answer = card_post(prime_card, form.text)
    applied = TestClient.post(prime, path, data=answer)
    assert applied.status_code == 303
    prime.get(applied.headers["location"])
    certificate = answer["signing_certificate"]
    assert all(certificate[:40] not in url and "signing_certificate" not in url for url in urls), (
        urls
    )
    # An answer in a URL is not taken: the GET knows only the way back.
    in_url = prime.get(path, params=answer)
    assert in_url.status_code == 303
    assert in_url.headers["location"] == "/portal/business"
    # The access log keeps paths only, whatever a client puts in a query.
    line = logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        "",
        0,
        '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:1", "GET", f"{path}?signing_certificate={certificate}", "1.1", 303),
        None,
    )
    assert PathOnly().filter(line)
    assert certificate not in line.getMessage()
