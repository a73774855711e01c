"""A gateway process that takes one signed request when told to, for the replay race test.

Usage: ``python replay_race_child.py REQUEST_FILE``; the database and the data directory (the
mesh's keys) come from ``KIBAN_DATABASE_URL`` and ``KIBAN_DATA_DIR``. The process registers
the provider of ``core_support`` in itself, reads the signed request (its token on the first
line, its body on the second), prints ``ready``, waits for a line on stdin and then runs the
request through the gateway as an HTTP request would (its own engine, an idle session, group
commit). It prints the status and the X-Road error (``-`` for none) and whether its provider
was asked.
"""

from __future__ import annotations

import sys
from pathlib import Path

from kiban.blocks import mesh
from kiban.platform import db
from tests.blocks.mesh.core_support import SERVICE, Seen


def main(request_file: str) -> None:
    token, body = Path(request_file).read_text(encoding="utf-8").splitlines()
    seen = Seen()
    mesh.register_provider(SERVICE, seen.handler)
    engine = db.get_engine()
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    sys.stdin.readline()
    with db.session_factory(engine)() as session:
        reply = mesh.exchange(
            session, token=token, body=body.encode(), service=SERVICE, group_commit=True
        )
        session.commit()
    mesh.stop_record_writers()
    sys.stdout.write(f"{reply.status} {reply.error or '-'} {len(seen.requests)}\n")
    sys.stdout.flush()


if __name__ == "__main__":
    main(sys.argv[1])
