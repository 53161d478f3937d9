// Live ticker: logs in over HTTP, shows the stocks' prices, then follows ticks and the market state
// over WebSocket with graphql-ws. Exits after COUNT tick batches.
//
//   ZEBRAT_URL=http://localhost:8000 COUNT=5 SYMBOLS=AAPL,MSFT,NVDA node ticker.mjs
import { readFileSync } from 'node:fs';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';

const BASE = (process.env.ZEBRAT_URL ?? 'http://localhost:8000').replace(/\/+$/, '');
const COUNT = Number(process.env.COUNT ?? 5);
const SYMBOLS = (process.env.SYMBOLS ?? 'AAPL,MSFT,NVDA').split(',');

// Every document lives in ../operations, so all the examples send the same schema-checked text.
const op = (name) => readFileSync(new URL(`../operations/${name}.graphql`, import.meta.url), 'utf8');

// One GraphQL request over HTTP. GraphQL reports failures in `errors` (usually with HTTP 200),
// each with `extensions.code` (UNAUTHENTICATED, NOT_FOUND, ...), so check that, not the status.
async function gql(name, variables = {}, token = undefined) {
  const res = await fetch(`${BASE}/graphql`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(token && { authorization: `Bearer ${token}` }),
    },
    body: JSON.stringify({ query: op(name), variables }),
  });
  if (!res.headers.get('content-type')?.includes('json')) {
    throw new Error(`${name}: HTTP ${res.status} ${await res.text()}`);
  }
  const { data, errors } = await res.json();
  if (errors) throw new Error(`${name}: ${formatErrors(errors)}`);
  return data;
}

// GraphQL errors carry their code in `extensions.code`; a payload's `userErrors` in `code`.
const formatErrors = (errors) =>
  errors.map((e) => `${e.extensions?.code ?? e.code ?? 'ERROR'}: ${e.message}`).join('; ');

// Decimals arrive as strings ("-0.05"); keep them as strings, only add the plus sign.
const signed = (d) => (d.startsWith('-') ? d : `+${d}`);
const clock = (iso) => new Date(iso).toLocaleTimeString('en-GB'); // local HH:MM:SS

function formatMarket(s) {
  const next = s.isOpen ? s.nextClose && `closes ${s.nextClose}` : s.nextOpen && `opens ${s.nextOpen}`;
  return [`market ${s.isOpen ? 'OPEN' : 'CLOSED'}`, s.reason, next].filter(Boolean).join(' | ');
}

async function main() {
  const { login } = await gql('Login', {
    input: { email: 'demo@example.com', password: 'demo123' },
  });
  // Expected failures (here: malformed input) come back as data, with the token null.
  if (login.userErrors.length) throw new Error(`Login: ${formatErrors(login.userErrors)}`);
  console.log(`logged in as ${login.user.email} (${login.user.role})`);

  const { stocks } = await gql('Stocks', {}, login.accessToken);
  const picked = SYMBOLS.map((sym) => {
    const stock = stocks.find((s) => s.symbol === sym);
    if (!stock) throw new Error(`unknown symbol ${sym}; have ${stocks.map((s) => s.symbol).join(', ')}`);
    return stock;
  });
  console.log(picked.map((s) => `${s.symbol}=${s.id} ${s.price}`).join('  '));

  const client = createClient({
    url: `${BASE.replace(/^http/, 'ws')}/graphql/ws`,
    webSocketImpl: WebSocket, // Node 20 has no global WebSocket
    // Sent in connection_init. A function is called again on every reconnect, so a client
    // that refreshes its access token would return the current one here.
    connectionParams: () => ({ authorization: `Bearer ${login.accessToken}` }),
    // The server closes with 4403 for a bad or expired token. graphql-ws would retry that
    // (5 times, ~40 s) with the same token; fail at once instead. Other closes still retry.
    shouldRetry: (event) => typeof event?.code === 'number' && event.code !== 4403,
  });

  // Callback style: runs alongside the ticks loop below on the same socket.
  const stopMarket = client.subscribe(
    { query: op('MarketState') },
    {
      next: ({ data, errors }) => console.log(errors ? formatErrors(errors) : formatMarket(data.marketState)),
      error: (err) => console.error('marketState failed:', describe(err)),
      complete: () => {},
    },
  );

  // Async-iterator style: `break` sends `complete` for this subscription.
  try {
    let batches = 0;
    let lastSeq;
    const ticks = client.iterate({ query: op('Ticks'), variables: { symbols: SYMBOLS } });
    for await (const { data, errors } of ticks) {
      if (errors) throw new Error(formatErrors(errors));
      const { seq, at, stocks: moved } = data.ticks;
      // Rounds are numbered one by one: a jump means some were missed (e.g. a reconnect).
      if (lastSeq !== undefined && seq > lastSeq + 1) console.log(`(missed ${seq - lastSeq - 1} rounds)`);
      lastSeq = seq;
      const line = moved.map((s) => `${s.symbol} ${s.price} ${signed(s.changePercent)}%`).join('  ');
      console.log(`${clock(at)}  ${line}`);
      if (++batches >= COUNT) break;
    }
  } finally {
    stopMarket();
    await client.dispose(); // closes the socket with 1000, so the process can exit
  }
}

// graphql-ws rejects with a CloseEvent (socket closed, e.g. 4403 for a bad token), an array of
// GraphQL errors (the server's `error` message), or an Error.
function describe(err) {
  if (Array.isArray(err)) return formatErrors(err);
  if (err && typeof err.code === 'number') return `socket closed ${err.code} ${err.reason}`;
  if (err?.cause) return `${err.message}: ${err.cause.message}`; // fetch hides the reason here
  return err?.message ?? String(err);
}

main().catch((err) => {
  console.error(describe(err));
  process.exit(1);
});
