"""recorder.py: its file rules on their own, then the program against a live server through a
proxy that drops, refuses and silently freezes its connections, and across kill -9 restarts."""

import csv
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from recorder import TAIL_BLOCK, TickCsv, read_last_times

RECORDER = Path(__file__).resolve().parent.parent / "recorder.py"
START = datetime(2026, 11, 30, 15, 0, tzinfo=timezone.utc)


def batch(seq: int, *symbols: str) -> dict:
    at = (START + timedelta(seconds=seq)).isoformat().replace("+00:00", "Z")
    return {
        "seq": seq,
        "at": at,
        "ticks": [{"symbol": s, "price": f"{100 + seq}.00", "change": "1.00", "changePercent": "1.00"} for s in symbols],
    }


def rows(path: Path) -> list[dict]:
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def check_file(path: Path) -> dict[str, int]:
    """No duplicate and no out-of-order row for any symbol; returns the rows per symbol."""
    last: dict[str, tuple[datetime, int]] = {}
    count: dict[str, int] = {}
    for row in rows(path):
        key = (datetime.fromisoformat(row["at"]), int(row["seq"]))
        previous = last.get(row["symbol"])
        assert previous is None or key > previous, f"{row['symbol']}: {key} after {previous}"
        if previous is not None:
            assert key[1] > previous[1], f"{row['symbol']}: seq {key[1]} after {previous[1]}"
        last[row["symbol"]] = key
        count[row["symbol"]] = count.get(row["symbol"], 0) + 1
    return count


# --- The file rules ---------------------------------------------------------------------------


def test_a_round_already_recorded_or_older_adds_nothing(tmp_path):
    store = TickCsv(tmp_path / "t.csv", ["AAPL", "MSFT"])
    assert store.write_round(batch(1, "AAPL", "MSFT")) == 2
    assert store.write_round(batch(2, "AAPL")) == 1
    assert store.write_round(batch(2, "AAPL")) == 0, "the same round again"
    assert store.write_round(batch(1, "AAPL", "MSFT")) == 0, "an older round"
    assert store.write_round(batch(2, "AAPL", "MSFT")) == 1, "only MSFT is new in round 2"
    store.close()
    assert [(r["seq"], r["symbol"]) for r in rows(tmp_path / "t.csv")] == [
        ("1", "AAPL"),
        ("1", "MSFT"),
        ("2", "AAPL"),
        ("2", "MSFT"),
    ]
    assert store.skipped == 4


def test_a_restart_resumes_after_the_last_row_of_each_symbol(tmp_path):
    path = tmp_path / "t.csv"
    store = TickCsv(path, ["AAPL", "MSFT"])
    # Enough rounds for the tail to span several blocks; MSFT stops early, so finding its
    # last row means reading back across block boundaries.
    store.write_round(batch(1, "AAPL", "MSFT"))
    seq = 2
    while path.stat().st_size < 3 * TAIL_BLOCK:
        store.write_round(batch(seq, "AAPL"))
        seq += 1
    store.close()
    last_aapl = seq - 1

    assert read_last_times(path, {"AAPL", "MSFT", "NVDA"}) == {
        "AAPL": START + timedelta(seconds=last_aapl),
        "MSFT": START + timedelta(seconds=1),
    }
    again = TickCsv(path, ["AAPL", "MSFT", "NVDA"])
    assert again.write_round(batch(last_aapl, "AAPL", "MSFT", "NVDA")) == 2, "MSFT and NVDA are new"
    assert again.write_round(batch(last_aapl, "AAPL")) == 0
    again.close()
    assert rows(path)[0]["symbol"] == "AAPL", "one header, at the top"
    check_file(path)


def test_half_a_row_left_by_a_crash_is_dropped(tmp_path):
    path = tmp_path / "t.csv"
    store = TickCsv(path, ["AAPL"])
    store.write_round(batch(1, "AAPL"))
    store.write_round(batch(2, "AAPL"))
    store.close()
    with open(path, "a") as f:
        f.write("3,2026-11-30T15:00:03Z,AA")  # killed in the middle of a row
    again = TickCsv(path, ["AAPL"])
    assert again.last == {"AAPL": START + timedelta(seconds=2)}
    assert again.write_round(batch(3, "AAPL")) == 1
    again.close()
    assert [r["seq"] for r in rows(path)] == ["1", "2", "3"]


# --- The program against a server ------------------------------------------------------------


class FlakyProxy:
    """A TCP proxy in front of the server that can cut every connection (the peer sees it
    close), refuse new ones for a while (an outage), or freeze the open ones (they stay open
    and swallow everything, like a dead NAT entry: only pings notice)."""

    def __init__(self, target: str):
        parts = urlsplit(target)
        self.target = (parts.hostname, parts.port or 80)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.down = threading.Event()
        self.lock = threading.Lock()
        self.pairs: list[dict] = []
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if self.down.is_set():
                client.close()
                continue
            try:
                upstream = socket.create_connection(self.target)
            except OSError:
                client.close()
                continue
            pair = {"sockets": (client, upstream), "frozen": False}
            with self.lock:
                self.pairs.append(pair)
            threading.Thread(target=self._pump, args=(client, upstream, pair), daemon=True).start()
            threading.Thread(target=self._pump, args=(upstream, client, pair), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket, pair: dict) -> None:
        try:
            while data := source.recv(65536):
                if not pair["frozen"]:
                    sink.sendall(data)
        except OSError:
            pass
        if not pair["frozen"]:
            self._close(pair)

    def _close(self, pair: dict) -> None:
        for s in pair["sockets"]:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()

    def cut(self) -> None:
        with self.lock:
            pairs, self.pairs = self.pairs, []
        for pair in pairs:
            pair["frozen"] = False
            self._close(pair)

    def freeze(self) -> None:
        with self.lock:
            for pair in self.pairs:
                pair["frozen"] = True

    def close(self) -> None:
        self.listener.close()
        self.cut()


class Recorder:
    """recorder.py as a process of its own; its log lines are collected as they come."""

    def __init__(self, url: str, out: Path, symbols: list[str]):
        env = {**os.environ, "ZEBRAT_URL": url, "PYTHONUNBUFFERED": "1"}
        args = [sys.executable, str(RECORDER), "--out", str(out), "--ping-interval", "2", "--max-backoff", "2", *symbols]
        self.process = subprocess.Popen(args, env=env, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
        self.lines: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.process.stderr:
            self.lines.append(line.rstrip())

    def count(self, text: str) -> int:
        return sum(text in line for line in list(self.lines))

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.process.poll() is None:
            self.process.send_signal(sig)
        self.process.wait(timeout=15)


def wait_for(done, seconds: float, what: str, recorder: Recorder | None = None) -> None:
    deadline = time.monotonic() + seconds
    while not done():
        if recorder is not None and recorder.process.poll() is not None:
            pytest.fail(f"the recorder exited ({recorder.process.returncode}) waiting for {what}:\n" + "\n".join(recorder.lines))
        if time.monotonic() > deadline:
            log = "\n".join(recorder.lines) if recorder else ""
            pytest.fail(f"timed out after {seconds} s waiting for {what}\n{log}")
        time.sleep(0.1)


def rounds_in(path: Path) -> int:
    return len({r["seq"] for r in rows(path)}) if path.exists() else 0


def test_the_recorder_survives_drops_outages_frozen_sockets_and_kills(server_url, tmp_path, expect_open):
    symbols = ["AAPL", "MSFT"]
    out = tmp_path / "ticks.csv"
    proxy = FlakyProxy(server_url)
    # Another subscriber to the same feed keeps it running on the server, so a recorder that
    # comes back first gets the feed's latest round again: one it already wrote.
    witness = Recorder(server_url, tmp_path / "witness.csv", symbols)
    recorder = Recorder(proxy.url, out, symbols)
    try:
        # Rounds come only while the market is open.
        wait_for(lambda: rounds_in(out) >= 3, 60 if expect_open else 20, "3 tick rounds (is the market open?)", recorder)

        # 1. The connection is cut just after a round: the recorder is back before the next one
        # and is first sent the round it has (skipped). A round can still slip in between on a
        # busy machine (then the replay is new to it): cut again, a few times at most.
        for cuts in range(1, 6):
            before = rounds_in(out)
            wait_for(lambda: rounds_in(out) > before, 30, "a fresh round", recorder)
            proxy.cut()
            wait_for(lambda: recorder.count("subscribed to") > cuts, 30, "a reconnect after a cut", recorder)
            wait_for(lambda: rounds_in(out) >= before + 3, 30, "rounds after the cut", recorder)
            if recorder.count("already recorded, skipped") >= 1:
                break
        assert recorder.count("already recorded, skipped") >= 1, "\n".join(recorder.lines)

        # 2. An outage: connections refused for a few seconds, retried with backoff.
        before = rounds_in(out)
        proxy.down.set()
        proxy.cut()
        reconnects = recorder.count("reconnecting in")
        wait_for(lambda: recorder.count("reconnecting in") >= reconnects + 3, 30, "failed reconnects during the outage", recorder)
        proxy.down.clear()
        subscribed = recorder.count("subscribed to")
        wait_for(lambda: recorder.count("subscribed to") > subscribed, 30, "a reconnect after the outage", recorder)
        wait_for(lambda: rounds_in(out) >= before + 2, 30, "rounds after the outage", recorder)

        # 3. A frozen connection: open but silent. The unanswered ping gives it away.
        before = rounds_in(out)
        subscribed = recorder.count("subscribed to")
        proxy.freeze()
        wait_for(lambda: recorder.count("No pong received") >= 1, 30, "the unanswered ping", recorder)
        wait_for(lambda: recorder.count("subscribed to") > subscribed, 30, "a reconnect after the freeze", recorder)
        wait_for(lambda: rounds_in(out) >= before + 2, 30, "rounds after the freeze", recorder)

        # 4. kill -9 in the middle of a row, then a restart on the same file.
        recorder.stop(signal.SIGKILL)
        before = rounds_in(out)
        with open(out, "a") as f:
            f.write("999999,2026-11-30T23:59:59Z,AA")
        recorder = Recorder(proxy.url, out, symbols)
        wait_for(lambda: recorder.count("resuming") >= 1, 30, "the restart to read the file's tail", recorder)
        wait_for(lambda: rounds_in(out) >= before + 2, 30, "rounds after the restart", recorder)
        recorder.stop()
        assert recorder.process.returncode == 0, "\n".join(recorder.lines)
        assert recorder.count("dropped a partly written last row") == 1
    finally:
        recorder.stop(signal.SIGKILL)
        witness.stop(signal.SIGKILL)
        proxy.close()

    per_symbol = check_file(out)
    assert set(per_symbol) == set(symbols)
    assert "999999" not in out.read_text()
    check_file(tmp_path / "witness.csv")
