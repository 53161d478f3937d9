// The scenarios of issue 18, run once per cache client (test/apollo.test.mjs, test/urql.test.mjs).
// `make(token)` returns an adapter (lib/apollo.mjs, lib/urql.mjs): query (network), read (cache
// only), mutate, watch (a cache-only view, as a screen holds one), subscribe, network (the log
// of every operation that left the process), close.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import {
  ADMIN_IDS,
  CASH_Q,
  CUSTOMER_IDS,
  HOLIDAY_M,
  NODES_Q,
  NODE_Q,
  ORDERS_Q,
  PLACE_ORDER_M,
  PORTFOLIO_Q,
  STOCK_BY_NODE_Q,
  STOCK_Q,
  TICKS_S,
  USERS_CASH_Q,
  USER_CASH_Q,
} from './operations.mjs';
import { ADMIN, DEMO, buy, gql, login, newCustomer, openMarket, sleep } from './server.mjs';

const TICK_WAIT_MS = Number(process.env.ZEBRAT_TICK_WAIT_MS ?? 15_000);

const money = ({ balance, available, reserved }) => ({ balance, available, reserved });
const since = (c, mark) => c.network.slice(mark).map((n) => `${n.transport}:${n.operation}`);

async function eventually(what, check, ms = 5_000) {
  const until = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > until) assert.fail(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

export function cacheSuite(label, make) {
  describe(label, () => {
    let admin;
    const clients = [];
    const client = (token) => {
      const c = make(token);
      clients.push(c);
      return c;
    };

    before(async () => {
      admin = await login(ADMIN);
      await openMarket(admin.token);
    });

    after(async () => {
      for (const c of clients) await c.close();
      const warnings = clients.flatMap((c) => c.warnings ?? []);
      assert.deepEqual(warnings, [], 'the cache logged warnings');
    });

    test('after placeOrder the cached cash, portfolio and orders reflect the order, with no refetch', async () => {
      const me = await newCustomer('trade');
      await buy(me.token, 'AAPL', 2); // a position to hold before the screen loads
      const c = client(me.token);

      const cash0 = (await c.query(CASH_Q)).cash;
      const portfolio0 = (await c.query(PORTFOLIO_Q)).portfolio;
      const orders0 = (await c.query(ORDERS_Q, { first: 10 })).orders;
      const position0 = portfolio0.positions.find((p) => p.stock.symbol === 'AAPL');
      assert.ok(position0, 'the AAPL position is in the portfolio');
      assert.equal(portfolio0.cash.id, cash0.id, 'portfolio.cash is the same Cash as `cash`');
      const cashView = c.watch(CASH_Q);
      const portfolioView = c.watch(PORTFOLIO_Q);
      await eventually('the views to read the cache', () => cashView.latest() && portfolioView.latest());

      const mark = c.network.length;
      const payload = (
        await c.mutate(
          PLACE_ORDER_M,
          { input: { stock: { symbol: 'AAPL' }, side: 'BUY', quantity: 3 } },
          c.placeOrderUpdate,
        )
      ).placeOrder;
      assert.deepEqual(payload.userErrors, []);
      assert.equal(payload.order.status, 'EXECUTED');
      assert.equal(payload.trade.order.id, payload.order.id);
      assert.equal(payload.cash.id, cash0.id, 'the payload names the same Cash');
      assert.equal(payload.position.id, position0.id, 'the payload names the same Position');

      // Read back from the cache alone.
      const cash1 = (await c.read(CASH_Q))?.cash;
      assert.ok(cash1, 'cash is answerable from the cache');
      assert.deepEqual(money(cash1), money(payload.cash));
      assert.notEqual(cash1.balance, cash0.balance, 'the buy moved the cached balance');

      const portfolio1 = (await c.read(PORTFOLIO_Q))?.portfolio;
      assert.ok(portfolio1, 'portfolio is answerable from the cache');
      assert.deepEqual(money(portfolio1.cash), money(payload.cash));
      const position1 = portfolio1.positions.find((p) => p.id === position0.id);
      assert.equal(position1.quantity, position0.quantity + 3);
      assert.equal(position1.averageCost, payload.position.averageCost);

      const orders1 = (await c.read(ORDERS_Q, { first: 10 }))?.orders;
      assert.ok(orders1, 'orders are answerable from the cache');
      assert.equal(orders1.edges[0].node.id, payload.order.id, 'the new order heads the list');
      assert.equal(orders1.edges[0].node.status, 'EXECUTED');
      assert.equal(orders1.edges[0].node.total, payload.order.total);
      assert.equal(orders1.totalCount, orders0.totalCount + 1);

      // The screen's views followed, and nothing but the mutation went out.
      await eventually('the cash view to show the new balance', () => cashView.latest()?.cash.balance === payload.cash.balance);
      await eventually('the portfolio view to show the new quantity', () =>
        portfolioView.latest()?.portfolio.positions.some((p) => p.id === position0.id && p.quantity === position0.quantity + 3),
      );
      cashView.stop();
      portfolioView.stop();
      assert.deepEqual(since(c, mark), ['http:PlaceOrder'], 'no refetch');

      // And the server agrees with the cache.
      const server = await gql(
        `{ cash { balance available reserved }
           portfolio { positions { id quantity averageCost } }
           orders(first: 10) { totalCount nodes { id status } } }`,
        {},
        me.token,
      );
      assert.deepEqual(money(cash1), server.cash);
      assert.deepEqual(
        portfolio1.positions.map((p) => [p.id, p.quantity, p.averageCost]).sort(),
        server.portfolio.positions.map((p) => [p.id, p.quantity, p.averageCost]).sort(),
      );
      assert.equal(orders1.totalCount, server.orders.totalCount);
      assert.deepEqual(
        orders1.edges.map((e) => [e.node.id, e.node.status]),
        server.orders.nodes.map((n) => [n.id, n.status]),
      );
    });

    test('after a tick round the cached stock(by: {symbol: "AAPL"}) shows the new price', async () => {
      const demo = await login(DEMO);
      const c = client(demo.token);
      const stock0 = (await c.query(STOCK_Q, { symbol: 'AAPL' })).stock;
      const view = c.watch(STOCK_Q, { symbol: 'AAPL' });
      const mark = c.network.length;

      let last = null;
      let stop;
      const moved = new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`no tick round moved AAPL off ${stock0.price} within ${TICK_WAIT_MS} ms`)),
          TICK_WAIT_MS,
        );
        stop = c.subscribe(
          TICKS_S,
          { symbols: ['AAPL'] },
          (data) => {
            const aapl = data.ticks.stocks.find((s) => s.symbol === 'AAPL');
            if (!aapl) return;
            assert.equal(aapl.id, stock0.id, 'the tick carries the same Stock');
            last = aapl;
            if (aapl.price !== stock0.price) {
              clearTimeout(timer);
              resolve();
            }
          },
          (err) => {
            clearTimeout(timer);
            reject(new Error(`ticks failed: ${JSON.stringify(err)}`));
          },
        );
      });
      try {
        await moved;
      } finally {
        stop();
      }
      await sleep(100);

      const cached = (await c.read(STOCK_Q, { symbol: 'AAPL' }))?.stock;
      assert.ok(cached, 'stock(by:) is answerable from the cache');
      assert.equal(cached.price, last.price, 'the cache holds the last tick round price');
      assert.notEqual(cached.price, stock0.price);
      assert.equal(cached.change, last.change);
      await eventually('the stock view to show the new price', () => view.latest()?.stock.price === last.price);
      view.stop();
      assert.deepEqual(since(c, mark), ['ws:Ticks'], 'only the subscription went out');
    });

    test("two users' Cash seen by an admin stay separate", async () => {
      const tag = `sep${Date.now().toString(36)}`;
      const a = await newCustomer(`${tag}-a`, '1111.00');
      const b = await newCustomer(`${tag}-b`, '2222.00');
      const own = async (who) => (await gql('{ cash { id balance available reserved } }', {}, who.token)).cash;
      const [ownA, ownB] = [await own(a), await own(b)];
      assert.notEqual(ownA.balance, ownB.balance);

      const c = client(admin.token);
      const seenA = (await c.query(USER_CASH_Q, { id: a.user.id })).user.cash;
      const seenB = (await c.query(USER_CASH_Q, { id: b.user.id })).user.cash;
      const adminCash = (await c.query(CASH_Q)).cash;
      const list = (await c.query(USERS_CASH_Q, { search: tag })).users;
      assert.equal(list.totalCount, 2);
      const mark = c.network.length;

      assert.equal(seenA.id, ownA.id, "an admin sees A's Cash under the id A sees");
      assert.equal(seenB.id, ownB.id);
      assert.equal(new Set([seenA.id, seenB.id, adminCash.id]).size, 3, 'three owners, three Cash ids');

      const readA = (await c.read(USER_CASH_Q, { id: a.user.id }))?.user.cash;
      const readB = (await c.read(USER_CASH_Q, { id: b.user.id }))?.user.cash;
      assert.ok(readA && readB, 'both users are answerable from the cache');
      assert.deepEqual(money(readA), money(ownA));
      assert.deepEqual(money(readB), money(ownB));
      const readOwn = (await c.read(CASH_Q))?.cash;
      assert.equal(readOwn.id, adminCash.id);
      assert.deepEqual(money(readOwn), money(adminCash), "the admin's own cash is untouched");

      const readList = (await c.read(USERS_CASH_Q, { search: tag }))?.users;
      const byUser = Object.fromEntries(readList.edges.map((e) => [e.node.id, money(e.node.cash)]));
      assert.deepEqual(byUser, { [a.user.id]: money(ownA), [b.user.id]: money(ownB) });
      assert.deepEqual(since(c, mark), [], 'the reads came from the cache');
    });

    test('node(id:) returns each type by its global id', async () => {
      const me = await newCustomer('node');
      await buy(me.token, 'AAPL', 1); // an Order, a Trade, a Position, and a ledger entry
      // The exchange's holidays are computed, not listed: list a day, so that there is a
      // Holiday to look up (a CONFLICT when an earlier suite on this server listed it).
      await gql(HOLIDAY_M, {}, admin.token);
      const ids = await gql(CUSTOMER_IDS, {}, me.token);
      const adminIds = await gql(ADMIN_IDS, {}, admin.token);
      const first = (list, what) => {
        assert.ok(list?.length, `the server has a ${what} to look up`);
        return list[0].id;
      };
      const mine = {
        User: ids.me.id,
        Stock: first(ids.stocks, 'Stock'),
        Cash: ids.cash.id,
        Portfolio: ids.portfolio.id,
        Position: first(ids.portfolio.positions, 'Position'),
        Order: first(ids.orders.nodes, 'Order'),
        Trade: first(ids.trades.nodes, 'Trade'),
        CashTransaction: first(ids.cashTransactions.nodes, 'CashTransaction'),
        MarketState: ids.marketState.id,
        MarketDay: first(ids.marketHours, 'MarketDay'),
        Holiday: first(ids.holidays, 'Holiday'),
        Candle: first(ids.candles.candles, 'Candle'),
      };
      const admins = {
        AdminStats: adminIds.adminStats.id,
        CandleStat: first(adminIds.candleStats, 'CandleStat'),
        AuditEntry: first(adminIds.auditLog.nodes, 'AuditEntry'),
      };
      const all = [...Object.values(mine), ...Object.values(admins)];
      assert.equal(new Set(all).size, all.length, `global ids are unique across types: ${all}`);

      for (const [token, expected] of [
        [me.token, mine],
        [admin.token, admins],
      ]) {
        const c = client(token);
        for (const [type, id] of Object.entries(expected)) {
          const { node } = await c.query(NODE_Q, { id });
          assert.deepEqual({ ...node }, { __typename: type, id }, `node(id: ${id})`);
        }
        const { nodes } = await c.query(NODES_Q, { ids: Object.values(expected) });
        assert.deepEqual(
          nodes.map((n) => [n.__typename, n.id]),
          Object.entries(expected),
          'nodes(ids:) in order',
        );
        // Read back through the fragment on the interface: needs the generated possibleTypes.
        const mark = c.network.length;
        for (const [type, id] of Object.entries(expected)) {
          const cached = (await c.read(NODE_Q, { id }))?.node;
          assert.deepEqual(cached && { ...cached }, { __typename: type, id }, `cached node(id: ${id})`);
        }
        assert.deepEqual(since(c, mark), []);
      }

      // A Stock reached through node(id:) is the Stock that stock(by:) names.
      const c = client(me.token);
      const stock = (await c.query(STOCK_Q, { symbol: ids.stocks[0].symbol })).stock;
      const viaNode = (await c.query(STOCK_BY_NODE_Q, { id: stock.id })).node;
      assert.equal(viaNode.symbol, stock.symbol);
      assert.equal((await c.read(STOCK_Q, { symbol: stock.symbol }))?.stock.price, viaNode.price);

      // Unknown: null, no error (the id is well-formed, the row does not exist).
      const unknown = Buffer.from('Stock:987654321').toString('base64');
      assert.equal((await c.query(NODE_Q, { id: unknown })).node, null);
    });
  });
}
