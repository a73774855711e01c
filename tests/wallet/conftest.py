"""The credentials tests' fixtures (a resident on a tiny register, a client of kiban)."""

from tests.blocks.credentials.conftest import (  # noqa: F401 - pytest finds fixtures by name.
    _fresh_status_cache,
    client,
    resident,
    towns,
)
