"""The credentials tests' fixtures (a resident, a holder key, an issued credential, a client)."""

from tests.blocks.credentials.conftest import (  # noqa: F401 - pytest finds fixtures by name.
    _fresh_status_cache,
    client,
    holder_key,
    issued,
    resident,
    towns,
)
