// A urql client with Graphcache as a trading screen would build it: the schema (introspection
// built from schema/schema.graphql) so it knows the interfaces, pagination as the only resolver,
// and no cache key of its own for types the schema gives no `id` (derived, not hand-written).
// Queries and mutations over HTTP, subscriptions over graphql-ws; every operation that leaves
// the process is logged in `network`.
import { Client, fetchExchange, getOperationName, subscriptionExchange } from '@urql/core';
import { cacheExchange } from '@urql/exchange-graphcache';
import { relayPagination } from '@urql/exchange-graphcache/extras';
import { createClient as createWsClient } from 'graphql-ws';
import WebSocket from 'ws';

import { ORDERS_Q } from './operations.mjs';
import { schemaFacts } from './schema.mjs';
import { httpUrl, operationNameOf, wsUrl } from './server.mjs';

export function makeUrql(token) {
  const { introspection, keylessTypes } = schemaFacts();
  const network = [];
  const warnings = [];

  const countingFetch = async (url, init = {}) => {
    network.push({ transport: 'http', operation: operationNameOf(url, init) });
    return fetch(url, init);
  };

  const ws = createWsClient({
    url: wsUrl(),
    webSocketImpl: WebSocket,
    connectionParams: () => ({ authorization: `Bearer ${token}` }),
    retryAttempts: 0,
  });

  const cache = cacheExchange({
    schema: introspection,
    keys: Object.fromEntries(keylessTypes.map((t) => [t, () => null])),
    resolvers: { Query: { orders: relayPagination() } },
    updates: { Mutation: { placeOrder: prependPlacedOrder } },
    logger: (severity, message) => {
      if (severity !== 'debug') warnings.push(`${severity}: ${message}`);
    },
  });

  const client = new Client({
    url: httpUrl(),
    fetch: countingFetch,
    fetchOptions: () => ({ headers: { authorization: `Bearer ${token}` } }),
    exchanges: [
      cache,
      fetchExchange,
      subscriptionExchange({
        forwardSubscription(request, operation) {
          network.push({ transport: 'ws', operation: getOperationName(operation.query) ?? '?' });
          const input = { ...request, query: request.query ?? '' };
          return {
            subscribe(sink) {
              const unsubscribe = ws.subscribe(input, sink);
              return { unsubscribe };
            },
          };
        },
      }),
    ],
  });

  const unwrap = (result, what) => {
    if (result.error) throw new Error(`${what}: ${result.error.message}`);
    return result.data;
  };
  return {
    name: 'urql Graphcache',
    client,
    network,
    warnings,
    async query(query, variables = {}) {
      const r = await client.query(query, variables, { requestPolicy: 'network-only' }).toPromise();
      return unwrap(r, 'query');
    },
    /** From the cache alone (`Client.readQuery` is cache-only); null when it can't answer. */
    async read(query, variables = {}) {
      const r = client.readQuery(query, variables, { requestPolicy: 'cache-only' });
      return r ? (unwrap(r, 'read') ?? null) : null;
    },
    async mutate(mutation, variables = {}) {
      const r = await client.mutation(mutation, variables).toPromise();
      return unwrap(r, 'mutation');
    },
    watch(query, variables = {}) {
      let latest = null;
      const sub = client
        .query(query, variables, { requestPolicy: 'cache-only' })
        .subscribe((r) => (latest = r.data ?? latest));
      return { latest: () => latest, stop: () => sub.unsubscribe() };
    },
    subscribe(query, variables, onData, onError) {
      const sub = client
        .subscription(query, variables)
        .subscribe((r) => (r.error ? onError(r.error) : onData(r.data)));
      return () => sub.unsubscribe();
    },
    placeOrderUpdate: undefined, // Graphcache runs `updates.Mutation.placeOrder`
    async close() {
      await ws.dispose();
    },
  };
}

/**
 * The one piece of cache code a normalized cache needs that no schema can give: a new order's
 * membership in the cached `orders` lists (Relay says this with `@prependEdge`). Everything
 * else the order changes (cash, position, the order itself) lands by `__typename` + `id`.
 */
function prependPlacedOrder(result, _args, cache) {
  const order = result.placeOrder?.order;
  if (!order) return;
  for (const field of cache.inspectFields('Query')) {
    if (field.fieldName !== 'orders') continue;
    const args = field.arguments ?? {};
    if (args.after || args.before) continue; // newest first: only first pages gain it
    if (args.status && args.status !== order.status) continue;
    cache.updateQuery({ query: ORDERS_Q, variables: args }, (data) => {
      if (!data?.orders || data.orders.edges.some((e) => e.node.id === order.id)) return data;
      data.orders.edges.unshift({ __typename: 'OrderEdge', cursor: '', node: order });
      data.orders.totalCount += 1;
      return data;
    });
  }
}
