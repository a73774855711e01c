"""Public HTTP of the card PKI under ``/pki``: CA certificates, CRLs and the OCSP responder.

Anyone may fetch these (relying parties, ``openssl``), so every route is public. Paths are the
ones card certificates carry in their CRL distribution point and AIA extensions.
"""

from __future__ import annotations

import base64
import binascii
from enum import StrEnum
from typing import Annotated

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from fastapi import APIRouter, Depends, Request, Response
from fastapi import Path as PathParam
from fastapi.concurrency import run_in_threadpool

from kiban.blocks.identity import ocsp, pki
from kiban.blocks.identity.models import CertificateKind
from kiban.platform.webkit import DbSession, public

router = APIRouter(prefix="/pki", tags=["pki"], dependencies=[Depends(public)])

PEM = "application/x-pem-file"
DER_CERT = "application/pkix-cert"
CRL = "application/pkix-crl"
OCSP_REQUEST = "application/ocsp-request"
OCSP_RESPONSE = "application/ocsp-response"


class CaName(StrEnum):
    root = "root"
    auth = "auth"
    signing = "signing"


def _ca_certificate(name: CaName) -> x509.Certificate:
    return pki.get_ca(name.value).certificate


@router.get(
    "/ca/{name}.pem",
    summary="A CA certificate (PEM)",
    response_class=Response,
    responses={200: {"content": {PEM: {}}}},
)
def ca_pem(name: CaName) -> Response:
    """The certificate of the root CA, the authentication CA or the signing CA, PEM."""
    pem = _ca_certificate(name).public_bytes(serialization.Encoding.PEM)
    return Response(pem, media_type=PEM)


@router.get(
    "/ca/{name}.crt",
    summary="A CA certificate (DER)",
    response_class=Response,
    responses={200: {"content": {DER_CERT: {}}}},
)
def ca_der(name: CaName) -> Response:
    """The certificate of the root CA, the authentication CA or the signing CA, DER (the AIA
    caIssuers URL of card certificates)."""
    der = _ca_certificate(name).public_bytes(serialization.Encoding.DER)
    return Response(der, media_type=DER_CERT)


@router.get(
    "/crl/{kind}.crl",
    summary="Certificate revocation list (DER)",
    response_class=Response,
    responses={200: {"content": {CRL: {}}}},
)
def crl(kind: CertificateKind, session: DbSession) -> Response:
    """The current CRL of the CA issuing ``kind`` certificates, signed by it, DER; it lists
    every revoked, unexpired certificate of that kind with its reason."""
    return Response(ocsp.build_crl(session, kind), media_type=CRL)


@router.post(
    "/ocsp/{kind}",
    summary="OCSP responder (POST)",
    response_class=Response,
    responses={200: {"content": {OCSP_RESPONSE: {}}}},
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {OCSP_REQUEST: {"schema": {"type": "string", "format": "binary"}}},
        }
    },
)
async def ocsp_post(kind: CertificateKind, request: Request, session: DbSession) -> Response:
    """RFC 6960 over HTTP POST: a DER OCSPRequest in, a DER OCSPResponse signed by the CA out.
    Errors are OCSP response statuses (malformedRequest, unauthorized), always HTTP 200."""
    body = await request.body()
    answer = await run_in_threadpool(ocsp.respond, session, kind, body)
    return Response(answer, media_type=OCSP_RESPONSE)


@router.get(
    "/ocsp/{kind}/{request_b64:path}",
    summary="OCSP responder (GET)",
    response_class=Response,
    responses={200: {"content": {OCSP_RESPONSE: {}}}},
)
def ocsp_get(
    kind: CertificateKind,
    request_b64: Annotated[str, PathParam(description="The DER OCSPRequest, base64 (URL-encoded)")],
    session: DbSession,
) -> Response:
    """RFC 6960 Appendix A.1 over HTTP GET: the base64 of the DER OCSPRequest in the path."""
    try:
        der = base64.b64decode(request_b64, validate=True)
    except (binascii.Error, ValueError):
        der = b""
    return Response(ocsp.respond(session, kind, der), media_type=OCSP_RESPONSE)
