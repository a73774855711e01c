"""The reference verifiers' pages: the shop receives ``age_over_20`` and nothing else, at the
HTTP level of what it is answered and what is stored for it; the hospital asks for a nurse's
licence."""

from __future__ import annotations

import json
import re
from html import unescape
from urllib.parse import parse_qs, urlsplit

from joserfc.jwk import ECKey
from sqlalchemy import select
from sqlalchemy.orm import Session

from kiban.blocks import credentials
from kiban.blocks.credentials.models import CredentialsPresentationRequest
from kiban.web.verifiers import HOSPITAL, NURSE_TYPE
from tests.blocks.credentials.conftest import TestClient, present
from tests.blocks.credentials.test_relying_parties import request_of


def _start(client: TestClient, name: str, lang: str = "en") -> tuple[str, str]:
    started = client.post(f"/verifiers/{name}/checks?lang={lang}", follow_redirects=False)
    assert started.status_code == 303, started.text
    page_path = started.headers["location"]
    page = client.get(page_path)
    assert page.status_code == 200
    link = unescape(re.search(r'<textarea id="wallet-link"[^>]*>([^<]+)</textarea>', page.text)[1])  # type: ignore[index]
    return page_path, link


def test_the_pages_are_public_and_in_both_languages(client: TestClient) -> None:
    for lang, words in (("ja", "さくら酒店"), ("en", "Sakura Liquor Store")):
        page = client.get(f"/verifiers/?lang={lang}")
        assert page.status_code == 200
        assert words in page.text
        shop = client.get(f"/verifiers/shop?lang={lang}")
        assert shop.status_code == 200
        assert 'action="/verifiers/shop/checks' in shop.text
    assert client.get("/verifiers/bakery").status_code == 404


def test_the_shop_receives_age_over_20_and_never_the_birthdate(
    client: TestClient,
    session: Session,
    issued: credentials.IssuedCredential,
    holder_key: ECKey,
) -> None:
    page_path, link = _start(client, "shop")
    assert link.startswith("openid4vp://?")
    request = request_of(client, parse_qs(urlsplit(link).query)["request_uri"][0])
    assert request["dcql_query"]["credentials"][0]["claims"] == [{"path": ["age_over_20"]}]
    # A careless wallet discloses the birth date, the name and the address as well.
    everything = present(
        issued,
        holder_key,
        ["age_over_20", "birthdate", "name", "address"],
        nonce=request["nonce"],
        audience=request["client_id"],
    )
    answered = client.post(
        urlsplit(request["response_uri"]).path,
        data={"state": request["state"], "vp_token": json.dumps({"resident": [everything]})},
    )
    assert answered.status_code == 200, answered.text
    assert "1982" not in answered.text
    shown = client.get(page_path)
    assert shown.status_code == 200
    received = re.search(r'<dl class="facts" id="received">(.*?)</dl>', shown.text, re.S)
    assert received is not None
    assert re.findall(r"<dt>([^<]+)</dt>", received[1]) == ["Aged 20 or over"]
    assert re.findall(r"<dd>([^<]+)</dd>", received[1]) == ["Yes"]
    for secret in ("1982", "02-03", "花子", "山田", "丸の内"):
        assert secret not in shown.text
    handle = page_path.split("/")[-1].split("?")[0]
    stored = session.scalars(
        select(CredentialsPresentationRequest).where(
            CredentialsPresentationRequest.handle == handle
        )
    ).one()
    assert stored.result == {
        "resident": {
            "vct": credentials.vct_of("resident"),
            "credential_type": "resident",
            "issuer": credentials.issuer_id(),
            "claims": {"age_over_20": True},
            "status": "valid",
            "expires_at": issued.expires_at.isoformat(),
        }
    }


def test_the_hospital_asks_for_a_nurses_licence(client: TestClient) -> None:
    page = client.get("/verifiers/hospital?lang=en")
    assert page.status_code == 200
    assert NURSE_TYPE in credentials.TYPES  # The qualifications registry's licence types.
    _page, link = _start(client, "hospital")
    request = request_of(client, parse_qs(urlsplit(link).query)["request_uri"][0])
    (query,) = request["dcql_query"]["credentials"]
    assert query["meta"]["vct_values"] == [credentials.vct_of(NURSE_TYPE)]
    assert sorted(c["path"][0] for c in query["claims"]) == sorted(HOSPITAL.claims)
