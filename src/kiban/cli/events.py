"""``kiban events``: deliver, relay and inspect the outbox."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import typer
from rich.console import Console
from rich.table import Table

from kiban.blocks.mesh import DeliveryRetrier
from kiban.platform import events as bus
from kiban.platform import nats_relay
from kiban.platform.db import get_engine, session_factory
from kiban.platform.settings import get_settings

app = typer.Typer(no_args_is_help=True, help="Events: outbox relay, consumers and status.")


@contextmanager
def _stream_checked() -> Iterator[None]:
    """Say exactly what is wrong with the stream at start, instead of NATS's bare error."""
    try:
        yield
    except nats_relay.StreamConflict as exc:
        Console(stderr=True, soft_wrap=True).print(
            f"JetStream のストリームを用意できません。/ Cannot set up the JetStream stream: {exc}",
            markup=False,
        )
        raise typer.Exit(2) from exc


# How long a long-running relay or worker waits before it tries again after losing NATS or the
# database (a node or PostgreSQL restarting); the work waits in the outbox or the stream.
RETRY_SECONDS = 1.0


def _until_stopped(run: Callable[[], int], what: str, *, once: bool) -> int:
    """Run ``run``; when it is long-running (not ``once``), start it again after a lost
    connection instead of exiting, so a restart of NATS or PostgreSQL needs no supervisor.

    A misconfigured stream is not transient and still stops the process."""
    err = Console(stderr=True, soft_wrap=True)
    while True:
        try:
            return run()
        except nats_relay.StreamConflict:
            raise
        except Exception as exc:
            if once:
                raise
            err.print(
                f"{what}: connection lost ({type(exc).__name__}: {exc}); "
                f"retrying in {RETRY_SECONDS:g} s / 接続が切れました。再試行します",
                markup=False,
            )
            time.sleep(RETRY_SECONDS)


@app.command("relay")
def relay(
    once: bool = typer.Option(False, "--once", help="Publish what is pending, then stop."),
) -> None:
    """Publish pending outbox events to NATS JetStream (KIBAN_EVENTS_URL=nats://…)."""
    if not get_settings().events_url:
        Console(stderr=True, soft_wrap=True).print(
            "KIBAN_EVENTS_URL is empty: events are delivered in-process; "
            "use `kiban events work` to deliver what is pending. / "
            "KIBAN_EVENTS_URL が空なので、イベントはプロセス内で配送されます。"
            "未配送のものは `kiban events work` で配送してください。"
        )
        raise typer.Exit(2)
    with _stream_checked():
        published = _until_stopped(
            lambda: nats_relay.relay(get_engine(), once=once), "relay", once=once
        )
    Console(stderr=True).print(f"published {published} event(s)")


@app.command("work")
def work(
    once: bool = typer.Option(False, "--once", help="Handle what is waiting, then stop."),
    poll: float = typer.Option(1.0, help="Seconds between passes (in-process mode)."),
    ack_wait: float = typer.Option(
        30.0,
        min=1.0,
        help="Seconds JetStream waits for a handler's acknowledgement before it delivers the "
        "message again (a worker that died mid-handler).",
    ),
) -> None:
    """Run every subscriber: JetStream durable consumers, or in-process delivery of the
    outbox (retries and events a crash left behind) when KIBAN_EVENTS_URL is empty; and retry
    the mesh's failed subscription deliveries whose back-off has passed."""
    bus.load_subscribers()
    engine = get_engine()
    err = Console(stderr=True)
    retrier = DeliveryRetrier(engine)
    if once:
        retrier.tick()
    else:
        retrier.start()
    try:
        if get_settings().events_url:
            with _stream_checked():
                handled = _until_stopped(
                    lambda: nats_relay.work(engine, once=once, ack_wait=ack_wait), "work", once=once
                )
            err.print(f"handled {handled} message(s)")
            return
        total = 0
        while True:
            total += bus.deliver_pending(engine)
            if once:
                break
            time.sleep(poll)
        err.print(f"delivered {total} event(s)")
    finally:
        retrier.stop()
        retried = retrier.delivered
        err.print(f"retried {retried} mesh deliver{'y' if retried == 1 else 'ies'}")


@app.command("status")
def status() -> None:
    """Count events per topic: pending, delivered, published, dead."""
    with session_factory(get_engine())() as session:
        rows = bus.status_counts(session)
    table = Table("topic", "pending", "delivered", "published", "dead", "dead deliveries")
    for row in rows:
        table.add_row(
            row.topic,
            str(row.pending),
            str(row.delivered),
            str(row.published),
            str(row.dead),
            str(row.dead_consumer_deliveries),
        )
    console = Console()
    console.print(table)
    console.print(
        f"{sum(r.pending for r in rows)} pending, {sum(r.dead for r in rows)} dead, "
        f"{len(rows)} topic(s)"
    )
