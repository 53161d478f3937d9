#!/usr/bin/env python3
"""Tick recorder: follows `ticks(symbols:)` over graphql-ws with the `gql` library and appends
one CSV row per stock per tick round. When the socket drops (a restart of the server, a
network cut, a connection that silently stopped answering pings) it reconnects with
exponential backoff and subscribes again. It never writes a duplicate or an out-of-order
row: it keeps the last round's time per symbol, and on start reads it back from the end of
the file, so it can be stopped (even killed) and started again on the same file.

    ZEBRAT_URL=http://localhost:8000 python recorder.py --out ticks.csv AAPL MSFT NVDA

Columns: seq (the round's number), at (the round's time, RFC 3339 UTC), symbol, price,
change, change_percent. Amounts are written exactly as the server sent them.
"""

import argparse
import asyncio
import csv
import io
import logging
import os
import random
import signal
import sys
from datetime import datetime
from pathlib import Path

from gql import Client, GraphQLRequest
from gql.transport.exceptions import TransportError, TransportQueryError
from gql.transport.websockets import WebsocketsTransport
from websockets.exceptions import WebSocketException

from common import ws_url

log = logging.getLogger("recorder")

TICKS = """
subscription Ticks($symbols: [String!]) {
  ticks(symbols: $symbols) {
    seq
    at
    ticks { symbol price change changePercent }
  }
}
"""

COLUMNS = ["seq", "at", "symbol", "price", "change", "change_percent"]
TAIL_BLOCK = 64 * 1024


def parse_time(text: str) -> datetime:
    return datetime.fromisoformat(text)


class TickCsv:
    """The CSV file, and the last round's time it holds for each symbol."""

    def __init__(self, path: Path, symbols: list[str]):
        self.path = Path(path)
        self.last: dict[str, datetime] = {}
        self.skipped = 0
        self._repair()
        self.last = read_last_times(self.path, set(symbols))
        new = not self.path.exists() or self.path.stat().st_size == 0
        self.file = open(self.path, "a", newline="", encoding="utf-8")
        if new:
            self.file.write(",".join(COLUMNS) + "\n")
            self.file.flush()

    def _repair(self) -> None:
        """A recorder killed in the middle of a write can leave half a row: drop it (that
        round is recorded again only if it comes again, which a live feed never does)."""
        if not self.path.exists():
            return
        with open(self.path, "rb+") as f:
            size = f.seek(0, os.SEEK_END)
            if size == 0:
                return
            f.seek(size - 1)
            if f.read(1) == b"\n":
                return
            end = size
            while end > 0:
                start = max(0, end - TAIL_BLOCK)
                f.seek(start)
                newline = f.read(end - start).rfind(b"\n")
                if newline >= 0:
                    f.truncate(start + newline + 1)
                    log.warning("dropped a partly written last row of %s", self.path)
                    return
                end = start
            f.truncate(0)

    def write_round(self, batch: dict) -> int:
        """Appends the round's rows that are newer than what the file holds for their symbol;
        returns how many. A round already recorded, or older than the last one, adds nothing."""
        at = parse_time(batch["at"])
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        written = 0
        for tick in batch["ticks"]:
            symbol = tick["symbol"]
            last = self.last.get(symbol)
            if last is not None and at <= last:
                self.skipped += 1
                continue
            writer.writerow([batch["seq"], batch["at"], symbol, tick["price"], tick["change"], tick["changePercent"]])
            self.last[symbol] = at
            written += 1
        if written:
            # One write and a flush per round: a crash loses at most the round being written.
            self.file.write(out.getvalue())
            self.file.flush()
        return written

    def close(self) -> None:
        self.file.close()


def read_last_times(path: Path, symbols: set[str]) -> dict[str, datetime]:
    """The last `at` of each of `symbols` in the CSV, read backwards from its end in blocks:
    a long file costs only its last rounds (all of it only for a symbol that is not in it)."""
    last: dict[str, datetime] = {}
    if not path.exists():
        return last
    with open(path, "rb") as f:
        end = f.seek(0, os.SEEK_END)
        carry = b""
        while end > 0 and len(last) < len(symbols):
            start = max(0, end - TAIL_BLOCK)
            f.seek(start)
            chunk = f.read(end - start) + carry
            lines = chunk.split(b"\n")
            # The first piece may be the end of a line that starts in the block before.
            carry = lines.pop(0) if start > 0 else b""
            for line in reversed(lines):
                _take(line, symbols, last)
            end = start
        if carry:
            _take(carry, symbols, last)
    return last


def _take(line: bytes, symbols: set[str], last: dict[str, datetime]) -> None:
    if not line or line.startswith(b"seq,"):
        return
    row = next(csv.reader([line.decode("utf-8")]))
    symbol = row[2]
    if symbol in symbols and symbol not in last:
        last[symbol] = parse_time(row[1])


class Backoff:
    """Exponential backoff with full jitter: 0.5 s, 1 s, 2 s, … up to `maximum`, each delay a
    random fraction of that, so many recorders do not reconnect in lockstep after an outage."""

    def __init__(self, initial: float = 0.5, maximum: float = 30.0):
        self.initial = initial
        self.maximum = maximum
        self.attempt = 0

    def next_delay(self) -> float:
        ceiling = min(self.maximum, self.initial * 2**self.attempt)
        self.attempt += 1
        return random.uniform(ceiling / 2, ceiling)

    def reset(self) -> None:
        self.attempt = 0


async def record(
    symbols: list[str],
    out: Path,
    *,
    rows: int | None = None,
    ping_interval: float = 10.0,
    max_backoff: float = 30.0,
) -> int:
    """Records until `rows` new rows are written (forever when None); returns how many."""
    store = TickCsv(out, symbols)
    if store.last:
        log.info("resuming %s after %s", out, ", ".join(f"{s} {t.isoformat()}" for s, t in sorted(store.last.items())))
    backoff = Backoff(maximum=max_backoff)
    request = GraphQLRequest(TICKS, variable_values={"symbols": symbols})
    total = 0
    last_seq: int | None = None
    try:
        while True:
            transport = WebsocketsTransport(
                url=ws_url(),
                subprotocols=[WebsocketsTransport.GRAPHQLWS_SUBPROTOCOL],
                # graphql-transport-ws pings: a connection that stopped answering (a dead NAT
                # entry, a frozen peer) is given up after `pong_timeout` instead of hanging.
                ping_interval=ping_interval,
                pong_timeout=ping_interval / 2,
                connect_timeout=10,
                close_timeout=2,
            )
            try:
                async with Client(transport=transport) as session:
                    log.info("subscribed to %s at %s", ",".join(symbols), ws_url())
                    async for data in session.subscribe(request):
                        batch = data["ticks"]
                        backoff.reset()
                        if last_seq is not None and batch["seq"] > last_seq + 1:
                            log.warning("missed %d tick rounds (#%d to #%d)", batch["seq"] - last_seq - 1, last_seq + 1, batch["seq"] - 1)
                        last_seq = batch["seq"]
                        skipped = store.skipped
                        total += store.write_round(batch)
                        if store.skipped > skipped:
                            # A subscriber joining a running feed first gets its latest round:
                            # after a quick reconnect, one already written.
                            log.info("round #%d: %d rows already recorded, skipped", batch["seq"], store.skipped - skipped)
                        if rows is not None and total >= rows:
                            return total
                log.warning("the server ended the subscription")
            except TransportQueryError:
                raise  # the server refused the subscription itself (an unknown symbol): retrying cannot help
            except (TransportError, WebSocketException, OSError, asyncio.TimeoutError) as error:
                log.warning("connection lost: %s", error or type(error).__name__)
            delay = backoff.next_delay()
            log.info("reconnecting in %.1f s", delay)
            await asyncio.sleep(delay)
    finally:
        if store.skipped:
            log.info("skipped %d rows already recorded", store.skipped)
        store.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("symbols", nargs="*", default=["AAPL", "MSFT", "NVDA"], help="ticker symbols (default: AAPL MSFT NVDA)")
    parser.add_argument("--out", type=Path, default=Path("ticks.csv"), help="the CSV file to append to (default: ticks.csv)")
    parser.add_argument("--rows", type=int, help="stop after this many new rows (default: run until stopped)")
    parser.add_argument("--ping-interval", type=float, default=10.0, help="seconds between pings (default: 10)")
    parser.add_argument("--max-backoff", type=float, default=30.0, help="longest wait between reconnects (default: 30)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s", stream=sys.stderr)

    async def run() -> int:
        task = asyncio.current_task()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, task.cancel)  # rows are written whole between awaits
        return await record(
            [s.upper() for s in args.symbols],
            args.out,
            rows=args.rows,
            ping_interval=args.ping_interval,
            max_backoff=args.max_backoff,
        )

    try:
        total = asyncio.run(run())
    except asyncio.CancelledError:
        log.info("stopped")
        return 0
    except TransportQueryError as error:
        log.error("the server refused the subscription: %s", error)
        return 1
    log.info("wrote %d rows to %s", total, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
