// The trading flow both programs run, written once against GraphQLApi with the generated
// typed documents: every `data` below is typed from operations/*.graphql, so a renamed field
// or a changed type is a compile error, not a runtime surprise.
import { randomUUID } from 'node:crypto';

import { ApiError, type GraphQLApi, type Session } from './api.js';
import {
  CancelOrderDocument,
  type CancelOrderMutation,
  DepositDocument,
  LoginDocument,
  OrderUpdatesDocument,
  OrdersDocument,
  type OrdersQuery,
  type OrderFieldsFragment,
  type OrderSide,
  type OrderUpdatesSubscription,
  PlaceOrderDocument,
  type PlaceOrderMutation,
  PortfolioDocument,
  type PortfolioQuery,
  QuoteDocument,
  type QuoteQuery,
  RefreshTokenDocument,
  RegisterDocument,
  ReplaceOrderDocument,
  type ReplaceOrderMutation,
  type TicksSubscription,
  TicksDocument,
  ViewerDocument,
} from './gql/graphql.js';

export interface FlowOptions {
  /** The stocks whose ticks to follow (default AAPL and MSFT). */
  symbols?: string[];
  /** Tick rounds to wait for while the market is open (default 3). */
  tickRounds?: number;
  log?: (line: string) => void;
}

export interface FlowReport {
  client: string;
  user: { id: string; email: string };
  /** The code a wrong password got: UNAUTHENTICATED. */
  wrongPasswordCode: string;
  /** The refresh tokens of register, login and refresh: three sessions' worth. */
  refreshTokens: string[];
  viewerId: string;
  deposited: { amount: string; balance: string };
  quote: QuoteQuery['quote'];
  /** The first placement and its retry with the same clientOrderId. */
  placed: NonNullable<PlaceOrderMutation['placeOrder']['order']>;
  placedCash: NonNullable<PlaceOrderMutation['placeOrder']['cash']>;
  retried: NonNullable<PlaceOrderMutation['placeOrder']['order']>;
  retriedCash: NonNullable<PlaceOrderMutation['placeOrder']['cash']>;
  /** Every order placed, first one included, oldest first. */
  orders: OrderFieldsFragment[];
  orderEvents: OrderUpdatesSubscription['orderUpdates'][];
  ticks: TicksSubscription['ticks'][];
  portfolio: PortfolioQuery['portfolio'];
  /** The order ids of each page of `orders(first: pageSize)`, followed by cursors. */
  pages: string[][];
  pageSize: number;
  totalCount: number;
  /** A LIMIT buy placed far below the market, replaced, then canceled. */
  working: WorkingOrderReport;
}

export interface WorkingOrderReport {
  /** The price the limit was computed from, and the limits placed and replaced with. */
  marketPrice: string;
  limit: string;
  newLimit: string;
  placed: NonNullable<PlaceOrderMutation['placeOrder']['order']>;
  placedCash: NonNullable<PlaceOrderMutation['placeOrder']['cash']>;
  replaced: ReplaceOrderMutation['replaceOrder'];
  canceled: CancelOrderMutation['cancelOrder'];
  /** The code of replacing the canceled order: CONFLICT. */
  replaceAfterCancelCode: string;
}

const DEPOSIT = '10000.00';
const PAGE_SIZE = 2;

/** Exact money: a Decimal string (`"189.5"`) in cents. */
function cents(amount: string): bigint {
  const match = /^(\d+)(?:\.(\d{1,2}))?$/.exec(amount);
  if (!match) throw new Error(`not a price with at most 2 decimals: ${amount}`);
  return BigInt(match[1]!) * 100n + BigInt((match[2] ?? '').padEnd(2, '0'));
}

/** `percent` % of a price, rounded down to the cent (at least a cent), as a Decimal string. */
function share(price: string, percent: bigint): string {
  const value = (cents(price) * percent) / 100n;
  const c = value > 0n ? value : 1n;
  return `${c / 100n}.${(c % 100n).toString().padStart(2, '0')}`;
}

/** Waits until `done()` holds, checking every 50 ms; fails after `ms` with what it waited for. */
async function waitUntil(done: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Expected failures of a mutation are data: throw them like errors in a script. */
function check(what: string, userErrors: readonly { code: string; message: string }[]): void {
  const first = userErrors[0];
  if (first) throw new ApiError(first.code, `${what}: ${first.message}`);
}

function required<T>(value: T | null | undefined, what: string): T {
  if (value === null || value === undefined) throw new Error(`${what} is missing from the answer`);
  return value;
}

export async function runFlow(api: GraphQLApi, session: Session, options: FlowOptions = {}): Promise<FlowReport> {
  const log = options.log ?? ((line: string) => console.log(line));
  const symbols = options.symbols ?? ['AAPL', 'MSFT'];
  const tickRounds = options.tickRounds ?? 3;
  const run = randomUUID().slice(0, 8);

  // 1. A fresh account per run, so runs never see each other's orders.
  const email = `ts-${api.name.replace(/\W+/g, '-').toLowerCase()}-${run}@example.com`;
  const password = `correct horse ${run}`;
  const registered = (await api.mutate(RegisterDocument, { input: { email, password, name: `TS ${api.name}` } }))
    .register;
  check('register', registered.userErrors);
  const user = required(registered.user, 'register.user');
  const refreshTokens = [required(registered.refreshToken, 'register.refreshToken')];
  log(`[${api.name}] registered ${user.email} (${user.role})`);

  // 2. Log in. Wrong credentials are a top-level error with a code, not a userError.
  let wrongPasswordCode = '';
  try {
    await api.mutate(LoginDocument, { input: { email, password: 'not the password' } });
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    wrongPasswordCode = error.code;
  }
  const login = (await api.mutate(LoginDocument, { input: { email, password } })).login;
  check('login', login.userErrors);
  session.accessToken = required(login.accessToken, 'login.accessToken');
  session.refreshToken = required(login.refreshToken, 'login.refreshToken');
  refreshTokens.push(session.refreshToken);
  log(`[${api.name}] logged in (a wrong password answered ${wrongPasswordCode})`);

  // 3. Refresh before the access token (15 minutes) runs out. The refresh token is single use:
  // keep the new one.
  const refreshed = (await api.mutate(RefreshTokenDocument, { token: session.refreshToken })).refreshToken;
  check('refreshToken', refreshed.userErrors);
  session.accessToken = required(refreshed.accessToken, 'refreshToken.accessToken');
  session.refreshToken = required(refreshed.refreshToken, 'refreshToken.refreshToken');
  refreshTokens.push(session.refreshToken);
  const viewer = required((await api.query(ViewerDocument, {})).viewer, 'viewer');
  log(`[${api.name}] refreshed the token; viewer is ${viewer.email}`);

  // 4. Play money. The idempotency key makes a retried deposit harmless.
  const deposit = (await api.mutate(DepositDocument, { amount: DEPOSIT, idempotencyKey: `deposit-${run}` }))
    .deposit;
  check('deposit', deposit.userErrors);
  const cash = required(deposit.cash, 'deposit.cash');
  log(`[${api.name}] deposited ${DEPOSIT}: balance ${cash.balance}`);

  // 5. The live feeds, on one socket: this account's orders, and the ticks of a few stocks.
  const orderEvents: FlowReport['orderEvents'] = [];
  const ticks: FlowReport['ticks'] = [];
  const feedErrors: Error[] = [];
  const stopOrders = api.subscribe(OrderUpdatesDocument, {}, (d) => orderEvents.push(d.orderUpdates), (e) =>
    feedErrors.push(e),
  );
  const stopTicks = api.subscribe(TicksDocument, { symbols }, (d) => ticks.push(d.ticks), (e) => feedErrors.push(e));
  const feedsFailed = () => {
    if (feedErrors.length > 0) throw feedErrors[0];
    return false;
  };

  try {
    // 6. Preview the order: price, total, cash after, and whether it executes now.
    const first = { stock: { symbol: 'AAPL' }, side: 'BUY' as OrderSide, quantity: 3 };
    const quote = (await api.query(QuoteDocument, { input: first })).quote;
    log(
      `[${api.name}] quote: BUY 3 AAPL at ${quote.price} = ${quote.estimatedTotal}, cash after ${quote.cashAfter}, ` +
        (quote.executesNow ? 'executes now' : `does not execute now (${quote.problem ?? 'market closed: it would queue'})`),
    );

    // While the market is open a tick round comes every few seconds: the first one shows the
    // socket's subscriptions are live before an order is placed.
    if (quote.marketOpen) await waitUntil(() => feedsFailed() || ticks.length > 0, 30_000, 'the first tick round');
    else await new Promise((resolve) => setTimeout(resolve, 500));

    // 7. Place it with a clientOrderId, then retry exactly as a client would after a lost
    // answer: the same order comes back and nothing executes twice.
    const clientOrderId = `order-${run}-1`;
    const placedPayload = (await api.mutate(PlaceOrderDocument, { input: { ...first, clientOrderId } })).placeOrder;
    check('placeOrder', placedPayload.userErrors);
    const placed = required(placedPayload.order, 'placeOrder.order');
    const retryPayload = (await api.mutate(PlaceOrderDocument, { input: { ...first, clientOrderId } })).placeOrder;
    check('placeOrder (retry)', retryPayload.userErrors);
    const retried = required(retryPayload.order, 'placeOrder.order (retry)');
    if (retried.id !== placed.id) throw new Error(`the retry placed another order: ${retried.id} != ${placed.id}`);
    log(
      `[${api.name}] order ${placed.id} ${placed.status}${placed.price ? ` at ${placed.price}` : ''}; ` +
        `the retry with ${clientOrderId} answered the same order`,
    );

    // A few more orders, so that the order list has several pages.
    const orders = [placed];
    const more: [string, number][] = [
      ['MSFT', 1],
      ['AAPL', 1],
      ['NVDA', 2],
      ['MSFT', 2],
    ];
    for (const [symbol, quantity] of more) {
      const payload = (
        await api.mutate(PlaceOrderDocument, {
          input: { stock: { symbol }, side: 'BUY', quantity, clientOrderId: `order-${run}-${orders.length + 1}` },
        })
      ).placeOrder;
      check('placeOrder', payload.userErrors);
      orders.push(required(payload.order, 'placeOrder.order'));
    }
    log(`[${api.name}] placed ${orders.length} orders: ${orders.map((o) => `${o.stock.symbol}×${o.quantity} ${o.status}`).join(', ')}`);

    // 8. The account feed reports each order; the tick feed a round every few seconds.
    await waitUntil(
      () => feedsFailed() || orderEvents.some((e) => e.order.id === placed.id),
      15_000,
      `orderUpdates for ${placed.id}`,
    );
    if (quote.marketOpen) {
      await waitUntil(() => feedsFailed() || ticks.length >= tickRounds, 60_000, `${tickRounds} tick rounds`);
      const last = ticks[ticks.length - 1];
      log(`[${api.name}] ${ticks.length} tick rounds, the last #${last?.seq}: ${last?.ticks.map((t) => `${t.symbol} ${t.price}`).join('  ')}`);
    } else {
      log(`[${api.name}] the market is closed: no ticks until it opens`);
    }

    // 9. The portfolio at live prices.
    const portfolio = (await api.query(PortfolioDocument, {})).portfolio;
    log(
      `[${api.name}] portfolio ${portfolio.totalValue}: cash ${portfolio.cash.balance} (${portfolio.cash.reserved} reserved); ` +
        (portfolio.positions.map((p) => `${p.stock.symbol} ${p.quantity} @ ${p.averageCost} = ${p.marketValue}`).join(', ') ||
          'no positions yet'),
    );

    // 10. The order list, page by page: `after` is the previous page's `endCursor`.
    const pages: string[][] = [];
    let after: string | null = null;
    let totalCount = 0;
    for (;;) {
      const page: OrdersQuery = await api.query(OrdersDocument, { first: PAGE_SIZE, after });
      totalCount = page.orders.totalCount;
      pages.push(page.orders.edges.map((e) => e.node.id));
      if (!page.orders.pageInfo.hasNextPage) break;
      after = required(page.orders.pageInfo.endCursor, 'orders.pageInfo.endCursor');
    }
    log(`[${api.name}] ${totalCount} orders in ${pages.length} pages of ${PAGE_SIZE}`);

    // 11. A working order: a LIMIT buy at half the market price cannot fill (one round moves
    // the price at most MAX_TICK_PCT), so it stays OPEN, holding limit × quantity. Replace it
    // (a lower limit, one more share), then cancel the replacement; replacing the canceled
    // one is a CONFLICT, as it would be for an order that filled first.
    const marketPrice = (await api.query(QuoteDocument, { input: { ...first, quantity: 1 } })).quote.price;
    const limit = share(marketPrice, 50n);
    const newLimit = share(marketPrice, 40n);
    const limitPayload = (
      await api.mutate(PlaceOrderDocument, {
        input: { ...first, quantity: 2, type: 'LIMIT', limitPrice: limit, timeInForce: 'GTC', clientOrderId: `limit-${run}` },
      })
    ).placeOrder;
    check('placeOrder (LIMIT)', limitPayload.userErrors);
    const working = required(limitPayload.order, 'placeOrder.order (LIMIT)');
    log(`[${api.name}] LIMIT buy 2 AAPL at ${limit} (market ${marketPrice}): ${working.status}, reserving ${working.reserved.cash}`);
    const replaced = (
      await api.mutate(ReplaceOrderDocument, { input: { id: working.id, limitPrice: newLimit, quantity: 3 } })
    ).replaceOrder;
    check('replaceOrder', replaced.userErrors);
    const replacement = required(replaced.order, 'replaceOrder.order');
    log(`[${api.name}] replaced with 3 at ${newLimit}: ${replacement.status}, reserving ${replacement.reserved.cash}`);
    const canceled = (await api.mutate(CancelOrderDocument, { orderId: replacement.id })).cancelOrder;
    check('cancelOrder', canceled.userErrors);
    const again = (await api.mutate(ReplaceOrderDocument, { input: { id: replacement.id, limitPrice: limit } }))
      .replaceOrder;
    const replaceAfterCancelCode = again.userErrors[0]?.code ?? 'none';
    log(`[${api.name}] canceled it; replacing it again answered ${replaceAfterCancelCode}`);
    await waitUntil(
      () => feedsFailed() || orderEvents.some((e) => e.order.id === replacement.id && e.order.status === 'CANCELED'),
      15_000,
      `orderUpdates for the canceled ${replacement.id}`,
    );

    return {
      client: api.name,
      user: { id: user.id, email: user.email },
      wrongPasswordCode,
      refreshTokens,
      viewerId: viewer.id,
      deposited: { amount: DEPOSIT, balance: cash.balance },
      quote,
      placed,
      placedCash: required(placedPayload.cash, 'placeOrder.cash'),
      retried,
      retriedCash: required(retryPayload.cash, 'placeOrder.cash (retry)'),
      orders,
      orderEvents,
      ticks,
      portfolio,
      pages,
      pageSize: PAGE_SIZE,
      totalCount,
      working: {
        marketPrice,
        limit,
        newLimit,
        placed: working,
        placedCash: required(limitPayload.cash, 'placeOrder.cash (LIMIT)'),
        replaced,
        canceled,
        replaceAfterCancelCode,
      },
    };
  } finally {
    stopOrders();
    stopTicks();
  }
}

export function printReport(report: FlowReport): void {
  console.log(
    `[${report.client}] done: ${report.orders.length} orders, ${report.orderEvents.length} order updates, ` +
      `${report.ticks.length} tick rounds`,
  );
}
