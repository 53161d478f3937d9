#!/usr/bin/env python3
"""Smoke test of a Zebrat cluster through its proxy (run by deploy/cluster.sh).

    ZEBRAT_URL=http://127.0.0.1:8080 ENGINES="1234@127.0.0.1:8003 1235@127.0.0.1:8004" \
        python3 deploy/smoke.py

Everything goes through ZEBRAT_URL (the proxy) except reading each engine instance's /health,
which the proxy does not route. Checks: health; register and log in; deposit; the client address the instances record; a tick round and
an `orderUpdates` event over a WebSocket through the proxy; then stops the engine instance
holding the lease (SIGTERM to its pid) and sees another take the lease and ticks continue on
the same socket. Exits non-zero with the reason on the first failure.

Standard library plus `websockets` (pip install websockets).
"""

import asyncio
import json
import os
import signal
import sys
import time
import urllib.error
import urllib.request
import uuid
from datetime import datetime

from websockets.asyncio.client import connect

BASE = os.environ["ZEBRAT_URL"].rstrip("/")
WS_URL = BASE.replace("http://", "ws://", 1).replace("https://", "wss://", 1) + "/graphql/ws"
# "pid@host:port" for each engine-capable instance.
ENGINES = [
    (int(pid), f"http://{addr}")
    for pid, addr in (e.split("@") for e in os.environ["ENGINES"].split())
]
TIMEOUT = float(os.environ.get("SMOKE_TIMEOUT_SECS", "20"))
STARTED = time.monotonic()


class Failed(Exception):
    pass


def step(what):
    print(f"  [{time.monotonic() - STARTED:6.2f}s] {what}", flush=True)


def get_json(url):
    try:
        with urllib.request.urlopen(url, timeout=5) as r:
            return r.status, json.load(r)
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"null")
    except (urllib.error.URLError, OSError, json.JSONDecodeError) as e:
        return None, str(e)


def gql(query, variables=None, token=None, headers=None, payload=None):
    """POSTs one operation; fails on any error. With `payload` (a mutation's field name), also
    on a non-empty `userErrors` of that payload (expected failures are data, not errors)."""
    headers = {"content-type": "application/json", **(headers or {})}
    if token:
        headers["authorization"] = f"Bearer {token}"
    body = json.dumps({"query": query, "variables": variables or {}}).encode()
    request = urllib.request.Request(f"{BASE}/graphql", data=body, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as r:
            result = json.load(r)
    except (urllib.error.URLError, OSError, json.JSONDecodeError) as e:
        raise Failed(f"POST /graphql: {e}") from None
    if result.get("errors"):
        raise Failed(f"{query.split('(')[0]}: {result['errors']}")
    if payload and result["data"][payload]["userErrors"]:
        raise Failed(f"{payload}: {result['data'][payload]['userErrors']}")
    return result["data"]


def leaders():
    """The engine instances that say they hold the lease (each asked directly)."""
    found = []
    for pid, url in ENGINES:
        status, body = get_json(f"{url}/health")
        if status == 200 and body["engine"]["leader"]:
            found.append((pid, url))
    return found


async def wait_for(what, check, timeout=TIMEOUT):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        await asyncio.sleep(0.2)
    raise Failed(f"timed out after {timeout:.0f}s waiting for {what}")


class Socket:
    """A graphql-transport-ws connection: messages routed by subscription id."""

    def __init__(self, ws):
        self.ws = ws

    async def send(self, msg):
        await self.ws.send(json.dumps(msg))

    async def next_for(self, sub_id, timeout=TIMEOUT):
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            try:
                raw = await asyncio.wait_for(self.ws.recv(), left)
            except TimeoutError:
                break
            msg = json.loads(raw)
            if msg.get("type") == "ping":
                await self.send({"type": "pong"})
            elif msg.get("type") in ("error", "complete") and msg.get("id") == sub_id:
                raise Failed(f"subscription {sub_id}: {msg}")
            elif msg.get("type") == "next" and msg.get("id") == sub_id:
                if msg["payload"].get("errors"):
                    raise Failed(f"subscription {sub_id}: {msg['payload']['errors']}")
                return msg["payload"]["data"]
        raise Failed(f"no event on subscription {sub_id} within {timeout:.0f}s")


async def smoke():
    status, health = get_json(f"{BASE}/health")
    if status != 200 or str(health.get("database", {}).get("backend")).lower() != "postgres":
        raise Failed(f"GET /health through the proxy: {status} {health}")
    step(f"health through the proxy: {health['status']}, redis {health['redis']['status']}")

    email = f"smoke-{uuid.uuid4().hex[:12]}@example.com"
    password = "cluster smoke test"
    gql(
        "mutation($i: RegisterInput!) { register(input: $i) { user { id } userErrors { code message } } }",
        {"i": {"email": email, "password": password, "name": "Smoke"}},
        payload="register",
    )
    token = gql(
        "mutation($i: LoginInput!) { login(input: $i) { accessToken userErrors { code message } } }",
        {"i": {"email": email, "password": password}},
        payload="login",
    )["login"]["accessToken"]
    step(f"registered and logged in as {email}")
    cash = gql(
        'mutation { deposit(input: {amount: "1000.00"}) { cash { balance } userErrors { code message } } }',
        token=token,
        payload="deposit",
    )
    if cash["deposit"]["cash"]["balance"] != "1000.00":
        raise Failed(f"deposit: {cash}")
    step("deposited 1000.00")
    stock = gql('{ stock(by: {symbol: "AAPL"}) { id price } }')["stock"]
    if not stock:
        raise Failed("stock(by: {symbol: AAPL}) is null")

    # The client address the instances record is the one NGINX saw, not NGINX's own
    # (cluster.sh makes NGINX connect from 127.0.0.2, the only trusted proxy), and not the
    # X-Forwarded-For a client makes up.
    admin = gql(
        "mutation($i: LoginInput!) { login(input: $i) { accessToken userErrors { code message } } }",
        {"i": {"email": "admin@example.com", "password": "admin123"}},
        payload="login",
    )["login"]["accessToken"]
    gql('mutation { setMarketOverride(input: {open: true, reason: "smoke: client address"}) '
        '{ marketState { isOpen } userErrors { code message } } }',
        token=admin, headers={"x-forwarded-for": "203.0.113.7"}, payload="setMarketOverride")
    audit = gql("{ auditLog(first: 1) { edges { node { action clientAddr } } } }", token=admin)
    entry = audit["auditLog"]["edges"][0]["node"]
    if entry["clientAddr"] != "127.0.0.1":
        raise Failed(f"audit log recorded client address {entry['clientAddr']}, expected 127.0.0.1")
    step(f"client address through the proxy: {entry['clientAddr']} (a forged X-Forwarded-For ignored)")

    async with connect(WS_URL, subprotocols=["graphql-transport-ws"], open_timeout=10) as ws:
        sock = Socket(ws)
        await sock.send({"type": "connection_init", "payload": {"authorization": f"Bearer {token}"}})
        ack = json.loads(await asyncio.wait_for(ws.recv(), TIMEOUT))
        if ack.get("type") != "connection_ack":
            raise Failed(f"connection_init: {ack}")
        # `stocks` is built from the round as the engine instance published it: it crossed Redis.
        await sock.send({"id": "ticks", "type": "subscribe", "payload": {
            "query": 'subscription { ticks(symbols: ["AAPL"]) { seq at stocks { id symbol price } } }'}})
        await sock.send({"id": "orders", "type": "subscribe", "payload": {
            "query": "subscription { orderUpdates { order { id status } } }"}})
        first = (await sock.next_for("ticks"))["ticks"]
        if [s["id"] for s in first["stocks"]] != [stock["id"]]:
            raise Failed(f"ticks for AAPL sent {first}, expected stock {stock['id']}")
        step(f"tick round {first['seq']} over the proxied WebSocket: {first['at']} AAPL {first['stocks'][0]['price']}")

        order = gql(
            "mutation($i: PlaceOrderInput!) { placeOrder(input: $i) "
            "{ order { id status } userErrors { code message } } }",
            {"i": {"stock": {"id": stock["id"]}, "side": "BUY", "quantity": 1}},
            token=token,
            payload="placeOrder",
        )["placeOrder"]["order"]
        if order["status"] != "EXECUTED":
            raise Failed(f"placeOrder: {order}")
        update = (await sock.next_for("orders"))["orderUpdates"]["order"]
        if update["id"] != order["id"]:
            raise Failed(f"orderUpdates sent {update}, expected order {order['id']}")
        step(f"order {order['id']} {order['status']}, and its orderUpdates event arrived")

        def one_leader():
            found = leaders()
            return found if len(found) == 1 else None

        ((leader_pid, leader_url),) = await wait_for("exactly one engine instance leading", one_leader)
        os.kill(leader_pid, signal.SIGTERM)
        stopped, stopped_wall = time.monotonic(), time.time()
        step(f"stopped the leading engine instance (pid {leader_pid}, {leader_url})")
        others = [e for e in ENGINES if e[0] != leader_pid]
        new = await wait_for("another instance to take the lease",
                             lambda: [e for e in leaders() if e in others])
        step(f"lease taken over by {new[0][1]} after {time.monotonic() - stopped:.1f}s")
        # Rounds queued before the stop may still be in flight: wait for one stamped later.
        while True:
            batch = (await sock.next_for("ticks"))["ticks"]
            at = batch["at"].replace("Z", "+00:00")
            if datetime.fromisoformat(at).timestamp() > stopped_wall:
                break
        step(f"ticks continue from the new leader: {batch['at']} AAPL {batch['stocks'][0]['price']} "
             f"({time.monotonic() - stopped:.1f}s after the stop)")
        await sock.send({"id": "ticks", "type": "complete"})
        await sock.send({"id": "orders", "type": "complete"})


def main():
    try:
        asyncio.run(smoke())
    except Failed as e:
        print(f"SMOKE FAILED: {e}", file=sys.stderr)
        return 1
    except Exception as e:  # the socket or the network failing: still a clean failure line
        print(f"SMOKE FAILED: {type(e).__name__}: {e}", file=sys.stderr)
        return 1
    print(f"smoke test passed in {time.monotonic() - STARTED:.1f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
