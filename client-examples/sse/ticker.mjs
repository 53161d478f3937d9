// Follows live prices over Server-Sent Events (no WebSocket needed):
//
//   npm ci && node ticker.mjs AAPL MSFT
//
// Prints one line per stock per tick round until interrupted.
import { sseClient } from './client.mjs';

const symbols = process.argv.slice(2).length ? process.argv.slice(2) : ['AAPL', 'MSFT'];
const client = sseClient();
const query = `subscription Ticks($symbols: [String!]) {
  ticks(symbols: $symbols) { seq at stocks { symbol price changePercent } }
}`;

process.on('SIGINT', () => {
  client.dispose();
  process.exit(0);
});

for await (const result of client.iterate({ query, variables: { symbols } })) {
  if (result.errors) {
    console.error(result.errors);
    process.exitCode = 1;
    break;
  }
  const { seq, at, stocks } = result.data.ticks;
  for (const s of stocks) console.log(`#${seq} ${at} ${s.symbol} ${s.price} (${s.changePercent}%)`);
}
