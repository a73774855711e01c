"""Sign-in speed: whole card sign-ins and card-certificate verifications per second, each beside
the raw RSA-2048 signature verification rate of ``cryptography`` measured in the same run.

Run: ``.venv/bin/python bench/bench_signin.py [SIGN_INS] [VERIFICATIONS]`` (default 50, 500).

Everything runs in this process on a fresh SQLite file in WAL mode. One sign-in is the whole
OpenID Connect code flow without HTTP: the authorization request, the challenge, the card's
signature through the card reader's client library (which opens the key sealed under the PIN,
as the reader does for each signature), the check of signature, chain and revocation status,
consent and code, and the token exchange with PKCE that signs the ES256 ID token. A card
verification is the identity block's ``verify_certificate`` (chain to the issuing CA, key usage,
validity, and the certificate's status in the register). The bound is one RSA-2048 PKCS#1 v1.5
SHA-256 verification with ``cryptography``, the single public-key operation every card check
needs, run in short bursts between kiban's own steps so that both share the machine's load: the
ratio says how much of a verification is kiban's own work.
"""

from __future__ import annotations

import base64
import hashlib
import os
import secrets
import sys
import tempfile
import time
from datetime import date
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from sqlalchemy import Engine

from kiban.blocks import address, identity, residents
from kiban.cardreader.client import sign_challenge
from kiban.cardreader.store import CardStore
from kiban.cli.card import issue_into
from kiban.platform import migrate
from kiban.platform.db import make_engine, transaction
from kiban.platform.settings import get_settings

REDIRECT_URI = "https://rp.example/cb"


def _setup(scratch: Path) -> tuple[Engine, CardStore, str, tuple[str, str]]:
    """A migrated database with one resident, her card in a reader, and a relying party."""
    url = f"sqlite:///{scratch / 'kiban.db'}"
    os.environ["KIBAN_DATA_DIR"] = str(scratch)
    os.environ["KIBAN_DATABASE_URL"] = url
    get_settings.cache_clear()
    migrate.upgrade(url)
    engine = make_engine(url)
    store = CardStore(scratch / "cards")
    with transaction(engine) as session:
        address.load_registry(session, lg_codes=["131016"])
        town = address.find_town(session, "131016", "丸の内")
        person = residents.register_person(
            session,
            residents.PersonCreate(
                family_name="山田",
                given_name="花子",
                family_name_kana="ヤマダ",
                given_name_kana="ハナコ",
                birth_date=date(1982, 2, 3),
                sex=residents.Sex.FEMALE,
                address=residents.AddressInput(
                    town_id=town.id, chome=1 if town.has_chome else None, block_number="2番3号"
                ),
                effective_on=date(2020, 4, 1),
            ),
            actor="bench",
        )
        card = issue_into(
            session, store, person.id, auth_pin="1234", signing_pin="BENCH2026", actor="bench"
        )
        client = identity.register_client(
            session,
            identity.ClientCreate(
                name="bench",
                purpose="bench",
                scopes=["openid", "name"],
                redirect_uris=[REDIRECT_URI],
                # As the README's figures were measured; RS256 is the registration default.
                id_token_signed_response_alg="ES256",  # noqa: S106 - an algorithm name.
            ),
            actor="bench",
        )
    assert client.client_secret is not None  # noqa: S101 - a confidential client.
    return engine, store, card.card_number, (client.client_id, client.client_secret)


class RawVerify:
    """The bound: RSA-2048 PKCS#1 v1.5 SHA-256 verifications with ``cryptography``, run in
    short bursts between kiban's own work, so that both see the same load on a shared
    machine."""

    def __init__(self, burst: int) -> None:
        signer = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.key = signer.public_key()
        self.data = secrets.token_bytes(64)
        self.signature = signer.sign(self.data, padding.PKCS1v15(), hashes.SHA256())
        self.burst = burst
        self.count = 0
        self.seconds = 0.0

    def run(self) -> None:
        started = time.perf_counter()
        for _ in range(self.burst):
            self.key.verify(self.signature, self.data, padding.PKCS1v15(), hashes.SHA256())
        self.seconds += time.perf_counter() - started
        self.count += self.burst

    @property
    def rate(self) -> float:
        return self.count / self.seconds


def _s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def run_sign_ins(
    engine: Engine,
    store: CardStore,
    card_number: str,
    client: tuple[str, str],
    count: int,
    *,
    raw: RawVerify,
) -> dict[str, float]:
    """Seconds spent in each stage over ``count`` sign-ins (a raw burst after each)."""
    client_id, secret = client
    stages = {"challenge": 0.0, "card": 0.0, "verify": 0.0, "code+token": 0.0}
    for _ in range(count):
        verifier = secrets.token_urlsafe(48)
        binding = identity.new_browser_binding()
        started = time.perf_counter()
        with transaction(engine) as session:
            request = identity.start_authorization(
                session,
                [
                    ("response_type", "code"),
                    ("client_id", client_id),
                    ("redirect_uri", REDIRECT_URI),
                    ("scope", "openid name"),
                    ("state", "s"),
                    ("nonce", "n"),
                    ("code_challenge", _s256(verifier)),
                    ("code_challenge_method", "S256"),
                ],
                browser_binding=binding,
            )
            signin = identity.begin_card_sign_in(session, request.request_id, binding)
        challenged = time.perf_counter()
        answer = sign_challenge(store, card_number, {"auth": "1234"}, signin.challenge)
        signed = time.perf_counter()
        with transaction(engine) as session:
            identity.complete_card_sign_in(session, request.request_id, binding, answer)
        verified = time.perf_counter()
        with transaction(engine) as session:
            location = identity.decide_consent(
                session, request.request_id, binding, approve=True, scopes=["name"]
            )
        code = parse_qs(urlsplit(location).query)["code"][0]
        with transaction(engine) as session:
            identity.exchange_code(
                session,
                client_id=client_id,
                client_secret=secret,
                auth_method="client_secret_basic",
                code=code,
                redirect_uri=REDIRECT_URI,
                code_verifier=verifier,
            )
        done = time.perf_counter()
        stages["challenge"] += challenged - started
        stages["card"] += signed - challenged
        stages["verify"] += verified - signed
        stages["code+token"] += done - verified
        raw.run()
    return stages


def run_verifications(
    engine: Engine, store: CardStore, card_number: str, count: int, raw: RawVerify
) -> float:
    """Seconds for ``count`` verifications of the card's authentication certificate, in
    batches of ten with a raw burst after each batch."""
    der = store.certificate_der(card_number, "auth")
    seconds = 0.0
    with transaction(engine) as session:
        for _ in range(count // 10):
            started = time.perf_counter()
            for _ in range(10):
                identity.verify_certificate(session, der, kind=identity.CertificateKind.AUTH)
            seconds += time.perf_counter() - started
            raw.run()
    return seconds


def main() -> None:
    sign_ins = int(sys.argv[1]) if len(sys.argv) > 1 else 50
    verifications = int(sys.argv[2]) if len(sys.argv) > 2 else 500
    with tempfile.TemporaryDirectory() as scratch:
        engine, store, card_number, client = _setup(Path(scratch))
        # Warm caches and keys first; each measured phase has its own bound.
        run_sign_ins(engine, store, card_number, client, 2, raw=RawVerify(1))
        signin_raw, verify_raw = RawVerify(200), RawVerify(20)
        stages = run_sign_ins(engine, store, card_number, client, sign_ins, raw=signin_raw)
        verify_s = run_verifications(engine, store, card_number, verifications, verify_raw)
        engine.dispose()
    total = sum(stages.values())
    signin_rate = sign_ins / total
    server_rate = sign_ins / (total - stages["card"])
    verify_rate = verifications / verify_s
    print(f"sign-ins: {sign_ins}, certificate verifications: {verifications} (SQLite, in-process)")
    rows = [
        ("raw RSA-2048 verify, beside sign-ins", signin_raw.rate, None),
        ("whole sign-ins (with the card)", signin_rate, signin_raw.rate / signin_rate),
        ("server side of a sign-in", server_rate, signin_raw.rate / server_rate),
        ("raw RSA-2048 verify, beside checks", verify_raw.rate, None),
        ("card-certificate verification", verify_rate, verify_raw.rate / verify_rate),
    ]
    for label, rate, ratio in rows:
        beside = "" if ratio is None else f"   {ratio:7.1f}x the raw verify time"
        print(f"{label:<37} {rate:10,.1f} /s{beside}")
    for stage, seconds in stages.items():
        print(f"  {stage:<12} {1000 * seconds / sign_ins:7.2f} ms per sign-in")


if __name__ == "__main__":
    main()
