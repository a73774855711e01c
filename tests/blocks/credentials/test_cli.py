"""``kiban credentials issue`` and ``offer``."""

from __future__ import annotations

import json
from pathlib import Path

from joserfc.jwk import ECKey
from jwcrypto.jwk import JWK
from sd_jwt.verifier import SDJWTVerifier
from typer.testing import CliRunner

from kiban.blocks import credentials, residents
from kiban.cli import app
from kiban.platform import sdjwt

runner = CliRunner()


def test_issue_writes_a_credential_for_the_holder_key_file(
    tmp_path: Path, resident: residents.PersonRead, holder_key: ECKey
) -> None:
    key_file = tmp_path / "holder.jwk"
    key_file.write_text(json.dumps(holder_key.as_dict(private=False)))
    out = tmp_path / "resident.sd-jwt"
    result = runner.invoke(
        app,
        ["credentials", "issue", "--person-id", str(resident.id), "--type", "resident",
         "--holder-key", str(key_file), "--out", str(out)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    printed = json.loads(result.stdout)
    assert printed["type"] == "resident"
    written = out.read_text()
    assert written.endswith("~")
    _header, payload = sdjwt.peek(sdjwt.split(written).issuer_jwt)
    assert payload["cnf"]["jwk"] == holder_key.as_dict(private=False)
    # An independent verifier reads every claim with the published key.
    issuer_key = JWK.from_json(json.dumps(credentials.issuer_public_jwk()))
    claims = SDJWTVerifier(written, lambda _i, _h: issuer_key).get_verified_payload()
    assert claims["given_name"] == "花子"


def test_issue_refuses_a_private_key_file_and_names_the_field(
    tmp_path: Path, resident: residents.PersonRead, holder_key: ECKey
) -> None:
    key_file = tmp_path / "holder.jwk"
    key_file.write_text(json.dumps(holder_key.as_dict(private=True)))
    out = tmp_path / "resident.sd-jwt"
    result = runner.invoke(
        app,
        ["credentials", "issue", "--person-id", str(resident.id),
         "--holder-key", str(key_file), "--out", str(out)],
    )  # fmt: skip
    assert result.exit_code == 1
    assert "(holder_key)" in result.stderr
    assert not out.exists()


def test_offer_prints_the_link_and_the_transaction_code(resident: residents.PersonRead) -> None:
    result = runner.invoke(app, ["credentials", "offer", "--person-id", str(resident.id)])
    assert result.exit_code == 0, result.output
    printed = json.loads(result.stdout)
    assert printed["offer_uri"].startswith("openid-credential-offer://?credential_offer=")
    assert len(printed["tx_code"]) == 6
