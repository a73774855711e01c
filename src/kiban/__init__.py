"""Kiban (基盤): Japan's national–local common digital infrastructure.

The package is layered; see ``docs/architecture.md``: ``kernel`` (pure code) under ``platform``
(shared infrastructure) under ``blocks`` (common building blocks) under ``life_events`` and
``agencies`` under ``web`` and ``cli``.
"""

__version__ = "0.1.0"
