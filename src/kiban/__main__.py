"""``python -m kiban`` runs the ``kiban`` command."""

from kiban.cli import main

main()
