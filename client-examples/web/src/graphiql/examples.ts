// The tabs GraphiQL opens with on a first visit (later visits restore the user's own tabs).

const start = `# Zebrat's GraphiQL, served by the server itself:
# it works offline. The web app is at /app.
#
# 1. Run Login below (demo@example.com / demo123;
#    admin@example.com / admin123 for admin operations).
# 2. WHERE THE TOKEN GOES: copy accessToken from the
#    result into the Headers tab below, as
#      { "Authorization": "Bearer <accessToken>" }
#    GraphiQL sends it with every request, and in
#    connection_init for subscriptions. It lives 15
#    minutes: RefreshToken trades the refresh token
#    for a new pair.
# 3. The other tabs: market data, trading, live feeds.

mutation Login {
  login(input: { email: "demo@example.com", password: "demo123" }) {
    accessToken
    refreshToken
    user { id email name role }
  }
}

mutation RefreshToken($refreshToken: String!) {
  refreshToken(input: { token: $refreshToken }) { accessToken refreshToken }
}

query Viewer {
  viewer { id email name role }
}
`;

const market = `# Market data: no token needed.
query Market {
  marketState { id isOpen emergency reason nextOpen nextClose timezone }
  stocks { id symbol name price change changePercent trend }
}

query StockPage {
  stock(by: { symbol: "AAPL" }) {
    id symbol name price open high low previousClose
    candles(interval: H1, last: 24) {
      truncated
      candles { id bucketStart open high low close tickCount isFinal }
    }
  }
}
`;

const trading = `# Trading: needs the token in the Headers tab (see the first tab).
mutation Deposit {
  deposit(input: { amount: "1000.00", idempotencyKey: "graphiql-topup-1" }) {
    cash { id balance reserved available }
    userErrors { field message code }
  }
}

query Quote {
  quote(input: { stock: { symbol: "AAPL" }, side: BUY, quantity: 2 }) {
    price estimatedTotal cashAfter sharesAfter marketOpen executesNow problem problemCode
  }
}

mutation Buy {
  placeOrder(input: { stock: { symbol: "AAPL" }, side: BUY, quantity: 2 }) {
    order { id status price total }
    trade { id price quantity }
    cash { id balance available }
    position { id quantity averageCost }
    userErrors { field message code }
  }
}

query Account {
  portfolio { id totalValue unrealizedPnl positions { id quantity marketValue stock { symbol } } }
  orders(first: 10) { totalCount nodes { id status side quantity price stock { symbol } } }
}
`;

const live = `# Live prices: runs until you stop it (one event per tick round, every 2 s while open).
subscription Ticks {
  ticks(symbols: ["AAPL", "MSFT"]) {
    seq
    at
    stocks { id symbol price change changePercent }
  }
}

# With the token in the Headers tab: your orders as they change status.
subscription OrderUpdates {
  orderUpdates { order { id status } trade { id price quantity } cash { id available } }
}
`;

export const exampleTabs = [
  { query: start, headers: '{}' },
  { query: market },
  { query: trading },
  { query: live },
];
