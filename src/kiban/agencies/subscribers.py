"""The agencies' side of the mesh in every kiban process.

Provider and delivery-handler registrations live in the process, not in the database, so each
process that answers exchanges or delivers events must make them. ``events.load_subscribers()``
imports every ``subscribers`` module — the web app at start-up, ``kiban events work`` and the
other CLI workers — and importing this one serves the reference agencies' data services and the
register's basic-four service, and registers the agencies' address-change handlers.
"""

from __future__ import annotations

from kiban.agencies import physician
from kiban.agencies.wiring import install

install()
physician.install()
