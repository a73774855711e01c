"""SD-JWT VC verification: kiban's verifier beside the `sd-jwt` reference library (OpenWallet
Foundation) on the same presentations, in the same run.

Run: ``.venv/bin/python bench/bench_credentials.py [SECONDS] [CREDENTIALS]`` (default 5, 50).

A fresh SQLite file gets a tiny register; ``CREDENTIALS`` residents each get a ``resident``
credential bound to a key of their own, and each presents ``age_over_20`` and the address (six
disclosures, the address's recursive) with a KB-JWT. Then, round-robin over those
presentations, for ``SECONDS`` each:

- **kiban**: ``credentials.verify_presentation``: form, issuer signature, ``vct``, validity,
  every disclosure against its digest, the KB-JWT (holder signature, ``sd_hash``, nonce,
  audience, ``iat``) and the status (from the status list cache, as a verifier between two
  publications);
- **reference**: ``SDJWTVerifier(...).get_verified_payload()`` with the issuer key: signature,
  disclosures and the KB-JWT (it checks neither validity nor status, so it does less).

The two run in alternating rounds, each timed in CPU seconds of this process (the machine is
shared); the figures are verifications per CPU-second of each and the ratio kiban / reference
(the goal of issue 17 is at least 1.5).
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from joserfc.jwk import ECKey
from jwcrypto.jwk import JWK
from sd_jwt.verifier import SDJWTVerifier
from sqlalchemy.orm import Session

from kiban.blocks import credentials, residents
from kiban.platform import migrate, sdjwt
from kiban.platform.db import make_engine
from kiban.platform.settings import get_settings

NONCE = "bench-nonce-0123456789"
AUDIENCE = "https://shop.example.jp"


def _rates(
    seconds: float,
    items: list[str],
    first: Callable[[str], object],
    second: Callable[[str], object],
) -> tuple[float, float]:
    """Verifications per CPU-second of each, in alternating rounds over ``items`` until each
    has had ``seconds`` of CPU: the machine is shared, so both see the same load, and CPU time
    leaves out the time other processes hold the cores."""
    spent = [0.0, 0.0]
    done = [0, 0]
    while min(spent) < seconds:
        for which, verify in enumerate((first, second)):
            started = time.process_time()
            for item in items:
                verify(item)
            spent[which] += time.process_time() - started
            done[which] += len(items)
    return done[0] / spent[0], done[1] / spent[1]


def main(seconds: float, count: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["KIBAN_DATA_DIR"] = tmp
        get_settings.cache_clear()
        url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        migrate.upgrade(url)
        engine = make_engine(url)
        with Session(engine) as session:
            residents.seed_population(session, size="tiny", seed=2026)
            session.commit()
        presentations = []
        with Session(engine) as session:
            people = residents.list_people(session, limit=count)
            for person in people:
                key = ECKey.generate_key("P-256", private=True)
                issued = credentials.issue_credential(
                    session,
                    person_id=person.id,
                    credential_type="resident",
                    holder_jwk=key.as_dict(private=False),
                    actor="bench",
                )
                presentations.append(
                    sdjwt.present(
                        issued.credential,
                        key,
                        disclose=["age_over_20", "address"],
                        nonce=NONCE,
                        audience=AUDIENCE,
                        issued_at=int(time.time()),
                    )
                )
            session.commit()
        issuer_key = JWK.from_json(json.dumps(credentials.issuer_public_jwk()))

        with Session(engine) as session:

            def kiban(presentation: str) -> object:
                return credentials.verify_presentation(
                    session, presentation, nonce=NONCE, audience=AUDIENCE
                ).claims

            def reference(presentation: str) -> object:
                return SDJWTVerifier(
                    presentation,
                    lambda _iss, _header: issuer_key,
                    expected_aud=AUDIENCE,
                    expected_nonce=NONCE,
                ).get_verified_payload()

            # Both must accept every presentation and agree on what was disclosed.
            for presentation in presentations:
                ours, theirs = kiban(presentation), reference(presentation)
                if not isinstance(ours, dict) or not isinstance(theirs, dict):
                    raise SystemExit("a verifier answered no claims")
                if (ours["address"], ours["age_over_20"]) != (
                    theirs["address"],
                    theirs["age_over_20"],
                ):
                    raise SystemExit("the verifiers disagree")
            ours_rate, theirs_rate = _rates(seconds, presentations, kiban, reference)
        print(f"presentations: {len(presentations)} (6 disclosures each, KB-JWT)")
        print(f"kiban verify_presentation:   {ours_rate:8.0f} /CPU-s")
        print(f"sd-jwt SDJWTVerifier:        {theirs_rate:8.0f} /CPU-s")
        print(f"ratio kiban / reference:     {ours_rate / theirs_rate:8.2f}x")
        engine.dispose()


if __name__ == "__main__":
    main(
        float(sys.argv[1]) if len(sys.argv) > 1 else 5.0,
        int(sys.argv[2]) if len(sys.argv) > 2 else 50,
    )
