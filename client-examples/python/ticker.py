#!/usr/bin/env python3
"""Live ticker: logs in over HTTP, shows the stocks' prices, then follows ticks and the market state
over WebSocket, speaking the graphql-transport-ws protocol by hand. Exits after COUNT batches.

    ZEBRAT_URL=http://localhost:8000 COUNT=5 SYMBOLS=AAPL,MSFT,NVDA python ticker.py
"""

import asyncio
import json
import os
import sys
import urllib.error
import urllib.request
from datetime import datetime
from pathlib import Path

from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, WebSocketException

BASE = os.environ.get("ZEBRAT_URL", "http://localhost:8000").rstrip("/")
COUNT = int(os.environ.get("COUNT", "5"))
SYMBOLS = os.environ.get("SYMBOLS", "AAPL,MSFT,NVDA").split(",")
# Every document lives in ../operations, so all the examples send the same schema-checked text.
OPERATIONS = Path(__file__).resolve().parent.parent / "operations"


class ApiError(Exception):
    pass


def op(name):
    return (OPERATIONS / f"{name}.graphql").read_text()


def format_errors(errors):
    # GraphQL errors carry their code in `extensions.code`; a payload's `userErrors` in `code`.
    def code(e):
        return e.get("extensions", {}).get("code") or e.get("code") or "ERROR"

    return "; ".join(f"{code(e)}: {e['message']}" for e in errors)


def gql(name, variables=None, token=None):
    """One GraphQL request over HTTP. Failures come back in `errors` (usually with HTTP 200),
    each with `extensions.code` (UNAUTHENTICATED, NOT_FOUND, ...), so check that."""
    headers = {"content-type": "application/json"}
    if token:
        headers["authorization"] = f"Bearer {token}"
    body = json.dumps({"query": op(name), "variables": variables or {}}).encode()
    request = urllib.request.Request(f"{BASE}/graphql", data=body, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            result = json.load(response)
    except urllib.error.HTTPError as e:
        raise ApiError(f"{name}: HTTP {e.code} {e.read().decode()}") from None
    if result.get("errors"):
        raise ApiError(f"{name}: {format_errors(result['errors'])}")
    return result["data"]


def signed(decimal):
    # Decimals arrive as strings ("-0.05"); keep them as strings, only add the plus sign.
    return decimal if decimal.startswith("-") else f"+{decimal}"


def clock(iso):
    return datetime.fromisoformat(iso).astimezone().strftime("%H:%M:%S")  # local time


def format_market(s):
    change_at = s["nextClose"] if s["isOpen"] else s["nextOpen"]  # null while an override holds
    upcoming = change_at and f"{'closes' if s['isOpen'] else 'opens'} {change_at}"
    parts = [f"market {'OPEN' if s['isOpen'] else 'CLOSED'}", s["reason"], upcoming]
    return " | ".join(p for p in parts if p)


async def send(ws, **message):
    await ws.send(json.dumps(message))


async def follow(token, symbols):
    url = BASE.replace("http", "ws", 1) + "/graphql/ws"
    async with connect(url, subprotocols=["graphql-transport-ws"]) as ws:
        # The token goes in connection_init, not in a header. The server answers connection_ack,
        # or closes the socket with 4403 when the token is bad or expired.
        await send(ws, type="connection_init", payload={"authorization": f"Bearer {token}"})
        ack = json.loads(await asyncio.wait_for(ws.recv(), timeout=10))
        if ack["type"] != "connection_ack":
            raise ApiError(f"expected connection_ack, got {ack}")

        # Ids are ours to choose; every message about a subscription carries its id.
        await send(ws, id="market", type="subscribe", payload={"query": op("MarketState")})
        await send(ws, id="ticks", type="subscribe",
                   payload={"query": op("Ticks"), "variables": {"symbols": symbols}})

        batches = 0
        last_seq = None
        async for raw in ws:
            message = json.loads(raw)
            match message:
                case {"type": "ping"}:
                    await send(ws, type="pong")  # the protocol's keep-alive
                case {"type": "next", "id": sub_id, "payload": payload}:
                    # Resolver errors (e.g. an unknown symbol) arrive as `next` with `errors`.
                    if payload.get("errors"):
                        raise ApiError(f"{sub_id}: {format_errors(payload['errors'])}")
                    if sub_id == "market":
                        print(format_market(payload["data"]["marketState"]), flush=True)
                        continue
                    batch = payload["data"]["ticks"]
                    # Rounds are numbered one by one: a jump means some were missed.
                    if last_seq is not None and batch["seq"] > last_seq + 1:
                        print(f"(missed {batch['seq'] - last_seq - 1} rounds)", flush=True)
                    last_seq = batch["seq"]
                    quotes = "  ".join(
                        f"{s['symbol']} {s['price']} {signed(s['changePercent'])}%" for s in batch["stocks"]
                    )
                    print(f"{clock(batch['at'])}  {quotes}", flush=True)
                    batches += 1
                    if batches >= COUNT:
                        break
                case {"type": "error", "id": sub_id, "payload": errors}:
                    # Request errors (an invalid document or variables) end that subscription.
                    raise ApiError(f"{sub_id}: {format_errors(errors)}")
                case {"type": "complete", "id": sub_id}:
                    raise ApiError(f"{sub_id}: the server ended the subscription")

        # Stop both subscriptions, then leaving `async with` closes the socket normally (1000).
        for sub_id in ("ticks", "market"):
            await send(ws, id=sub_id, type="complete")


def main():
    login = gql("Login", {"input": {"email": "demo@example.com", "password": "demo123"}})["login"]
    # Expected failures (here: malformed input) come back as data, with the token null.
    if login["userErrors"]:
        raise ApiError(f"Login: {format_errors(login['userErrors'])}")
    print(f"logged in as {login['user']['email']} ({login['user']['role']})")

    stocks = {s["symbol"]: s for s in gql("Stocks", token=login["accessToken"])["stocks"]}
    unknown = [sym for sym in SYMBOLS if sym not in stocks]
    if unknown:
        raise ApiError(f"unknown symbol {', '.join(unknown)}; have {', '.join(stocks)}")
    picked = [stocks[sym] for sym in SYMBOLS]
    print("  ".join(f"{s['symbol']}={s['id']} {s['price']}" for s in picked))

    asyncio.run(follow(login["accessToken"], SYMBOLS))


if __name__ == "__main__":
    try:
        main()
    except ApiError as e:
        sys.exit(str(e))
    except ConnectionClosed as e:
        sys.exit(f"socket closed {e.rcvd.code} {e.rcvd.reason}" if e.rcvd else str(e))
    except WebSocketException as e:  # e.g. the upgrade was refused
        sys.exit(f"websocket: {e}")
    except (urllib.error.URLError, OSError) as e:
        sys.exit(f"cannot reach {BASE}: {getattr(e, 'reason', e)}")
    except KeyboardInterrupt:
        sys.exit(130)
