// The `graphql-sse` client against a live server (`cargo test --test it sse::` starts one with
// the market open and a tick round a second): ticks, orders, the account feed, a refused
// token, and the single-connection mode.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { NetworkError } from 'graphql-sse';

import { gql, login, sseClient, take } from '../client.mjs';

const DEMO = {
  email: process.env.ZEBRAT_DEMO_EMAIL ?? 'demo@example.com',
  password: process.env.ZEBRAT_DEMO_PASSWORD ?? 'demo123',
};

const TICKS = `subscription Ticks($symbols: [String!]) {
  ticks(symbols: $symbols) { seq stocks { id symbol price } }
}`;
const ORDER_UPDATES = `subscription OrderUpdates {
  orderUpdates { order { id status clientOrderId } }
}`;
const PLACE_ORDER = `mutation PlaceOrder($input: PlaceOrderInput!) {
  placeOrder(input: $input) { order { id status clientOrderId } userErrors { code message } }
}`;

test('ticks arrive as next events', async () => {
  const client = sseClient();
  try {
    const [first, second] = await take(client, { query: TICKS, variables: { symbols: ['AAPL'] } }, 2);
    assert.equal(first.errors, undefined, JSON.stringify(first.errors));
    assert.equal(first.data.ticks.stocks[0].symbol, 'AAPL');
    assert.match(first.data.ticks.stocks[0].price, /^\d+\.\d{2}$/, 'money is a string');
    assert.ok(second.data.ticks.seq > first.data.ticks.seq, 'rounds in order');
  } finally {
    client.dispose();
  }
});

test('an order placed over SSE shows on the account feed', async () => {
  const token = await login(DEMO.email, DEMO.password);
  const client = sseClient({ token: () => token });
  try {
    const updates = client.iterate({ query: ORDER_UPDATES });
    // The feed starts when its stream opens; give it a moment before the order.
    const first = updates.next();
    await new Promise((r) => setTimeout(r, 300));
    const clientOrderId = randomUUID();
    const [placed] = await take(client, {
      query: PLACE_ORDER,
      variables: { input: { stock: { symbol: 'AAPL' }, side: 'BUY', quantity: 1, clientOrderId } },
    });
    const payload = placed.data.placeOrder;
    assert.deepEqual(payload.userErrors, []);
    assert.equal(payload.order.clientOrderId, clientOrderId);
    const { value } = await first;
    assert.equal(value.data.orderUpdates.order.id, payload.order.id);
    await updates.return();
  } finally {
    client.dispose();
  }
});

test('a bad token is refused with 401 before any event', async () => {
  const client = sseClient({ token: () => 'forged', retryAttempts: 0 });
  try {
    await assert.rejects(take(client, { query: TICKS }), (err) => {
      assert.ok(err instanceof NetworkError, String(err));
      assert.equal(err.response?.status, 401);
      return true;
    });
    const anonymous = sseClient({ retryAttempts: 0 });
    await assert.rejects(take(anonymous, { query: ORDER_UPDATES }), (err) => err.response?.status === 401);
    anonymous.dispose();
  } finally {
    client.dispose();
  }
});

test('single-connection mode carries several operations on one stream', async () => {
  const token = await login(DEMO.email, DEMO.password);
  const client = sseClient({ token: () => token, singleConnection: true });
  try {
    const [ticks, me, state] = await Promise.all([
      take(client, { query: TICKS, variables: { symbols: ['MSFT'] } }, 2),
      take(client, { query: '{ me { email } }' }),
      take(client, { query: 'subscription { marketState { isOpen } }' }),
    ]);
    assert.equal(ticks[1].data.ticks.stocks[0].symbol, 'MSFT');
    assert.equal(me[0].data.me.email, DEMO.email);
    assert.equal(state[0].data.marketState.isOpen, true);
  } finally {
    client.dispose();
  }
});

test('plain HTTP still answers JSON', async () => {
  const data = await gql('{ marketState { isOpen } }');
  assert.equal(data.marketState.isOpen, true);
});
