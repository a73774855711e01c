"""The OpenAPI document is the contract: schemathesis checks every operation against it.

For each operation of ``/openapi.json``, schemathesis generates requests from the document
(valid ones, and invalid ones to see them refused), sends them to the application on a fresh
migrated database, and runs every check it has (``--checks all``): no server error, only
documented status codes, content types and headers, bodies matching their schemas, data valid
by the schema accepted and invalid data refused, an ``Allow`` header on 405s, credentials that
matter. It runs once per caller: without credentials and with each caller's API key
(:func:`credentials`). The number of examples is bounded and the seed fixed, so the run is
repeatable and takes about a minute per caller.

Nothing is excluded: every operation is tested, with every check.
"""

from __future__ import annotations

import os
import warnings
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis.errors import Unsatisfiable

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    import schemathesis
    from schemathesis import Case, GenerationMode
    from schemathesis.config import SchemathesisConfig
    from schemathesis.core.failures import FailureGroup
    from schemathesis.specs.openapi.checks import positive_data_acceptance

from kiban.platform import throttle
from kiban.platform.settings import get_settings
from kiban.web import create_app
from tests.staff_support import admin_key, municipality_key

pytestmark = pytest.mark.slow

# A deeper run: KIBAN_TEST_CONTRACT_EXAMPLES=100 pytest tests/web/test_api_contract.py
MAX_EXAMPLES = int(os.environ.get("KIBAN_TEST_CONTRACT_EXAMPLES", "8"))
SEED = 2026

# The OCSP responder takes a DER request (RFC 6960): bytes, sent as bytes.
schemathesis.serializer.alias("application/ocsp-request", "application/octet-stream")


@pytest.fixture(params=["anonymous", "operator administrator", "municipality"])
def credentials(
    request: pytest.FixtureRequest, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> dict[str, dict[str, str]]:
    """The credentials of one caller, per security scheme of the document: nobody's, a key of
    kiban's operator administrator (relying parties, corporations, staff, mesh metrics), or a
    key of a municipality's approval service account (Chiyoda, 131016: the resident register,
    registration tasks).

    The only place the test's credentials are built. schemathesis sends them where the
    document says an operation takes them (``ApiKey``; ``OperatorToken`` only bootstraps the
    first administrator), and leaves them out where a negative case drops them.
    """
    if request.param == "anonymous":
        return {}
    token = "dev-only-change-me"  # noqa: S105 - the development operator token.
    monkeypatch.setenv("KIBAN_OPERATOR_TOKEN", token)
    get_settings.cache_clear()
    key = admin_key() if request.param == "operator administrator" else municipality_key("131016")
    return {"ApiKey": {"bearer": key}, "OperatorToken": {"bearer": token}}


def _failures_of(operation: Any, mode: GenerationMode) -> list[str]:
    """Run ``operation`` with up to ``MAX_EXAMPLES`` generated requests; the failures found."""
    failures: list[str] = []

    @seed(SEED)
    @settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(operation.as_strategy(generation_mode=mode))
    def run(case: Case) -> None:
        if failures:  # One report per operation and mode is enough.
            return
        # The fuzzer is one caller sending many wrong credentials on purpose; the throttle
        # (tested in tests/platform/test_throttle.py) would lock it out and answer 429 to the
        # cases after. Each case starts with a clean slate.
        throttle.reset_all()
        semantic = operation.label in SEMANTIC_RULES
        try:
            response = case.call()
            case.validate_response(
                response,
                excluded_checks=[positive_data_acceptance] if semantic else [],
            )
            if semantic and mode is GenerationMode.POSITIVE and response.status_code == 422:
                assert response.json()["error"]["field"], response.text
        except (AssertionError, FailureGroup) as error:
            failures.append(f"{mode} {operation.label}: {str(error)[:1500]}")

    try:
        run()
    except Unsatisfiable:
        # Only for NEGATIVE on an operation that takes nothing (no parameter, no body): there
        # is no invalid request to make. Asserted below, so it cannot hide anything else.
        assert mode is GenerationMode.NEGATIVE, operation.label
    return failures


# Operations whose input has a rule JSON Schema cannot state, so a request valid by the
# document may still be refused with 422 naming the field (Unprocessable Content). For these
# only, "valid data is accepted" is replaced by "a refusal names its field"; every other check
# runs as for the rest.
SEMANTIC_RULES: dict[str, str] = {
    "POST /credentials/token": "the pre-authorized code and its transaction code must be a live "
    "offer's (OpenID4VCI §6)",
    "POST /api/v1/credentials/verify": "the presentation must be an SD-JWT this issuer signed, "
    "with its key binding",
    "POST /api/v1/credentials/presentation-requests": "credential types are a registry (data), "
    "read at run time",
    "POST /api/v1/credentials/presentation-responses/verify": "the request must be a DCQL query "
    "kiban made, and the answer a presentation to it",
    "POST /credentials/verifiers/{name}/response": "the state must be a live stored request's "
    "of that relying party, and the vp_token a presentation to it (OpenID4VP direct_post)",
    "POST /api/v1/corporations": "the corporate number's check digit; the head office and the "
    "representative's address must name a town of the address registry",
    "GET /api/v1/corporations/{corporate_number}": "the corporate number's check digit",
    "GET /api/v1/residents": "a caller that is not a municipality (kiban's operator) must "
    "name the municipality",
    "POST /api/v1/residents": "the address must name a town of the registry; no future dates",
    "POST /api/v1/residents/{person_id}/move-in": "the address must name a town of the "
    "registry (placed first: the destination municipality is the one that may act)",
    "POST /api/v1/residents/births": "no future birth date",
    "POST /api/v1/identity/clients": "redirect URIs on several hosts need a sector identifier",
    "POST /api/v1/identity/sectors": "each redirect URI is listed once and passes the same "
    "checks as a client's (check_redirect_uri)",
    "PUT /api/v1/identity/sectors/{sector_identifier}": "as POST, and the URIs its clients "
    "use stay listed",
}


def test_the_api_keeps_its_contract(
    database_url: str, credentials: dict[str, dict[str, str]]
) -> None:
    app = create_app()
    config = SchemathesisConfig.from_dict({"auth": {"openapi": credentials}} if credentials else {})
    api = schemathesis.openapi.from_asgi("/openapi.json", app, config=config)
    failures: list[str] = []
    operations = 0
    for result in api.get_all_operations():
        operation = result.ok()
        operations += 1
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            failures.extend(_failures_of(operation, mode))
    documented = sum(
        method in ("get", "put", "post", "delete", "patch", "options", "head")
        for path in app.openapi()["paths"].values()
        for method in path
    )
    assert operations == documented
    assert failures == [], "\n\n".join(failures)
