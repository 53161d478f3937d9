// The live server the tests talk to, and plain HTTP calls for set-up and for checking what the
// server says (these never go through a cache client, so they never touch its request count).
//
// ZEBRAT_URL                                   http base, e.g. http://127.0.0.1:8080
// ZEBRAT_ADMIN_EMAIL / ZEBRAT_ADMIN_PASSWORD   a seeded admin (admin@example.com / admin123)
// ZEBRAT_DEMO_EMAIL / ZEBRAT_DEMO_PASSWORD     a seeded customer (demo@example.com / demo123)
import { randomUUID } from 'node:crypto';

export function baseUrl() {
  const url = process.env.ZEBRAT_URL;
  if (!url) {
    throw new Error(
      'ZEBRAT_URL is not set: these tests need a live server (cargo test --test it client_caches starts one)',
    );
  }
  return url.replace(/\/+$/, '');
}

export const httpUrl = () => `${baseUrl()}/graphql`;
export const wsUrl = () => `${baseUrl().replace(/^http/, 'ws')}/graphql/ws`;

export const ADMIN = {
  email: process.env.ZEBRAT_ADMIN_EMAIL ?? 'admin@example.com',
  password: process.env.ZEBRAT_ADMIN_PASSWORD ?? 'admin123',
};
export const DEMO = {
  email: process.env.ZEBRAT_DEMO_EMAIL ?? 'demo@example.com',
  password: process.env.ZEBRAT_DEMO_PASSWORD ?? 'demo123',
};

/** One request over plain HTTP; throws on top-level errors. */
export async function gql(query, variables = {}, token = undefined) {
  const res = await fetch(httpUrl(), {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(token && { authorization: `Bearer ${token}` }),
    },
    body: JSON.stringify({ query, variables }),
  });
  const text = await res.text();
  let body;
  try {
    body = JSON.parse(text);
  } catch {
    throw new Error(`HTTP ${res.status}: ${text.slice(0, 500)}`);
  }
  if (body.errors) throw new Error(`GraphQL errors: ${JSON.stringify(body.errors)}`);
  return body.data;
}

/** Throws when a payload carries `userErrors`. */
export function ok(payload, what) {
  if (!payload) throw new Error(`${what}: no payload`);
  if (payload.userErrors?.length) {
    throw new Error(`${what}: userErrors ${JSON.stringify(payload.userErrors)}`);
  }
  return payload;
}

export async function login({ email, password }) {
  const data = await gql(
    `mutation Login($input: LoginInput!) {
       login(input: $input) { accessToken user { id databaseId email } userErrors { code message } }
     }`,
    { input: { email, password } },
  );
  const p = ok(data.login, `login ${email}`);
  return { token: p.accessToken, user: p.user };
}

/** A fresh customer (so test files never share balances), funded with `deposit` dollars. */
export async function newCustomer(tag, deposit = '10000.00') {
  const email = `cache-${tag}-${randomUUID().slice(0, 8)}@example.com`;
  const data = await gql(
    `mutation Register($input: RegisterInput!) {
       register(input: $input) { accessToken user { id databaseId email } userErrors { code message field } }
     }`,
    { input: { email, password: 'cache-test-pass-1', name: `Cache ${tag}` } },
  );
  const p = ok(data.register, `register ${email}`);
  const who = { token: p.accessToken, user: p.user };
  if (deposit) await depositCash(who.token, deposit);
  return who;
}

export async function depositCash(token, amount) {
  const data = await gql(
    `mutation Deposit($input: CashInput!) {
       deposit(input: $input) { cash { id balance } userErrors { code message } }
     }`,
    { input: { amount } },
    token,
  );
  return ok(data.deposit, `deposit ${amount}`);
}

/** Forces the market open (admin), so orders execute and tick rounds run. */
export async function openMarket(adminToken) {
  const data = await gql(
    `mutation Open {
       setMarketOverride(input: { open: true, reason: "test" }) {
         marketState { id isOpen }
         userErrors { code message }
       }
     }`,
    {},
    adminToken,
  );
  const p = ok(data.setMarketOverride, 'setMarketOverride');
  if (!p.marketState.isOpen) throw new Error(`market still closed: ${JSON.stringify(p)}`);
  return p.marketState;
}

/** Buys over plain HTTP (set-up only: the cache clients never see it). */
export async function buy(token, symbol, quantity) {
  const data = await gql(
    `mutation Buy($input: PlaceOrderInput!) {
       placeOrder(input: $input) { order { id status } userErrors { code message } }
     }`,
    { input: { stock: { symbol }, side: 'BUY', quantity } },
    token,
  );
  const p = ok(data.placeOrder, `buy ${quantity} ${symbol}`);
  if (p.order.status !== 'EXECUTED') throw new Error(`order not executed: ${JSON.stringify(p)}`);
  return p.order;
}

/** The operation name of a GraphQL request over HTTP: from a POST body or a GET query string. */
export function operationNameOf(url, init = {}) {
  try {
    if (typeof init.body === 'string') return JSON.parse(init.body).operationName ?? '?';
    return new URL(String(url)).searchParams.get('operationName') ?? '?';
  } catch {
    return '?';
  }
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
