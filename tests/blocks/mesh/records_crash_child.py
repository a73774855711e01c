"""A process that writes access records from several threads until it is killed.

Usage: ``python records_crash_child.py THREADS``; the database comes from
``KIBAN_DATABASE_URL``. Each thread writes both sides' records of one exchange after another
through the process's :class:`RecordWriter` and prints the exchange's message id once ``write``
has returned — the moment the gateway would release a 2xx. The parent kills this process with
SIGKILL and checks that every printed id is in the database.
"""

from __future__ import annotations

import sys
import threading
import uuid

from kiban.blocks import mesh
from kiban.platform import db
from tests.blocks.mesh.records_support import exchange

_print_lock = threading.Lock()


def _gateway(writer: mesh.RecordWriter, thread: int) -> None:
    person = uuid.uuid4()
    n = 0
    while True:
        message_id = f"t{thread}-{n}"
        writer.write(exchange(person, message_id))
        with _print_lock:
            sys.stdout.write(message_id + "\n")
            sys.stdout.flush()
        n += 1


def main(threads: int) -> None:
    writer = mesh.record_writer(db.get_engine())
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    workers = [
        threading.Thread(target=_gateway, args=(writer, n), daemon=True) for n in range(threads)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()


if __name__ == "__main__":
    main(int(sys.argv[1]))
