"""Sign-in speed: whole card sign-ins, the server side of a sign-in, token exchanges and
card-certificate verifications per second, each beside its bound or a peer measured in the same
run (the raw RSA-2048 verification and ES256 signature of ``cryptography``).

Run: ``.venv/bin/python bench/bench_signin.py [SIGN_INS] [VERIFICATIONS] [EXCHANGES]
[--database-url URL]`` (default 50, 2000, 1000, and a fresh SQLite file in WAL mode). A
PostgreSQL URL must name an empty database, which the bench migrates.

Everything runs in this process. Times are CPU seconds of
this process (``time.process_time``), for kiban's steps and for the peers alike: on a shared
machine, wall-clock rates follow the other users' load more than kiban's code. One sign-in is
the whole OpenID Connect code flow without HTTP: the authorization request, the challenge, the
card's signature through the card reader's client library (which opens the key sealed under the
PIN, as the reader does for each signature), the check of signature, chain and revocation
status, consent and code, and the token exchange with PKCE that signs the ES256 ID token. The
server side is measured again over more sign-ins whose answer the card's key (opened once) signs
directly, since the reader's PIN unsealing (scrypt) is the card's cost, not the server's. A
token exchange is ``exchange_code`` alone (client authentication, code single use, PKCE, access
token, signed ID token), in its own driver transaction (no ORM session) as the token endpoint
runs it, on codes made
beforehand; its peer is one ES256 signature of a small JSON payload with ``cryptography``. A
card verification is the identity block's ``verify_certificate`` (chain to the issuing CA, key
usage, validity, and the certificate's status in the register). The bound is one RSA-2048 PKCS#1
v1.5 SHA-256 verification with ``cryptography``, the single public-key operation every card
check needs, run in short bursts between kiban's own steps so that both share the machine's
load: the ratio says how much of a verification is kiban's own work.
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
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from sqlalchemy import Engine

from kiban.blocks import address, identity, residents
from kiban.cardreader.client import b64url, sign_challenge
from kiban.cardreader.store import CardStore
from kiban.cli.card import issue_into
from kiban.platform import audit, migrate
from kiban.platform.db import make_engine, transaction
from kiban.platform.settings import get_settings
from kiban.platform.statements import driver_transaction

REDIRECT_URI = "https://rp.example/cb"


def _setup(scratch: Path, url: str | None = None) -> tuple[Engine, CardStore, str, tuple[str, str]]:
    """A migrated database with one resident, her card in a reader, and a relying party."""
    url = url or f"sqlite:///{scratch / 'kiban.db'}"
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
        started = time.process_time()
        for _ in range(self.burst):
            self.key.verify(self.signature, self.data, padding.PKCS1v15(), hashes.SHA256())
        self.seconds += time.process_time() - started
        self.count += self.burst

    @property
    def rate(self) -> float:
        return self.count / self.seconds


class RawSign:
    """The token exchange's peer: ES256 signatures of a small JSON payload with
    ``cryptography``, in bursts like :class:`RawVerify`."""

    def __init__(self, burst: int) -> None:
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.data = (
            b'{"iss":"https://kiban.example","sub":"' + secrets.token_bytes(32).hex().encode()
        )
        self.burst = burst
        self.count = 0
        self.seconds = 0.0

    def run(self) -> None:
        started = time.process_time()
        for _ in range(self.burst):
            self.key.sign(self.data, ec.ECDSA(hashes.SHA256()))
        self.seconds += time.process_time() - started
        self.count += self.burst

    @property
    def rate(self) -> float:
        return self.count / self.seconds


class QuickCard:
    """The card's authentication key opened once (the reader opens it per signature, under
    the PIN, with scrypt: the card's cost, which the server side does not include)."""

    def __init__(self, store: CardStore, card_number: str) -> None:
        # A bench shortcut past the PIN counter and the reader.
        with store._locked(card_number):
            self.key = store._open_key(
                card_number,
                store._load(card_number),
                "auth",
                "1234",
            )
        self.certificate = b64url(store.certificate_der(card_number, "auth"))

    def answer(self, challenge: str) -> dict[str, str]:
        signature = self.key.sign(challenge.encode(), padding.PKCS1v15(), hashes.SHA256())
        return {"auth_certificate": self.certificate, "auth_signature": b64url(signature)}


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
    quick: QuickCard | None = None,
    codes: list[tuple[str, str]] | None = None,
) -> dict[str, float]:
    """Seconds spent in each stage over ``count`` sign-ins (a raw burst after each). With
    ``quick`` the card's key signs directly; with ``codes`` the sign-in stops at the code,
    which is kept there with its PKCE verifier for :func:`run_exchanges`."""
    client_id, secret = client
    stages = {"challenge": 0.0, "card": 0.0, "verify": 0.0, "code+token": 0.0}
    for _ in range(count):
        verifier = secrets.token_urlsafe(48)
        binding = identity.new_browser_binding()
        started = time.process_time()
        # The authorization request and the challenge in one transaction without a session
        # (the web runs them as two requests, each in its own ``DriverUnit``).
        with driver_transaction(engine) as unit:
            request = identity.start_authorization(
                unit,
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
            signin = identity.begin_card_sign_in(unit, request.request_id, binding)
        challenged = time.process_time()
        if quick is None:
            answer = sign_challenge(store, card_number, {"auth": "1234"}, signin.challenge)
        else:
            answer = quick.answer(signin.challenge)
        signed = time.process_time()
        with transaction(engine) as session:
            identity.complete_card_sign_in(session, request.request_id, binding, answer)
        verified = time.process_time()
        with transaction(engine) as session:
            location = identity.decide_consent(
                session, request.request_id, binding, approve=True, scopes=["name"]
            )
        code = parse_qs(urlsplit(location).query)["code"][0]
        if codes is not None:
            codes.append((code, verifier))
            stages["code+token"] += time.process_time() - verified
            continue
        with driver_transaction(engine) as unit:
            identity.exchange_code(
                unit,
                client_id=client_id,
                client_secret=secret,
                auth_method="client_secret_basic",
                code=code,
                redirect_uri=REDIRECT_URI,
                code_verifier=verifier,
            )
        done = time.process_time()
        stages["challenge"] += challenged - started
        stages["card"] += signed - challenged
        stages["verify"] += verified - signed
        stages["code+token"] += done - verified
        raw.run()
    return stages


def run_exchanges(
    engine: Engine, client: tuple[str, str], codes: list[tuple[str, str]], peer: RawSign
) -> float:
    """Seconds for exchanging ``codes``, each in its own transaction, in batches of ten with
    a peer burst after each batch."""
    client_id, secret = client
    seconds = 0.0
    for start in range(0, len(codes), 10):
        started = time.process_time()
        for code, verifier in codes[start : start + 10]:
            with driver_transaction(engine) as unit:
                identity.exchange_code(
                    unit,
                    client_id=client_id,
                    client_secret=secret,
                    auth_method="client_secret_basic",
                    code=code,
                    redirect_uri=REDIRECT_URI,
                    code_verifier=verifier,
                )
        seconds += time.process_time() - started
        peer.run()
    return seconds


def run_verifications(
    engine: Engine, store: CardStore, card_number: str, count: int, raw: RawVerify
) -> float:
    """Seconds for ``count`` verifications of the card's authentication certificate, in
    batches of ten with a raw burst after each batch."""
    der = store.certificate_der(card_number, "auth")
    seconds = 0.0
    with transaction(engine) as session:
        for _ in range(count // 10):
            started = time.process_time()
            for _ in range(10):
                identity.verify_certificate(session, der, kind=identity.CertificateKind.AUTH)
            seconds += time.process_time() - started
            raw.run()
    return seconds


def _row(label: str, rate: float, beside: str = "") -> None:
    print(f"{label:<40} {rate:10,.1f} /s   {beside}")


def _arguments() -> tuple[list[int], str | None]:
    args = sys.argv[1:]
    url = None
    if "--database-url" in args:
        at = args.index("--database-url")
        url = args[at + 1]
        del args[at : at + 2]
    counts = [int(arg) for arg in args] + [50, 2000, 1000][len(args) :]
    return counts, url


def _verify_audit_chain(engine: Engine) -> str:
    """The audit chain after the run, checked as ``kiban audit verify`` checks it."""
    with transaction(engine) as session:
        report = audit.verify(session)
    if not report.ok:
        raise SystemExit(f"the audit chain does not verify: {report.problems[:5]}")
    return f"audit chain: {report.entries} entries, verified"


def main() -> None:
    (sign_ins, verifications, exchanges), url = _arguments()
    with tempfile.TemporaryDirectory() as scratch:
        engine, store, card_number, client = _setup(Path(scratch), url)
        backend = engine.dialect.name
        quick = QuickCard(store, card_number)
        # Warm caches and keys first; each measured phase has its own bound.
        run_sign_ins(engine, store, card_number, client, 2, raw=RawVerify(1))
        run_sign_ins(engine, store, card_number, client, 5, raw=RawVerify(1), quick=quick)
        whole_raw, server_raw = RawVerify(200), RawVerify(20)
        whole = run_sign_ins(engine, store, card_number, client, sign_ins, raw=whole_raw)
        server = run_sign_ins(
            engine, store, card_number, client, 10 * sign_ins, raw=server_raw, quick=quick
        )
        # Codes live for a minute: make them a hundred at a time, just before the exchanges.
        peer = RawSign(5)
        exchange_s = 0.0
        for start in range(0, exchanges, 100):
            codes: list[tuple[str, str]] = []
            run_sign_ins(
                engine,
                store,
                card_number,
                client,
                min(100, exchanges - start),
                raw=RawVerify(1),
                quick=quick,
                codes=codes,
            )
            exchange_s += run_exchanges(engine, client, codes, peer)
        verify_raw = RawVerify(20)
        verify_s = run_verifications(engine, store, card_number, verifications, verify_raw)
        chain = _verify_audit_chain(engine)
        engine.dispose()
    whole_rate = sign_ins / sum(whole.values())
    server_n = 10 * sign_ins
    server_rate = server_n / (sum(server.values()) - server["card"])
    exchange_rate = exchanges / exchange_s
    verify_rate = verifications / verify_s
    print(
        f"sign-ins: {sign_ins} with the reader, {server_n} server sides; token exchanges: "
        f"{exchanges}; certificate verifications: {verifications} ({backend}, in-process, "
        "CPU seconds of this process)"
    )
    _row("raw RSA-2048 verify, beside sign-ins", whole_raw.rate)
    _row("whole sign-ins (with the reader)", whole_rate)
    _row("raw RSA-2048 verify, beside servers", server_raw.rate)
    _row(
        "server side of a sign-in",
        server_rate,
        f"{server_rate / 500:5.2f}x the goal of 500/s; "
        f"{server_raw.rate / server_rate:5.1f}x the raw verify time",
    )
    _row("raw ES256 sign (peer), beside exchanges", peer.rate)
    _row(
        "token exchange (exchange_code)",
        exchange_rate,
        f"{exchange_rate / 2000:5.2f}x the goal of 2,000/s; "
        f"{peer.rate / exchange_rate:5.1f}x the ES256 sign time",
    )
    _row("raw RSA-2048 verify, beside checks", verify_raw.rate)
    _row(
        "card-certificate verification",
        verify_rate,
        f"{verify_raw.rate / verify_rate:5.2f}x the raw verify time (bound: 3x)",
    )
    for stage in server:
        print(f"  server side, {stage:<12} {1000 * server[stage] / server_n:7.3f} ms per sign-in")
    print(chain)


if __name__ == "__main__":
    main()
