"""``kiban seed``: build the synthetic country."""

from __future__ import annotations


def seed() -> None:
    """Seed the synthetic country."""
    raise SystemExit("not yet")
