// Both programs against a live server (ZEBRAT_URL), each with an account of its own: the
// values are checked, not only that nothing threw. `ZEBRAT_EXPECT_OPEN=1` (client-examples/
// ci.sh sets it; the server there holds the market open) fails a run that finds the market
// closed instead of checking the queued path.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { apolloApi } from '../src/apollo.js';
import { type GraphQLApi, Session } from '../src/api.js';
import { type FlowReport, runFlow } from '../src/flow.js';
import { urqlApi } from '../src/urql.js';

const SYMBOLS = ['AAPL', 'MSFT'];
const expectOpen = process.env.ZEBRAT_EXPECT_OPEN === '1';

/** Exact money: a Decimal string with at most 2 decimals, in cents. */
function cents(amount: string): bigint {
  const match = /^(-?)(\d+)(?:\.(\d{1,2}))?$/.exec(amount);
  assert.ok(match, `not a money amount with at most 2 decimals: ${amount}`);
  const value = BigInt(match[2]!) * 100n + BigInt((match[3] ?? '').padEnd(2, '0'));
  return match[1] ? -value : value;
}

function checkReport(r: FlowReport): void {
  // Login and refresh: each gave a new refresh token; the refreshed access token works.
  assert.equal(r.wrongPasswordCode, 'UNAUTHENTICATED');
  assert.equal(new Set(r.refreshTokens).size, 3, 'register, login and refresh each gave a new refresh token');
  assert.equal(r.viewerId, r.user.id, 'the refreshed token is the same user');
  assert.equal(cents(r.deposited.balance), cents(r.deposited.amount), 'a new account starts at 0');

  // The quote is consistent with itself.
  assert.equal(cents(r.quote.estimatedTotal), cents(r.quote.price) * 3n);
  assert.equal(r.quote.problemCode, null);
  if (expectOpen) assert.equal(r.quote.marketOpen, true, 'the test server holds the market open');

  // The order, and its retry: the same order, and no money moved twice.
  assert.equal(r.placed.status, r.quote.marketOpen ? 'EXECUTED' : 'QUEUED');
  assert.equal(r.retried.id, r.placed.id);
  assert.equal(r.retried.clientOrderId, r.placed.clientOrderId);
  assert.deepEqual(r.retriedCash, r.placedCash, 'the retry changed no cash');
  assert.equal(new Set(r.orders.map((o) => o.id)).size, r.orders.length);

  // The account feed saw the first order (its retry sent nothing new for another order).
  const events = r.orderEvents.filter((e) => e.order.id === r.placed.id);
  assert.ok(events.length >= 1, 'orderUpdates reported the order');
  assert.equal(events[0]!.order.clientOrderId, r.placed.clientOrderId);
  const working = r.working;
  const ownIds = new Set([
    ...r.orders.map((o) => o.id),
    working.placed.id,
    working.replaced.order?.id,
  ]);
  assert.ok(r.orderEvents.every((e) => ownIds.has(e.order.id)), 'only this account\'s orders');

  if (r.quote.marketOpen) {
    // Executed at once: every order has its price and total, cash and positions add up exactly.
    for (const order of r.orders) {
      assert.equal(order.status, 'EXECUTED', `${order.stock.symbol}×${order.quantity}`);
      assert.equal(cents(order.total!), cents(order.price!) * BigInt(order.quantity));
    }
    const spent = r.orders.reduce((sum, o) => sum + cents(o.total!), 0n);
    assert.equal(cents(r.portfolio.cash.balance), cents(r.deposited.amount) - spent);
    assert.equal(cents(r.portfolio.cash.reserved), 0n);
    const held = new Map<string, number>();
    for (const o of r.orders) held.set(o.stock.symbol, (held.get(o.stock.symbol) ?? 0) + o.quantity);
    assert.deepEqual(
      new Map(r.portfolio.positions.map((p) => [p.stock.symbol, p.quantity])),
      held,
      'one position per stock bought, with every share',
    );
    assert.equal(cents(r.placedCash.balance), cents(r.deposited.amount) - cents(r.placed.total!));

    // Ticks: rounds in order, only the symbols asked for.
    assert.ok(r.ticks.length >= 3, `${r.ticks.length} tick rounds`);
    for (const [i, batch] of r.ticks.entries()) {
      assert.ok(batch.ticks.length > 0);
      for (const tick of batch.ticks) assert.ok(SYMBOLS.includes(tick.symbol), tick.symbol);
      if (i > 0) assert.ok(batch.seq > r.ticks[i - 1]!.seq, 'seq rises');
    }
  } else {
    // Queued: nothing bought yet, the estimated cost reserved.
    for (const order of r.orders) assert.equal(order.status, 'QUEUED');
    assert.deepEqual(r.portfolio.positions, []);
    assert.ok(cents(r.portfolio.cash.reserved) > 0n);
    assert.equal(cents(r.portfolio.cash.balance), cents(r.deposited.amount));
  }

  // Pages: disjoint, newest first, together exactly the orders placed.
  assert.equal(r.totalCount, r.orders.length);
  assert.equal(r.pages.length, Math.ceil(r.orders.length / r.pageSize));
  for (const page of r.pages.slice(0, -1)) assert.equal(page.length, r.pageSize);
  const listed = r.pages.flat();
  assert.equal(new Set(listed).size, listed.length, 'no order on two pages');
  assert.deepEqual(listed, r.orders.map((o) => o.id).reverse(), 'every order once, newest first');
}

/** The LIMIT order far from the market: OPEN with its reservation, replaced, canceled. */
function checkWorkingOrder(r: FlowReport): void {
  const w = r.working;
  assert.ok(cents(w.limit) * 2n <= cents(w.marketPrice) + 1n, `limit ${w.limit} well below ${w.marketPrice}`);
  assert.equal(w.placed.status, 'OPEN');
  assert.equal(w.placed.type, 'LIMIT');
  assert.equal(w.placed.timeInForce, 'GTC');
  assert.equal(cents(w.placed.limitPrice ?? ''), cents(w.limit));
  assert.equal(w.placed.price, null, 'not filled');
  assert.equal(cents(w.placed.reserved.cash), cents(w.limit) * 2n, 'a limit buy holds limit × quantity');
  assert.equal(w.placed.expiresAt, null, 'GTC does not expire');

  // Replaced: the old order CANCELED and pointing at the new one, which keeps the key.
  assert.deepEqual(w.replaced.userErrors, []);
  const replacement = w.replaced.order!;
  const old = w.replaced.replacedOrder!;
  assert.equal(old.id, w.placed.id);
  assert.equal(old.status, 'CANCELED');
  assert.equal(old.replacedBy?.id, replacement.id);
  assert.equal(cents(old.reserved.cash), 0n, 'the replaced order released its reservation');
  assert.notEqual(replacement.id, w.placed.id);
  assert.equal(replacement.status, 'OPEN');
  assert.equal(replacement.quantity, 3);
  assert.equal(cents(replacement.limitPrice!), cents(w.newLimit));
  assert.equal(replacement.timeInForce, 'GTC', 'what was not changed is kept');
  assert.equal(replacement.clientOrderId, w.placed.clientOrderId);
  assert.equal(cents(replacement.reserved.cash), cents(w.newLimit) * 3n);
  assert.equal(
    cents(w.replaced.cash!.reserved) - cents(w.placedCash.reserved),
    cents(w.newLimit) * 3n - cents(w.limit) * 2n,
    'the reservation moved to the new order',
  );

  // Canceled: everything released, and the order cannot be replaced any more.
  assert.deepEqual(w.canceled.userErrors, []);
  assert.equal(w.canceled.order?.status, 'CANCELED');
  assert.ok(w.canceled.order?.canceledAt);
  assert.equal(cents(w.canceled.order!.reserved.cash), 0n);
  assert.equal(
    cents(w.canceled.cash!.reserved),
    cents(w.placedCash.reserved) - cents(w.limit) * 2n,
    'back to what the other orders hold',
  );
  assert.equal(w.replaceAfterCancelCode, 'CONFLICT');

  // The account feed heard each step: OPEN, the replaced one CANCELED, the new one OPEN, CANCELED.
  const statuses = (id: string) => r.orderEvents.filter((e) => e.order.id === id).map((e) => e.order.status);
  assert.ok(statuses(w.placed.id).includes('OPEN'), `placed: ${statuses(w.placed.id)}`);
  assert.ok(statuses(w.placed.id).includes('CANCELED'), `replaced: ${statuses(w.placed.id)}`);
  assert.deepEqual(statuses(replacement.id).slice(-1), ['CANCELED']);
}

async function flow(make: (session: Session) => GraphQLApi): Promise<void> {
  const session = new Session();
  const api = make(session);
  try {
    const report = await runFlow(api, session, { symbols: SYMBOLS, tickRounds: 3 });
    checkReport(report);
    checkWorkingOrder(report);
  } finally {
    await api.close();
  }
}

test('Apollo Client: login, refresh, deposit, quote, idempotent order, feeds, portfolio, pages, a limit order replaced and canceled', () => flow(apolloApi));

test('urql: login, refresh, deposit, quote, idempotent order, feeds, portfolio, pages, a limit order replaced and canceled', () => flow(urqlApi));
