"""Event topics and audit tags of the address registry."""

from __future__ import annotations

ABR_LOADED = "address.abr_loaded"
"""An Address Base Registry file was loaded; the payload says which kind and what changed."""

AUDIT_ABR_LOADED = "address:abr:loaded"
