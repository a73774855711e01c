"""A provider running as its own process: ``python -m tests.blocks.mesh.provider_process
KEY_PEM CERT_PEM CA_PEM SERVICE PORT``. It verifies the mesh-signed request against the mesh CA
and answers, signed with its own key, with what it was told."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import uvicorn
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from kiban.blocks import mesh


def handler(request: mesh.ProviderRequest) -> Any:
    return {
        "code": request.agency_code,
        "client": request.client,
        "items": request.items,
        "path": request.path,
        "body": request.body,
    }


def main() -> None:
    key_file, cert_file, ca_file, service, port = sys.argv[1:6]
    key = serialization.load_pem_private_key(Path(key_file).read_bytes(), None)
    if not isinstance(key, ed25519.Ed25519PrivateKey):
        raise SystemExit("an Ed25519 key is needed")
    app = mesh.provider_app(
        {service: handler},
        key=key,
        certificate_pem=Path(cert_file).read_text(),
        ca_pem=Path(ca_file).read_text(),
    )
    uvicorn.run(app, host="127.0.0.1", port=int(port), log_level="warning", access_log=False)


if __name__ == "__main__":
    main()
