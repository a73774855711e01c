"""The SD-JWT format and the status list bits against the specifications' own examples, and
their parsers under arbitrary input."""

from __future__ import annotations

import time

import pytest
from hypothesis import given
from hypothesis import strategies as st
from joserfc.jwk import ECKey

from kiban.platform import sdjwt, status_list


def test_a_disclosure_digest_from_rfc_9901() -> None:
    # RFC 9901 §4.2.3: the digest of the family_name disclosure of its example.
    encoded = "WyI2cU1RdlJMNWhhaiIsICJmYW1pbHlfbmFtZSIsICJNw7ZiaXVzIl0"
    assert sdjwt.digest(encoded) == "uutlBuYeMDyjLLTpf6Jxi7yNkEF35jdyWMn9U7b_RYY"
    parsed = sdjwt.parse_disclosure(encoded)
    assert (parsed.salt, parsed.name, parsed.value) == ("6qMQvRL5haj", "family_name", "Möbius")


def test_the_status_list_example_of_the_draft() -> None:
    # draft-ietf-oauth-status-list §4.1: sixteen 1-bit statuses, bytes 0xB9 0xA3.
    statuses = [1, 0, 0, 1, 1, 1, 0, 1, 1, 1, 0, 0, 0, 1, 0, 1]
    lst = status_list.encode(16, dict(enumerate(statuses)))
    assert lst == "eNrbuRgAAhcBXQ"
    array = status_list.decode(lst)
    assert array == bytes([0xB9, 0xA3])
    assert [status_list.status_at(array, i) for i in range(16)] == statuses


@given(
    bits=st.sampled_from([1, 2, 4, 8]),
    statuses=st.dictionaries(st.integers(0, 999), st.integers(0, 255), max_size=50),
)
def test_status_lists_round_trip(bits: int, statuses: dict[int, int]) -> None:
    fitted = {i: v % (1 << bits) for i, v in statuses.items()}
    array = status_list.decode(status_list.encode(1000, fitted, bits))
    for index in range(1000):
        assert status_list.status_at(array, index, bits) == fitted.get(index, 0)


@given(st.text(max_size=200))
def test_arbitrary_text_is_a_disclosure_or_a_stable_refusal(text: str) -> None:
    reason = None
    try:
        sdjwt.parse_disclosure(text)
    except sdjwt.SdJwtError as exc:
        reason = exc.reason
    assert reason in {None, "disclosure_malformed"}


@given(st.text(max_size=300))
def test_arbitrary_text_splits_or_is_refused(text: str) -> None:
    reason = None
    try:
        sdjwt.split(text)
    except sdjwt.SdJwtError as exc:
        reason = exc.reason
    assert reason in {None, "malformed"}


def test_conceal_then_present_then_unpack() -> None:
    issuer = ECKey.generate_key("P-256", private=True)
    holder = ECKey.generate_key("P-256", private=True)
    claims = {"a": 1, "b": {"c": "x", "d": [1, 2]}}
    concealed, disclosures = sdjwt.conceal(claims, decoys=(2, 2))
    assert len(concealed["_sd"]) == 4  # two claims and two decoys
    token = sdjwt.issue({"alg": "ES256", "typ": "dc+sd-jwt"}, concealed, issuer)
    issued = sdjwt.compact(token, disclosures)
    presented = sdjwt.present(
        issued, holder, disclose=["b"], nonce="n", audience="a", issued_at=int(time.time())
    )
    parts = sdjwt.split(presented)
    _header, payload = sdjwt.peek(parts.issuer_jwt)
    assert sdjwt.unpack(payload, parts.disclosures) == {"b": {"c": "x", "d": [1, 2]}}
    with pytest.raises(sdjwt.SdJwtError) as twice:
        sdjwt.unpack(payload, [*parts.disclosures, parts.disclosures[0]])
    assert twice.value.reason == "disclosure_duplicate"
