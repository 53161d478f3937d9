#!/usr/bin/env python3
"""The trading flow with the `gql` library: register a fresh account, log in, refresh the
token, deposit, quote and place an order with a clientOrderId (and retry it: the same order
comes back), follow `orderUpdates` and `ticks` over graphql-ws, print the portfolio, and page
through the orders with their cursors.

    ZEBRAT_URL=http://localhost:8000 python trading.py

Every document is validated against schema/schema.graphql before it is sent, and money
(`Decimal` in the schema) arrives as `decimal.Decimal` and is sent as a string.
"""

import asyncio
import sys
import uuid
from decimal import Decimal
from typing import Any, Callable

from gql import Client, GraphQLRequest
from gql.transport.aiohttp import AIOHTTPTransport
from gql.transport.exceptions import TransportQueryError
from gql.transport.websockets import WebsocketsTransport

from common import http_url, load_schema, ws_url

CASH = "fragment CashFields on Cash { id balance reserved available }"
ORDER = "fragment OrderFields on Order { id clientOrderId status side quantity price total stock { symbol } }"
USER_ERRORS = "userErrors { field code message }"

REGISTER = f"""mutation Register($input: RegisterInput!) {{
  register(input: $input) {{ accessToken refreshToken user {{ id email role }} {USER_ERRORS} }}
}}"""
LOGIN = f"""mutation Login($input: LoginInput!) {{
  login(input: $input) {{ accessToken refreshToken user {{ id email }} {USER_ERRORS} }}
}}"""
REFRESH = f"""mutation RefreshToken($token: String!) {{
  refreshToken(input: {{ token: $token }}) {{ accessToken refreshToken {USER_ERRORS} }}
}}"""
VIEWER = "query Viewer { viewer { id email } }"
DEPOSIT = f"""mutation Deposit($amount: Decimal!, $key: String) {{
  deposit(input: {{ amount: $amount, idempotencyKey: $key }}) {{ cash {{ ...CashFields }} {USER_ERRORS} }}
}}
{CASH}"""
QUOTE = """query Quote($input: QuoteInput!) {
  quote(input: $input) { price estimatedTotal cashAfter marketOpen executesNow problem problemCode }
}"""
PLACE_ORDER = f"""mutation PlaceOrder($input: PlaceOrderInput!) {{
  placeOrder(input: $input) {{
    order {{ ...OrderFields }}
    trade {{ id price quantity }}
    cash {{ ...CashFields }}
    {USER_ERRORS}
  }}
}}
{ORDER}
{CASH}"""
PORTFOLIO = f"""query Portfolio {{
  portfolio {{
    totalValue unrealizedPnl
    cash {{ ...CashFields }}
    positions {{ id quantity averageCost marketValue stock {{ symbol }} }}
  }}
}}
{CASH}"""
ORDERS = f"""query Orders($first: Int!, $after: String) {{
  orders(first: $first, after: $after) {{
    totalCount
    edges {{ cursor node {{ ...OrderFields }} }}
    pageInfo {{ hasNextPage endCursor }}
  }}
}}
{ORDER}"""
ORDER_UPDATES = f"""subscription OrderUpdates {{
  orderUpdates {{ order {{ ...OrderFields }} trade {{ id price quantity }} }}
}}
{ORDER}"""
TICKS = """subscription Ticks($symbols: [String!]) {
  ticks(symbols: $symbols) { seq at ticks { symbol price change changePercent } }
}"""

DEPOSIT_AMOUNT = Decimal("10000.00")
PAGE_SIZE = 2


class ApiError(Exception):
    """A failed operation with the server's code: `extensions.code` of a GraphQL error
    (UNAUTHENTICATED, RATE_LIMITED, …) or a payload's userErrors code (INSUFFICIENT_FUNDS, …)."""

    def __init__(self, code: str, message: str):
        super().__init__(f"{code}: {message}")
        self.code = code


class Api:
    """One HTTP client for queries and mutations, the access token added per request."""

    def __init__(self) -> None:
        self.schema = load_schema()
        self.access_token: str | None = None
        self.refresh_token: str | None = None
        self.client = Client(
            transport=AIOHTTPTransport(url=http_url()),
            schema=self.schema,  # validate documents before sending them
            serialize_variables=True,  # Decimal variables go out as strings
            parse_results=True,  # Decimal fields come back as decimal.Decimal
        )
        self.session: Any = None

    async def __aenter__(self) -> "Api":
        self.session = await self.client.connect_async()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.client.close_async()

    def auth(self) -> dict[str, str]:
        return {"authorization": f"Bearer {self.access_token}"} if self.access_token else {}

    async def run(self, document: str, **variables: Any) -> dict[str, Any]:
        request = GraphQLRequest(document, variable_values=variables or None)
        try:
            return await self.session.execute(request, extra_args={"headers": self.auth()})
        except TransportQueryError as error:
            first = (error.errors or [{}])[0]
            raise ApiError(first.get("extensions", {}).get("code", "ERROR"), first.get("message", str(error))) from None

    def feeds(self) -> Client:
        """A graphql-ws client for the live feeds: the token goes in `connection_init`, so a
        socket lives no longer than its token (the server closes it with 4401 when it
        expires): reconnect with a fresh one."""
        transport = WebsocketsTransport(
            url=ws_url(),
            subprotocols=[WebsocketsTransport.GRAPHQLWS_SUBPROTOCOL],
            init_payload=self.auth(),
            ping_interval=10,
        )
        return Client(transport=transport, schema=self.schema, parse_results=True)


def check(what: str, payload: dict[str, Any]) -> dict[str, Any]:
    """Expected failures of a mutation are data: raise them like errors in a script."""
    if payload["userErrors"]:
        first = payload["userErrors"][0]
        raise ApiError(first["code"], f"{what}: {first['message']}")
    return payload


async def wait_until(done: Callable[[], bool], seconds: float, what: str) -> None:
    deadline = asyncio.get_running_loop().time() + seconds
    while not done():
        if asyncio.get_running_loop().time() > deadline:
            raise TimeoutError(f"timed out after {seconds} s waiting for {what}")
        await asyncio.sleep(0.05)


async def run_flow(symbols: list[str] | None = None, tick_rounds: int = 3, log: Callable[[str], None] = print) -> dict[str, Any]:
    """Runs the flow and returns what it saw, for the tests to check."""
    symbols = symbols or ["AAPL", "MSFT"]
    run = uuid.uuid4().hex[:8]
    report: dict[str, Any] = {}
    async with Api() as api:
        # 1. A fresh account per run.
        email, password = f"py-{run}@example.com", f"correct horse {run}"
        registered = check("register", (await api.run(REGISTER, input={"email": email, "password": password, "name": "Py"}))["register"])
        report["user"] = registered["user"]
        report["refresh_tokens"] = [registered["refreshToken"]]
        log(f"registered {email} ({registered['user']['role']})")

        # 2. Log in; wrong credentials are a top-level error with a code.
        try:
            await api.run(LOGIN, input={"email": email, "password": "not the password"})
        except ApiError as error:
            report["wrong_password_code"] = error.code
        login = check("login", (await api.run(LOGIN, input={"email": email, "password": password}))["login"])
        api.access_token, api.refresh_token = login["accessToken"], login["refreshToken"]
        report["refresh_tokens"].append(api.refresh_token)
        log(f"logged in (a wrong password answered {report['wrong_password_code']})")

        # 3. Refresh before the access token (15 minutes) runs out; keep the new refresh token.
        refreshed = check("refreshToken", (await api.run(REFRESH, token=api.refresh_token))["refreshToken"])
        api.access_token, api.refresh_token = refreshed["accessToken"], refreshed["refreshToken"]
        report["refresh_tokens"].append(api.refresh_token)
        report["viewer"] = (await api.run(VIEWER))["viewer"]
        log(f"refreshed the token; viewer is {report['viewer']['email']}")

        # 4. Play money, with an idempotency key.
        deposit = check("deposit", (await api.run(DEPOSIT, amount=DEPOSIT_AMOUNT, key=f"deposit-{run}"))["deposit"])
        report["deposit_cash"] = deposit["cash"]
        log(f"deposited {DEPOSIT_AMOUNT}: balance {deposit['cash']['balance']}")

        # 5. The live feeds, both on one socket.
        order_events: list[dict[str, Any]] = []
        ticks: list[dict[str, Any]] = []
        async with api.feeds() as feeds:

            async def follow(document: str, sink: list[dict[str, Any]], field: str, **variables: Any) -> None:
                async for data in feeds.subscribe(GraphQLRequest(document, variable_values=variables or None)):
                    sink.append(data[field])

            tasks = [
                asyncio.create_task(follow(ORDER_UPDATES, order_events, "orderUpdates")),
                asyncio.create_task(follow(TICKS, ticks, "ticks", symbols=symbols)),
            ]

            def feeds_failed() -> bool:
                for task in tasks:
                    if task.done():
                        task.result()  # raises the feed's error
                        raise RuntimeError("a feed ended")
                return False

            try:
                # 6. Preview the order.
                first = {"stock": {"symbol": "AAPL"}, "side": "BUY", "quantity": 3}
                quote = (await api.run(QUOTE, input=first))["quote"]
                report["quote"] = quote
                log(
                    f"quote: BUY 3 AAPL at {quote['price']} = {quote['estimatedTotal']}, cash after {quote['cashAfter']}, "
                    + ("executes now" if quote["executesNow"] else f"does not execute now ({quote['problem'] or 'market closed: it would queue'})")
                )
                # The first tick round shows the socket's subscriptions are live.
                if quote["marketOpen"]:
                    await wait_until(lambda: feeds_failed() or len(ticks) > 0, 30, "the first tick round")
                else:
                    await asyncio.sleep(0.5)

                # 7. Place it with a clientOrderId, and retry as after a lost answer.
                client_order_id = f"order-{run}-1"
                placed = check("placeOrder", (await api.run(PLACE_ORDER, input={**first, "clientOrderId": client_order_id}))["placeOrder"])
                retried = check("placeOrder", (await api.run(PLACE_ORDER, input={**first, "clientOrderId": client_order_id}))["placeOrder"])
                if retried["order"]["id"] != placed["order"]["id"]:
                    raise RuntimeError(f"the retry placed another order: {retried['order']['id']}")
                report["placed"], report["retried"] = placed, retried
                order = placed["order"]
                log(f"order {order['id']} {order['status']}" + (f" at {order['price']}" if order["price"] else "") + f"; the retry with {client_order_id} answered the same order")

                orders = [order]
                for symbol, quantity in [("MSFT", 1), ("AAPL", 1), ("NVDA", 2), ("MSFT", 2)]:
                    more = {"stock": {"symbol": symbol}, "side": "BUY", "quantity": quantity, "clientOrderId": f"order-{run}-{len(orders) + 1}"}
                    orders.append(check("placeOrder", (await api.run(PLACE_ORDER, input=more))["placeOrder"])["order"])
                report["orders"] = orders
                log(f"placed {len(orders)} orders: " + ", ".join(f"{o['stock']['symbol']}x{o['quantity']} {o['status']}" for o in orders))

                # 8. The feeds.
                await wait_until(lambda: feeds_failed() or any(e["order"]["id"] == order["id"] for e in order_events), 15, "orderUpdates")
                if quote["marketOpen"]:
                    await wait_until(lambda: feeds_failed() or len(ticks) >= tick_rounds, 60, f"{tick_rounds} tick rounds")
                    last = ticks[-1]
                    log(f"{len(ticks)} tick rounds, the last #{last['seq']}: " + "  ".join(f"{t['symbol']} {t['price']}" for t in last["ticks"]))
                else:
                    log("the market is closed: no ticks until it opens")
            finally:
                for task in tasks:
                    task.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)
        report["order_events"], report["ticks"] = order_events, ticks

        # 9. The portfolio.
        portfolio = (await api.run(PORTFOLIO))["portfolio"]
        report["portfolio"] = portfolio
        positions = ", ".join(f"{p['stock']['symbol']} {p['quantity']} @ {p['averageCost']} = {p['marketValue']}" for p in portfolio["positions"])
        log(f"portfolio {portfolio['totalValue']}: cash {portfolio['cash']['balance']} ({portfolio['cash']['reserved']} reserved); {positions or 'no positions yet'}")

        # 10. The orders, page by page.
        pages: list[list[str]] = []
        after = None
        while True:
            page = (await api.run(ORDERS, first=PAGE_SIZE, after=after))["orders"]
            pages.append([edge["node"]["id"] for edge in page["edges"]])
            if not page["pageInfo"]["hasNextPage"]:
                break
            after = page["pageInfo"]["endCursor"]
        report["pages"], report["total_count"], report["page_size"] = pages, page["totalCount"], PAGE_SIZE
        log(f"{page['totalCount']} orders in {len(pages)} pages of {PAGE_SIZE}")
    return report


if __name__ == "__main__":
    try:
        asyncio.run(run_flow())
    except ApiError as error:
        print(error, file=sys.stderr)
        sys.exit(1)
